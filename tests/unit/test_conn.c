/* The connection core with a fake owner, over socketpairs and loopback
 * TCP: every end reason is reached, reported to the owner exactly once,
 * and nothing stays on the owner's list.  Plain, TLS and accept_proxy
 * listeners, on a real event loop, against a backend the test plays. */
#include <errno.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "certs.h"
#include "clock.h"
#include "config.h"
#include "conn.h"
#include "relay.h"
#include "backend_health.h"
#include "source_limit.h"
#include "stats.h"
#include "unit.h"

static struct event_base *base;
static struct config *cfg;
static struct listener_stats stats;
static struct conn_owner owner;
static struct backend_health health[CONFIG_MAX_BACKENDS];
static struct backend_health *health_of[CONFIG_MAX_BACKENDS];
static int closed_calls;
static enum end_reason closed_why;
static int backend_l = -1;     /* the backend's listening socket */
static struct test_cert cert;

static void on_closed(struct conn_owner *o, struct conn *c,
                      enum end_reason why)
{
	ck_assert_ptr_eq(o, &owner);
	closed_calls++;
	closed_why = why;
}

/* A listening socket on 127.0.0.1:0 for the backend; returns its port. */
static int backend_listen(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);

	backend_l = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(backend_l, 0);
	ck_assert_int_eq(bind(backend_l, (struct sockaddr *)&sin, sizeof(sin)),
	                 0);
	ck_assert_int_eq(listen(backend_l, 8), 0);
	ck_assert_int_eq(getsockname(backend_l, (struct sockaddr *)&sin, &len),
	                 0);
	return ntohs(sin.sin_port);
}

/* A port nothing listens on: bound, then closed. */
static int dead_port(void)
{
	int port = backend_listen();

	close(backend_l);
	backend_l = -1;
	return port;
}

/* Load the listener from `extra` keys and its `backend` list. */
static void setup_cfg_backends(const char *backends, const char *extra)
{
	struct config_errors errs = { 0 };
	char text[2048];

	snprintf(text, sizeof(text),
	         "[listener:t]\nbind = 127.0.0.1:0\nmptcp = off\n"
	         "backend = %s\nproxy_protocol = v1\n%s", backends, extra);
	if (config_load_string(text, "conn.ini", &cfg, &errs) < 0)
		ck_abort_msg("config: %s", errs.n ? errs.msg[0] : "?");
	memset(&stats, 0, sizeof(stats));
	stats.sources = source_table_new();
	ck_assert_ptr_nonnull(stats.sources);
	memset(&owner, 0, sizeof(owner));
	memset(health, 0, sizeof(health));
	for (size_t i = 0; i < CONFIG_MAX_BACKENDS; i++)
		health_of[i] = &health[i];
	owner.base = base;
	owner.cfg = &cfg->listeners[0];
	owner.stats = &stats;
	owner.health = health_of;
	owner.closed = on_closed;
	closed_calls = 0;
}

/* The same with one backend, on `port`. */
static void setup_cfg(int port, const char *extra)
{
	char b[32];

	snprintf(b, sizeof(b), "127.0.0.1:%d", port);
	setup_cfg_backends(b, extra);
}

static void setup(void)
{
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	cfg = NULL;
}

static void teardown(void)
{
	conn_close_all(&owner, END_SHUTDOWN);
	source_table_free(stats.sources);
	stats.sources = NULL;
	config_free(cfg);
	if (backend_l >= 0)
		close(backend_l);
	backend_l = -1;
	event_base_free(base);
}

/* Start a connection on our end of a fresh pair: *client is the test's
 * end.  tcp: a loopback TCP pair (resets), else a socketpair.  peer: the
 * address the listener "accepted" from. */
static void start(int *client, int tcp, const char *peer_ip)
{
	struct sockaddr_storage peer;
	struct sockaddr_in *p4 = (struct sockaddr_in *)&peer;
	struct conn_accept a;
	struct addr bound;
	int sv[2];

	if (tcp) {
		int l = backend_l, port;
		backend_l = -1;
		port = backend_listen();
		struct sockaddr_in sin = { .sin_family = AF_INET,
		                           .sin_port = htons(port),
		                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		sv[0] = socket(AF_INET, SOCK_STREAM, 0);
		ck_assert_int_eq(connect(sv[0], (struct sockaddr *)&sin,
		                         sizeof(sin)), 0);
		sv[1] = accept4(backend_l, NULL, NULL, SOCK_NONBLOCK);
		ck_assert_int_ge(sv[1], 0);
		close(backend_l);
		backend_l = l;
	} else {
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	}
	memset(&peer, 0, sizeof(peer));
	p4->sin_family = AF_INET;
	p4->sin_port = htons(40000);
	inet_pton(AF_INET, peer_ip, &p4->sin_addr);
	ck_assert_int_eq(addr_parse("127.0.0.1:443", ADDR_ALLOW_INET, &bound,
	                            NULL, 0), 0);
	a.fd = sv[1];
	a.peer = &peer;
	a.peerlen = sizeof(*p4);
	a.bound = &bound;
	a.mptcp_listener = 0;
	ck_assert_int_eq(conn_start(&owner, &a), 0);
	*client = sv[0];
}

/* Run the loop until the connection ended (or ~3 s passed). */
static void run_until_closed(void)
{
	for (int i = 0; i < 300 && closed_calls == 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (closed_calls == 0)
			usleep(10000);
	}
}

static void run_a_while(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(2000);
	}
}

/* The backend's end of the connection the daemon made. */
static int backend_accept(void)
{
	struct pollfd p = { .fd = backend_l, .events = POLLIN };
	int fd;

	for (int i = 0; i < 100 && poll(&p, 1, 0) == 0; i++)
		run_a_while(1);
	fd = accept(backend_l, NULL, NULL);
	ck_assert_int_ge(fd, 0);
	return fd;
}

/* Read until `want` bytes or EOF, running the loop meanwhile. */
static size_t backend_read(int fd, char *buf, size_t want)
{
	size_t got = 0;

	for (int i = 0; i < 200 && got < want; i++) {
		ssize_t n = recv(fd, buf + got, want - got, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		run_a_while(1);
	}
	return got;
}

static void expect_end(enum end_reason why)
{
	run_until_closed();
	ck_assert_int_eq(closed_calls, 1);
	ck_assert_str_eq(end_reason_name(closed_why), end_reason_name(why));
	ck_assert(conn_owner_empty(&owner));
	ck_assert_uint_eq(owner.count, 0);
	ck_assert_uint_eq(stats.closed[why], 1);
	/* Reported once: nothing more comes. */
	run_a_while(5);
	ck_assert_int_eq(closed_calls, 1);
}

START_TEST(test_client_close)
{
	char buf[256];
	int c, b;

	setup_cfg(backend_listen(), "");
	start(&c, 0, "192.0.2.7");
	ck_assert_int_eq(write(c, "hello", 5), 5);
	b = backend_accept();
	ck_assert_uint_eq(backend_read(b, buf, 47), 47);
	/* The header with the peer we were given, then the bytes. */
	ck_assert_int_eq(memcmp(buf, "PROXY TCP4 192.0.2.7 127.0.0.1 40000 443"
	                             "\r\nhello", 47), 0);
	shutdown(c, SHUT_WR);
	ck_assert_uint_eq(backend_read(b, buf, sizeof(buf)), 0);   /* FIN */
	close(b);
	expect_end(END_CLIENT_CLOSE);
	ck_assert_uint_eq(stats.bytes_in, 5);
	close(c);
}
END_TEST

/* The live view sees the connection while it relays. */
START_TEST(test_live_json)
{
	char json[1024];
	int c, b, n;

	setup_cfg(backend_listen(), "");
	start(&c, 0, "192.0.2.7");
	b = backend_accept();
	ck_assert_int_eq(write(c, "abc", 3), 3);
	run_a_while(5);
	ck_assert_ptr_nonnull(conn_first(&owner));
	ck_assert_ptr_null(conn_next(conn_first(&owner)));
	n = conn_json(conn_first(&owner), clock_now_ms(), json, sizeof(json));
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(json, "\"listener\":\"t\""));
	ck_assert_ptr_nonnull(strstr(json, "\"state\":\"relaying\""));
	ck_assert_ptr_nonnull(strstr(json, "\"client\":\"192.0.2.7:40000\""));
	ck_assert_ptr_nonnull(strstr(json, "\"bytes_in\":3"));
	/* A TCP client has no path record. */
	ck_assert_ptr_nonnull(strstr(json, "\"how\":\"tcp\""));
	ck_assert_ptr_nonnull(strstr(json, "\"subflows\":null"));
	ck_assert_int_eq(conn_json(conn_first(&owner), clock_now_ms(), json, 20),
	                 -1);
	ck_assert_uint_eq(backend_read(b, json, 45), 45);   /* header, abc */
	close(c);
	close(b);
	expect_end(END_CLIENT_CLOSE);
}
END_TEST

START_TEST(test_backend_close)
{
	char buf[256];
	int c, b;

	setup_cfg(backend_listen(), "");
	start(&c, 0, "192.0.2.7");
	b = backend_accept();
	ck_assert_int_eq(write(b, "bye", 3), 3);
	shutdown(b, SHUT_WR);
	for (int i = 0; i < 100; i++) {
		run_a_while(1);
		if (recv(c, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) >= 3)
			break;
	}
	ck_assert_int_eq(read(c, buf, sizeof(buf)), 3);
	close(c);
	close(b);
	expect_end(END_BACKEND_CLOSE);
	ck_assert_uint_eq(stats.bytes_out, 3);
}
END_TEST

static void abort_socket(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

START_TEST(test_client_reset)
{
	int c, b;

	setup_cfg(backend_listen(), "");
	start(&c, 1, "192.0.2.7");
	b = backend_accept();
	run_a_while(3);
	abort_socket(c);
	expect_end(END_CLIENT_RESET);
	close(b);
}
END_TEST

START_TEST(test_backend_reset)
{
	int c, b;

	setup_cfg(backend_listen(), "");
	start(&c, 0, "192.0.2.7");
	b = backend_accept();
	run_a_while(3);
	abort_socket(b);
	expect_end(END_BACKEND_RESET);
	close(c);
}
END_TEST

START_TEST(test_idle_timeout)
{
	int c, b;

	setup_cfg(backend_listen(), "idle_timeout = 1h\n");
	start(&c, 0, "192.0.2.7");
	b = backend_accept();
	run_a_while(3);
	conn_sweep_idle(&owner, clock_now_ms() + 1000);
	ck_assert_int_eq(closed_calls, 0);      /* still fresh */
	conn_sweep_idle(&owner, clock_now_ms() + 3600 * 1000 + 1000);
	expect_end(END_IDLE_TIMEOUT);
	close(c);
	close(b);
}
END_TEST

START_TEST(test_connect_failed)
{
	int c;

	setup_cfg(dead_port(), "");
	start(&c, 0, "192.0.2.7");
	expect_end(END_CONNECT_FAILED);
	ck_assert_uint_eq(stats.connect_failures, 1);
	close(c);
}
END_TEST

/* Passive health: the first client finds the first backend dead and is
 * served by the second; the next one goes straight to the second (no
 * new failure); with backend_retry passed, one client tries the first
 * again. */
START_TEST(test_failover_skips_down)
{
	char list[64];
	int c, b, dead = dead_port(), good = backend_listen();

	snprintf(list, sizeof(list), "127.0.0.1:%d, 127.0.0.1:%d", dead,
	         good);
	setup_cfg_backends(list, "backend_retry = 100ms\n");
	for (int round = 0; round < 2; round++) {
		uint64_t connects = 0;

		start(&c, 0, "192.0.2.7");
		b = backend_accept();
		run_a_while(3);
		ck_assert_uint_eq(stats.connect_failures, 1);
		ck_assert(!health_is_up(&health[0]));
		ck_assert(health_is_up(&health[1]));
		for (int i = 0; i < HEALTH_BUCKETS; i++)
			connects += health[1].hist[i];
		ck_assert_uint_eq(connects, (uint64_t)round + 1);
		close(c);
		close(b);
		run_until_closed();
		closed_calls = 0;
	}
	/* Retry time over: the next client probes the dead one again. */
	atomic_store(&health[0].down_until_ms, 1);
	start(&c, 0, "192.0.2.7");
	b = backend_accept();
	ck_assert_uint_eq(stats.connect_failures, 2);
	ck_assert_uint_eq(health[0].failures, 2);
	close(c);
	close(b);
}
END_TEST

START_TEST(test_shutdown)
{
	int c, b;

	setup_cfg(backend_listen(), "");
	start(&c, 0, "192.0.2.7");
	b = backend_accept();
	run_a_while(3);
	conn_close_all(&owner, END_SHUTDOWN);
	expect_end(END_SHUTDOWN);
	close(c);
	close(b);
}
END_TEST

/* A socket error that is not a reset: the daemon's own failure.  The
 * client end here is a pipe, to which send(2) says ENOTSOCK. */
START_TEST(test_error)
{
	struct sockaddr_storage peer = { .ss_family = AF_INET };
	struct conn_accept a;
	struct addr bound;
	int p[2], b;

	setup_cfg(backend_listen(), "");
	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_eq(addr_parse("127.0.0.1:443", ADDR_ALLOW_INET, &bound,
	                            NULL, 0), 0);
	a.fd = p[0];
	a.peer = &peer;
	a.peerlen = sizeof(struct sockaddr_in);
	a.bound = &bound;
	a.mptcp_listener = 0;
	ck_assert_int_eq(conn_start(&owner, &a), 0);
	b = backend_accept();
	ck_assert_int_eq(write(b, "x", 1), 1);
	expect_end(END_ERROR);
	close(p[1]);
	close(b);
}
END_TEST

START_TEST(test_proxy_untrusted)
{
	int c;

	setup_cfg(backend_listen(), "accept_proxy = on\n"
	          "accept_proxy_from = 198.51.100.0/24\n");
	start(&c, 0, "192.0.2.7");
	expect_end(END_PROXY_UNTRUSTED);
	ck_assert_uint_eq(stats.accepted_tcp, 1);
	close(c);
}
END_TEST

START_TEST(test_proxy_bad_header)
{
	int c;

	setup_cfg(backend_listen(), "accept_proxy = on\n"
	          "accept_proxy_from = 192.0.2.0/24\n");
	start(&c, 0, "192.0.2.7");
	ck_assert_int_eq(write(c, "GARBAGE HEADER\r\n", 16), 16);
	expect_end(END_PROXY_BAD_HEADER);
	close(c);
}
END_TEST

START_TEST(test_proxy_timeout)
{
	int c;

	setup_cfg(backend_listen(), "accept_proxy = on\n"
	          "accept_proxy_from = 192.0.2.0/24\n"
	          "accept_proxy_timeout = 50ms\n");
	start(&c, 0, "192.0.2.7");
	ck_assert_int_eq(write(c, "PROXY TCP4 ", 11), 11);   /* a prefix */
	expect_end(END_PROXY_TIMEOUT);
	close(c);
}
END_TEST

/* A trusted header: the backend is told its addresses, and the bytes
 * behind it follow unchanged. */
START_TEST(test_proxy_forwarded)
{
	static const char hdr[] =
		"PROXY TCP4 203.0.113.9 198.51.100.1 5555 80\r\n";
	char buf[256];
	int c, b;

	setup_cfg(backend_listen(), "accept_proxy = on\n"
	          "accept_proxy_from = 192.0.2.0/24\n");
	start(&c, 0, "192.0.2.7");
	ck_assert_int_eq(write(c, hdr, sizeof(hdr) - 1),
	                 (ssize_t)sizeof(hdr) - 1);
	ck_assert_int_eq(write(c, "data", 4), 4);
	b = backend_accept();
	ck_assert_uint_eq(backend_read(b, buf, sizeof(hdr) - 1 + 4),
	                  sizeof(hdr) - 1 + 4);
	ck_assert_int_eq(memcmp(buf, hdr, sizeof(hdr) - 1), 0);
	ck_assert_int_eq(memcmp(buf + sizeof(hdr) - 1, "data", 4), 0);
	close(c);
	close(b);
	expect_end(END_CLIENT_CLOSE);
}
END_TEST

/* max_connections_per_source = 2: a third connection from the same
 * source is refused at accept (never on the owner's list), another
 * source is served, and a slot comes back when one ends. */
START_TEST(test_source_limit)
{
	struct source_key k;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int c[4];

	setup_cfg(backend_listen(), "max_connections_per_source = 2\n");
	start(&c[0], 0, "192.0.2.7");
	start(&c[1], 0, "192.0.2.7");
	ck_assert_int_eq(closed_calls, 0);
	start(&c[2], 0, "192.0.2.7");
	ck_assert_int_eq(closed_calls, 1);
	ck_assert_str_eq(end_reason_name(closed_why), "source_limit");
	ck_assert_uint_eq(stats.closed[END_SOURCE_LIMIT], 1);
	ck_assert_uint_eq(owner.count, 2);
	start(&c[3], 0, "192.0.2.8");
	ck_assert_int_eq(closed_calls, 1);
	ck_assert_uint_eq(owner.count, 3);
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	ck_assert_int_eq(source_key_make((struct sockaddr *)&sin, 32, 64, &k), 0);
	ck_assert_uint_eq(source_count(stats.sources, &k), 2);
	/* Every count is given back as the connections end. */
	conn_close_all(&owner, END_SHUTDOWN);
	ck_assert_uint_eq(source_count(stats.sources, &k), 0);
	start(&c[0], 0, "192.0.2.7");
	ck_assert_uint_eq(owner.count, 1);
	ck_assert_uint_eq(source_count(stats.sources, &k), 1);
	for (int i = 0; i < 4; i++)
		close(c[i]);
}
END_TEST

/* Behind accept_proxy the limit applies to the header's client, after
 * the header. */
START_TEST(test_source_limit_proxy)
{
	static const char hdr[] =
		"PROXY TCP4 203.0.113.9 198.51.100.1 5555 80\r\n";
	int c1, c2;

	setup_cfg(backend_listen(), "accept_proxy = on\n"
	          "accept_proxy_from = 192.0.2.0/24\n"
	          "max_connections_per_source = 1\n");
	start(&c1, 0, "192.0.2.7");
	ck_assert_int_eq(write(c1, hdr, sizeof(hdr) - 1),
	                 (ssize_t)sizeof(hdr) - 1);
	run_a_while(5);
	start(&c2, 0, "192.0.2.7");
	ck_assert_int_eq(write(c2, hdr, sizeof(hdr) - 1),
	                 (ssize_t)sizeof(hdr) - 1);
	run_until_closed();
	ck_assert_int_eq(closed_calls, 1);
	ck_assert_str_eq(end_reason_name(closed_why), "source_limit");
	ck_assert_uint_eq(owner.count, 1);
	close(c1);
	close(c2);
}
END_TEST

static void tls_cfg(int port, const char *extra)
{
	char keys[1024];

	snprintf(keys, sizeof(keys), "tls_cert = %s\ntls_key = %s\n%s",
	         cert.cert_path, cert.key_path, extra);
	setup_cfg(port, keys);
}

START_TEST(test_tls_handshake_failed)
{
	int c;

	tls_cfg(backend_listen(), "");
	start(&c, 0, "192.0.2.7");
	ck_assert_int_eq(write(c, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	expect_end(END_TLS_HANDSHAKE);
	close(c);
}
END_TEST

START_TEST(test_tls_timeout)
{
	int c;

	tls_cfg(backend_listen(), "tls_handshake_timeout = 50ms\n");
	start(&c, 0, "192.0.2.7");
	expect_end(END_TLS_TIMEOUT);
	close(c);
}
END_TEST

/* A client SSL on the test's end c, its handshake with the connection
 * done (the loop run meanwhile). */
static SSL *tls_client(SSL_CTX *cctx, int c)
{
	SSL *cli = SSL_new(cctx);
	int r = -1;

	ck_assert_int_eq(fcntl(c, F_SETFL, O_NONBLOCK), 0);
	SSL_set_fd(cli, c);
	SSL_set_connect_state(cli);
	for (int i = 0; i < 300 && r != 1; i++) {
		r = SSL_do_handshake(cli);
		run_a_while(1);
	}
	ck_assert_int_eq(r, 1);
	return cli;
}

/* A whole TLS connection: handshake driven by a client SSL on the other
 * end of the pair, plaintext relayed both ways, close_notify each way. */
START_TEST(test_tls_relay)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *cli;
	char buf[256];
	int c, b, r;

	tls_cfg(backend_listen(), "");
	start(&c, 0, "192.0.2.7");
	cli = tls_client(cctx, c);
	ck_assert_int_eq(SSL_write(cli, "ping", 4), 4);
	b = backend_accept();
	ck_assert_uint_eq(backend_read(b, buf, 46), 46);
	ck_assert_int_eq(memcmp(buf + 42, "ping", 4), 0);
	ck_assert_int_eq(write(b, "pong", 4), 4);
	r = -1;
	for (int i = 0; i < 300 && r <= 0; i++) {
		run_a_while(1);
		r = SSL_read(cli, buf, sizeof(buf));
	}
	ck_assert_int_eq(r, 4);
	ck_assert_int_eq(memcmp(buf, "pong", 4), 0);
	ck_assert_uint_eq(stats.tls_full, 1);
	SSL_shutdown(cli);
	close(b);
	expect_end(END_CLIENT_CLOSE);
	SSL_free(cli);
	SSL_CTX_free(cctx);
	close(c);
}
END_TEST

/* A TLS 1.2 client asks to renegotiate after the handshake: refused,
 * and the end is the client's protocol violation, not the daemon's
 * error. */
START_TEST(test_tls_protocol)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *cli;
	char buf[64];
	int c, b;

	tls_cfg(backend_listen(), "");
	start(&c, 0, "192.0.2.7");
	SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION);
	cli = tls_client(cctx, c);
	ck_assert_int_eq(SSL_write(cli, "ping", 4), 4);
	b = backend_accept();
	ck_assert_uint_eq(backend_read(b, buf, 46), 46);
	ck_assert_int_eq(SSL_renegotiate(cli), 1);
	SSL_do_handshake(cli);
	for (int i = 0; i < 50 && closed_calls == 0; i++) {
		run_a_while(1);
		SSL_read(cli, buf, sizeof(buf));
	}
	expect_end(END_TLS_PROTOCOL);
	ck_assert_uint_eq(stats.closed[END_ERROR], 0);
	SSL_free(cli);
	SSL_CTX_free(cctx);
	close(c);
	close(b);
}
END_TEST

/* Half a ClientHello, then a reset: the client's doing. */
START_TEST(test_tls_handshake_reset)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *cli = SSL_new(cctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	char *hello;
	long n;
	int c;

	tls_cfg(backend_listen(), "");
	start(&c, 1, "192.0.2.7");
	SSL_set_bio(cli, rb, wb);
	SSL_set_connect_state(cli);
	SSL_do_handshake(cli);
	n = BIO_get_mem_data(wb, &hello);
	ck_assert_int_gt(n, 40);
	ck_assert_int_eq(write(c, hello, 40), 40);
	run_a_while(5);
	ck_assert_int_eq(closed_calls, 0);
	abort_socket(c);
	expect_end(END_CLIENT_RESET);
	SSL_free(cli);
	SSL_CTX_free(cctx);
}
END_TEST

static void cert_setup(void)
{
	const char *d = test_cert_dir();

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(test_cert_make(&cert, d, "conn", "conn.test",
	                                "DNS:conn.test", NULL, 0), 0);
	setup();
}

static void cert_teardown(void)
{
	teardown();
	test_cert_free(&cert);
	test_cert_dir_remove();
}

#define ADD(s, t, tls) do { \
	TCase *tc_ = tcase_create(#t); \
	tcase_add_checked_fixture(tc_, (tls) ? cert_setup : setup, \
	                          (tls) ? cert_teardown : teardown); \
	tcase_add_test(tc_, t); \
	suite_add_tcase((s), tc_); \
} while (0)

static Suite *suite(void)
{
	Suite *s = suite_create("conn");

	ADD(s, test_client_close, 0);
	ADD(s, test_backend_close, 0);
	ADD(s, test_live_json, 0);
	ADD(s, test_client_reset, 0);
	ADD(s, test_backend_reset, 0);
	ADD(s, test_idle_timeout, 0);
	ADD(s, test_connect_failed, 0);
	ADD(s, test_failover_skips_down, 0);
	ADD(s, test_shutdown, 0);
	ADD(s, test_error, 0);
	ADD(s, test_proxy_untrusted, 0);
	ADD(s, test_proxy_bad_header, 0);
	ADD(s, test_proxy_timeout, 0);
	ADD(s, test_proxy_forwarded, 0);
	ADD(s, test_source_limit, 0);
	ADD(s, test_source_limit_proxy, 0);
	ADD(s, test_tls_handshake_failed, 1);
	ADD(s, test_tls_timeout, 1);
	ADD(s, test_tls_relay, 1);
	ADD(s, test_tls_protocol, 1);
	ADD(s, test_tls_handshake_reset, 1);
	return s;
}

UNIT_MAIN(suite)
