/* The configuration loader: good files and their defaults, the dual-stack
 * rule, and every kind of error with its exact message and line. */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certs.h"
#include "config.h"
#include "config_errs.h"
#include "tls.h"
#include "unit.h"

#define NAME "t.ini"

/* A listener that is valid on its own, for tests about other things. */
#define GOOD_LISTENER \
	"[listener:web]\n" \
	"bind = 127.0.0.1:8000\n" \
	"backend = 127.0.0.1:8080\n"

static const char *fmt(const struct addr *a)
{
	static char buf[4][ADDR_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return addr_format((const struct sockaddr *)&a->ss, a->len, buf[i],
	                   sizeof(buf[i]));
}


static struct config *load_ok(const char *text)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	int rc = config_load_string(text, NAME, &cfg, &errs);

	ck_assert_msg(rc == 0, "rejected:%s", joined(&errs));
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(errs.n, 0);
	config_errors_free(&errs);
	return cfg;
}

/* The text must fail with exactly these messages, in this order. */
static void expect_errors_v(const char *text, const char *const *want)
{
	struct config_errors errs = { 0 };
	struct config *cfg = (struct config *)&errs; /* must become NULL */
	size_t n = 0, i;
	int rc;

	while (want[n] != NULL)
		n++;
	rc = config_load_string(text, NAME, &cfg, &errs);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(errs.n == n, "want %zu messages, got %zu:%s", n, errs.n,
	              joined(&errs));
	for (i = 0; i < n; i++)
		ck_assert_msg(strcmp(errs.msg[i], want[i]) == 0,
		              "message %zu: want\n  %s\ngot:%s", i, want[i],
		              joined(&errs));
	config_errors_free(&errs);
}

#define EXPECT_ERRORS(text, ...) \
	expect_errors_v((text), (const char *const[]){ __VA_ARGS__, NULL })

/* ------------------------------------------------------------------ */
/* Good files */

START_TEST(minimal_file_gets_defaults)
{
	struct config *cfg = load_ok(GOOD_LISTENER);
	const struct listener_cfg *l;

	ck_assert_str_eq(cfg->path, NAME);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_INFO);
	ck_assert_str_eq(cfg->log, "stderr");
	ck_assert_ptr_null(cfg->access_log);
	ck_assert_ptr_null(cfg->pidfile);
	ck_assert_uint_eq(cfg->max_connections, 65536);
	ck_assert_uint_eq(cfg->shutdown_timeout_ms, 30000);
	ck_assert_uint_eq(cfg->workers, 0);
	ck_assert_int_eq(cfg->splice, 1);
	ck_assert_uint_eq(cfg->pipe_size, 256 * 1024);
	ck_assert_int_eq(cfg->stats_enabled, 0);
	ck_assert_ptr_null(cfg->user);
	ck_assert_ptr_null(cfg->group);
	ck_assert_uint_eq(cfg->nlisteners, 1);
	l = &cfg->listeners[0];
	ck_assert_str_eq(l->name, "web");
	ck_assert_int_eq(l->line, 1);
	ck_assert_int_eq(l->v6only, -1);
	ck_assert_int_eq(l->mptcp, MPTCP_MODE_ON);
	ck_assert_int_eq(l->proxy_protocol, PP_MODE_V2);
	ck_assert_uint_eq(l->connect_timeout_ms, 5000);
	ck_assert_uint_eq(l->backend_retry_ms, 10000);
	ck_assert_uint_eq(l->idle_timeout_ms, 600000);
	ck_assert_uint_eq(l->max_connections, 0);
	ck_assert_uint_eq(l->nbinds, 1);
	ck_assert_str_eq(fmt(&l->binds[0].addr), "127.0.0.1:8000");
	ck_assert_int_eq(l->binds[0].line, 2);
	ck_assert_int_eq(l->binds[0].v6only, 0);
	ck_assert_uint_eq(l->nbackends, 1);
	ck_assert_str_eq(fmt(&l->backends[0]), "127.0.0.1:8080");
	config_free(cfg);
}
END_TEST

START_TEST(full_file_sets_every_key)
{
	struct config *cfg = load_ok(
		"[global]\n"
		"log_level = debug\n"
		"log = syslog\n"
		"access_log = /var/log/frontd-access.log\n"
		"pidfile = /run/mptcp-frontd.pid\n"
		"max_connections = 1000\n"
		"shutdown_timeout = 2m\n"
		"workers = 4\n"
		"splice = on\n"
		"pipe_size = 256k\n"
		"stats = 127.0.0.1:9090\n"
		"\n"
		"[listener:web]\n"
		"bind = 0.0.0.0:443, [::]:443\n"
		"v6only = on\n"
		"mptcp = required\n"
		"backend = unix:/run/nginx.sock, 127.0.0.1:8443, [::1]:8443\n"
		"proxy_protocol = v1\n"
		"connect_timeout = 250ms\n"
		"idle_timeout = 1h\n"
		"max_connections = 10000\n"
		"\n"
		"[listener:other]\n"
		"bind = 127.0.0.1:9000\n"
		"backend = 127.0.0.1:9001\n"
		"mptcp = off\n"
		"proxy_protocol = off\n");
	const struct listener_cfg *l;

	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_DEBUG);
	ck_assert_str_eq(cfg->log, "syslog");
	ck_assert_str_eq(cfg->access_log, "/var/log/frontd-access.log");
	ck_assert_str_eq(cfg->pidfile, "/run/mptcp-frontd.pid");
	ck_assert_uint_eq(cfg->max_connections, 1000);
	ck_assert_uint_eq(cfg->shutdown_timeout_ms, 120000);
	ck_assert_uint_eq(cfg->workers, 4);
	ck_assert_int_eq(cfg->splice, 1);
	ck_assert_uint_eq(cfg->pipe_size, 256 * 1024);
	ck_assert_int_eq(cfg->stats_enabled, 1);
	ck_assert_str_eq(fmt(&cfg->stats), "127.0.0.1:9090");
	ck_assert_uint_eq(cfg->nlisteners, 2);

	l = &cfg->listeners[0];
	ck_assert_str_eq(l->name, "web");
	ck_assert_int_eq(l->line, 13);
	ck_assert_uint_eq(l->nbinds, 2);
	ck_assert_str_eq(fmt(&l->binds[0].addr), "0.0.0.0:443");
	ck_assert_str_eq(fmt(&l->binds[1].addr), "[::]:443");
	ck_assert_int_eq(l->binds[1].v6only, 1);
	ck_assert_int_eq(l->binds[0].line, 14);
	ck_assert_int_eq(l->binds[1].line, 14);
	ck_assert_int_eq(l->v6only, 1);
	ck_assert_int_eq(l->mptcp, MPTCP_MODE_REQUIRED);
	ck_assert_uint_eq(l->nbackends, 3);
	ck_assert_str_eq(fmt(&l->backends[0]), "unix:/run/nginx.sock");
	ck_assert_str_eq(fmt(&l->backends[1]), "127.0.0.1:8443");
	ck_assert_str_eq(fmt(&l->backends[2]), "[::1]:8443");
	ck_assert_int_eq(l->proxy_protocol, PP_MODE_V1);
	ck_assert_uint_eq(l->connect_timeout_ms, 250);
	ck_assert_uint_eq(l->idle_timeout_ms, 3600000);
	ck_assert_uint_eq(l->max_connections, 10000);

	l = &cfg->listeners[1];
	ck_assert_str_eq(l->name, "other");
	ck_assert_int_eq(l->line, 23);
	ck_assert_int_eq(l->mptcp, MPTCP_MODE_OFF);
	ck_assert_int_eq(l->proxy_protocol, PP_MODE_OFF);
	config_free(cfg);
}
END_TEST

/* root and its group exist on every system. */
START_TEST(user_and_group_values)
{
	struct config *cfg = load_ok("[global]\nuser = root\n" GOOD_LISTENER);

	ck_assert_str_eq(cfg->user, "root");
	ck_assert_ptr_null(cfg->group);
	config_free(cfg);
	cfg = load_ok("[global]\nuser = root\ngroup = root\n" GOOD_LISTENER);
	ck_assert_str_eq(cfg->user, "root");
	ck_assert_str_eq(cfg->group, "root");
	config_free(cfg);
}
END_TEST

START_TEST(comments_blank_lines_and_layout)
{
	struct config *cfg = load_ok(
		"\xEF\xBB\xBF; a comment\r\n"
		"# another comment\r\n"
		"\r\n"
		"[global] ; inline comment after a header\r\n"
		"   log_level = warn ; inline comment after a value\r\n"
		"\taccess_log=stderr\r\n"
		"[ listener:web ]\n"
		"mptcp = off ; comment\n"
		"bind = 127.0.0.1:8000 ;0.0.0.0:9\n"
		"backend: 127.0.0.1:8080\n"
		"  ; an indented comment is still a comment\n");
	const struct listener_cfg *l = &cfg->listeners[0];

	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_WARN);
	ck_assert_str_eq(cfg->access_log, "stderr");
	ck_assert_str_eq(l->name, "web");
	ck_assert_int_eq(l->line, 7);
	ck_assert_int_eq(l->mptcp, MPTCP_MODE_OFF);
	ck_assert_uint_eq(l->nbinds, 1);
	ck_assert_str_eq(fmt(&l->binds[0].addr), "127.0.0.1:8000");
	ck_assert_str_eq(fmt(&l->backends[0]), "127.0.0.1:8080");
	config_free(cfg);
}
END_TEST

START_TEST(inline_comment_needs_a_blank_before_it)
{
	EXPECT_ERRORS(GOOD_LISTENER
	              "mptcp = on;comment\n"
	              "proxy_protocol = v2#comment\n",
	              "t.ini:4: [listener:web] mptcp: bad value \"on;comment\": "
	              "expected on, off or required",
	              "t.ini:5: [listener:web] proxy_protocol: bad value "
	              "\"v2#comment\": expected v1, v2 or off");
}
END_TEST

START_TEST(keywords_are_case_insensitive)
{
	struct config *cfg = load_ok(
		"[global]\n"
		"log = STDERR\n"
		"access_log = Off\n"
		GOOD_LISTENER
		"mptcp = Required\n"
		"proxy_protocol = V1\n");

	ck_assert_str_eq(cfg->log, "stderr");
	ck_assert_ptr_null(cfg->access_log);
	ck_assert_int_eq(cfg->listeners[0].mptcp, MPTCP_MODE_REQUIRED);
	ck_assert_int_eq(cfg->listeners[0].proxy_protocol, PP_MODE_V1);
	config_free(cfg);
}
END_TEST

static enum mptcp_mode mptcp_of(const char *value)
{
	char text[256];
	struct config *cfg;
	enum mptcp_mode m;

	snprintf(text, sizeof(text), GOOD_LISTENER "mptcp = %s\n", value);
	cfg = load_ok(text);
	m = cfg->listeners[0].mptcp;
	config_free(cfg);
	return m;
}

START_TEST(mptcp_modes)
{
	ck_assert_int_eq(mptcp_of("on"), MPTCP_MODE_ON);
	ck_assert_int_eq(mptcp_of("off"), MPTCP_MODE_OFF);
	ck_assert_int_eq(mptcp_of("required"), MPTCP_MODE_REQUIRED);
	ck_assert_int_eq(mptcp_of("yes"), MPTCP_MODE_ON);
	ck_assert_int_eq(mptcp_of("no"), MPTCP_MODE_OFF);
	ck_assert_str_eq(config_mptcp_mode_name(MPTCP_MODE_ON), "on");
	ck_assert_str_eq(config_mptcp_mode_name(MPTCP_MODE_OFF), "off");
	ck_assert_str_eq(config_mptcp_mode_name(MPTCP_MODE_REQUIRED),
	                 "required");
}
END_TEST

static enum pp_mode pp_of(const char *value)
{
	char text[256];
	struct config *cfg;
	enum pp_mode m;

	snprintf(text, sizeof(text), GOOD_LISTENER "proxy_protocol = %s\n",
	         value);
	cfg = load_ok(text);
	m = cfg->listeners[0].proxy_protocol;
	config_free(cfg);
	return m;
}

START_TEST(proxy_protocol_modes)
{
	ck_assert_int_eq(pp_of("v1"), PP_MODE_V1);
	ck_assert_int_eq(pp_of("v2"), PP_MODE_V2);
	ck_assert_int_eq(pp_of("off"), PP_MODE_OFF);
	ck_assert_str_eq(config_pp_mode_name(PP_MODE_V1), "v1");
	ck_assert_str_eq(config_pp_mode_name(PP_MODE_V2), "v2");
	ck_assert_str_eq(config_pp_mode_name(PP_MODE_OFF), "off");
}
END_TEST

START_TEST(log_targets)
{
	struct config *cfg = load_ok("[global]\n"
	                             "log = /var/log/frontd.log\n"
	                             "access_log = /var/log/access.log\n"
	                             GOOD_LISTENER);

	ck_assert_str_eq(cfg->log, "/var/log/frontd.log");
	ck_assert_str_eq(cfg->access_log, "/var/log/access.log");
	config_free(cfg);
	cfg = load_ok("[global]\nlog = stderr\naccess_log = off\n"
	              GOOD_LISTENER);
	ck_assert_str_eq(cfg->log, "stderr");
	ck_assert_ptr_null(cfg->access_log);
	config_free(cfg);
}
END_TEST

START_TEST(limits_accept_their_bounds)
{
	struct config *cfg = load_ok("[global]\n"
	                             "max_connections = 1000000\n"
	                             "shutdown_timeout = 0\n"
	                             GOOD_LISTENER
	                             "max_connections = 1000000\n"
	                             "connect_timeout = 1ms\n"
	                             "idle_timeout = 30\n");

	ck_assert_uint_eq(cfg->max_connections, 1000000);
	ck_assert_uint_eq(cfg->shutdown_timeout_ms, 0);
	ck_assert_uint_eq(cfg->listeners[0].max_connections, 1000000);
	ck_assert_uint_eq(cfg->listeners[0].connect_timeout_ms, 1);
	ck_assert_uint_eq(cfg->listeners[0].idle_timeout_ms, 30000);
	config_free(cfg);
	cfg = load_ok("[global]\nmax_connections = 1\n" GOOD_LISTENER
	              "max_connections = 0\n");
	ck_assert_uint_eq(cfg->max_connections, 1);
	ck_assert_uint_eq(cfg->listeners[0].max_connections, 0);
	config_free(cfg);
}
END_TEST

/* A config with "[global]\nKEY = VALUE\n" before GOOD_LISTENER. */
static struct config *load_global(const char *key, const char *value)
{
	char text[512];

	snprintf(text, sizeof(text), "[global]\n%s = %s\n" GOOD_LISTENER, key,
	         value);
	return load_ok(text);
}

/* The scalar settings after "[global] KEY = VALUE" (its pointers are
 * freed: read numbers only). */
static struct config global_of(const char *key, const char *value)
{
	struct config *cfg = load_global(key, value);
	struct config copy = *cfg;

	config_free(cfg);
	return copy;
}

START_TEST(workers_values)
{
	ck_assert_uint_eq(global_of("workers", "auto").workers, 0);
	ck_assert_uint_eq(global_of("workers", "AUTO").workers, 0);
	ck_assert_uint_eq(global_of("workers", "1").workers, 1);
	ck_assert_uint_eq(global_of("workers", "8").workers, 8);
	ck_assert_uint_eq(global_of("workers", "64").workers, 64);
}
END_TEST

START_TEST(splice_values)
{
	ck_assert_int_eq(global_of("splice", "on").splice, 1);
	ck_assert_int_eq(global_of("splice", "off").splice, 0);
	ck_assert_int_eq(global_of("splice", "OFF").splice, 0);
	ck_assert_int_eq(global_of("splice", "yes").splice, 1);
	ck_assert_int_eq(global_of("splice", "no").splice, 0);
}
END_TEST

START_TEST(pipe_size_values)
{
	ck_assert_uint_eq(global_of("pipe_size", "default").pipe_size, 0);
	ck_assert_uint_eq(global_of("pipe_size", "Default").pipe_size, 0);
	ck_assert_uint_eq(global_of("pipe_size", "4k").pipe_size, 4096);
	ck_assert_uint_eq(global_of("pipe_size", "4096").pipe_size, 4096);
	ck_assert_uint_eq(global_of("pipe_size", "64K").pipe_size, 65536);
	/* not a power of two: the kernel rounds it up */
	ck_assert_uint_eq(global_of("pipe_size", "100k").pipe_size, 102400);
	ck_assert_uint_eq(global_of("pipe_size", "1m").pipe_size, 1048576);
	ck_assert_uint_eq(global_of("pipe_size", "1048576").pipe_size,
	                  1048576);
}
END_TEST

START_TEST(stats_values)
{
	struct config *cfg = load_global("stats", "off");

	ck_assert_int_eq(cfg->stats_enabled, 0);
	config_free(cfg);
	cfg = load_global("stats", "OFF");
	ck_assert_int_eq(cfg->stats_enabled, 0);
	config_free(cfg);
	cfg = load_global("stats", "127.0.0.1:9090");
	ck_assert_int_eq(cfg->stats_enabled, 1);
	ck_assert_str_eq(fmt(&cfg->stats), "127.0.0.1:9090");
	config_free(cfg);
	cfg = load_global("stats", "[::1]:9090");
	ck_assert_int_eq(cfg->stats_enabled, 1);
	ck_assert_str_eq(fmt(&cfg->stats), "[::1]:9090");
	config_free(cfg);
	/* port 0: an ephemeral port, even on a listener's address */
	cfg = load_global("stats", "127.0.0.1:0");
	ck_assert_int_eq(cfg->stats_enabled, 1);
	ck_assert_str_eq(fmt(&cfg->stats), "127.0.0.1:0");
	config_free(cfg);
}
END_TEST

/* /metrics has no authentication: anything but loopback is warned
 * about, naming the file and line. */
START_TEST(stats_exposed_warning)
{
	struct config *cfg;
	char buf[512];

	cfg = load_global("stats", "127.0.0.1:9090");
	ck_assert_int_eq(config_stats_exposed(cfg, buf, sizeof(buf)), 0);
	config_free(cfg);
	cfg = load_global("stats", "off");
	ck_assert_int_eq(config_stats_exposed(cfg, buf, sizeof(buf)), 0);
	config_free(cfg);
	cfg = load_global("stats", "[::]:9090");
	ck_assert_int_eq(config_stats_exposed(cfg, buf, sizeof(buf)), 1);
	ck_assert_msg(strstr(buf, ":2: [global] stats: [::]:9090 is not a "
	                     "loopback address and /metrics has no "
	                     "authentication") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "firewall") != NULL, "%s", buf);
	config_free(cfg);
}
END_TEST

/* Addresses that share no port with a listener's, or could be bound
 * beside it. */
START_TEST(stats_beside_listeners)
{
	struct config *cfg = load_ok("[global]\n"
	                             "stats = 127.0.0.1:8000\n"
	                             "[listener:a]\n"
	                             "bind = 127.0.0.2:8000, 127.0.0.1:8001, "
	                             "[::]:8000, 127.0.0.1:0\n"
	                             "v6only = on\n"
	                             "backend = 127.0.0.1:1\n");

	ck_assert_int_eq(cfg->stats_enabled, 1);
	config_free(cfg);
	cfg = load_ok("[global]\n"
	              "stats = 0.0.0.0:0\n"
	              "[listener:a]\n"
	              "bind = 0.0.0.0:0, [::]:0\n"
	              "backend = 127.0.0.1:1\n");
	ck_assert_int_eq(cfg->stats_enabled, 1);
	config_free(cfg);
}
END_TEST

START_TEST(backend_failover_order_kept)
{
	struct config *cfg = load_ok("[listener:web]\n"
	                             "bind = 127.0.0.1:8000\n"
	                             "backend = [::1]:2, unix:/run/a.sock, "
	                             "127.0.0.1:1, 127.0.0.1:3\n");
	const struct listener_cfg *l = &cfg->listeners[0];

	ck_assert_uint_eq(l->nbackends, 4);
	ck_assert_str_eq(fmt(&l->backends[0]), "[::1]:2");
	ck_assert_str_eq(fmt(&l->backends[1]), "unix:/run/a.sock");
	ck_assert_str_eq(fmt(&l->backends[2]), "127.0.0.1:1");
	ck_assert_str_eq(fmt(&l->backends[3]), "127.0.0.1:3");
	config_free(cfg);
}
END_TEST

START_TEST(backend_host_name_resolved_at_load)
{
	struct config *cfg = load_ok("[listener:web]\n"
	                             "bind = 127.0.0.1:8000\n"
	                             "backend = unix:/run/first.sock, "
	                             "localhost:8080\n");
	const struct listener_cfg *l = &cfg->listeners[0];
	struct addrinfo hints, *res, *ai;
	size_t i = 1;
	int has_v4 = 0;

	/* Whatever this host's resolver says, in its order, after the
	 * literal that came first; and 127.0.0.1 among it. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	ck_assert_int_eq(getaddrinfo("localhost", "8080", &hints, &res), 0);
	ck_assert_str_eq(fmt(&l->backends[0]), "unix:/run/first.sock");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct addr a;

		memset(&a, 0, sizeof(a));
		memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
		a.len = ai->ai_addrlen;
		ck_assert_uint_lt(i, l->nbackends);
		if (i > 1 && addr_equal(&l->backends[i - 1], &a))
			continue; /* resolver repeated itself */
		ck_assert_str_eq(fmt(&l->backends[i]), fmt(&a));
		has_v4 |= strcmp(fmt(&a), "127.0.0.1:8080") == 0;
		i++;
	}
	freeaddrinfo(res);
	ck_assert_uint_eq(l->nbackends, i);
	ck_assert(has_v4);
	config_free(cfg);
}
END_TEST

static struct config *load_binds(const char *binds, const char *v6only)
{
	char text[512];

	snprintf(text, sizeof(text),
	         "[listener:web]\nbind = %s\nbackend = 127.0.0.1:1\n%s%s%s",
	         binds, v6only ? "v6only = " : "", v6only ? v6only : "",
	         v6only ? "\n" : "");
	return load_ok(text);
}

START_TEST(dual_stack_wildcard_alone)
{
	struct config *cfg = load_binds("[::]:8000", NULL);

	ck_assert_uint_eq(cfg->listeners[0].nbinds, 1);
	ck_assert_int_eq(cfg->listeners[0].binds[0].v6only, 0);
	config_free(cfg);
}
END_TEST

START_TEST(v6only_when_same_listener_binds_ipv4_same_port)
{
	struct config *cfg = load_binds("[::]:8000, 0.0.0.0:8000", NULL);
	const struct listener_cfg *l = &cfg->listeners[0];

	ck_assert_str_eq(fmt(&l->binds[0].addr), "[::]:8000");
	ck_assert_int_eq(l->binds[0].v6only, 1);
	ck_assert_int_eq(l->binds[1].v6only, 0);
	config_free(cfg);
	/* a specific IPv4 address on the port counts too, in any order */
	cfg = load_binds("192.0.2.1:8000, [::]:8000", NULL);
	ck_assert_int_eq(cfg->listeners[0].binds[1].v6only, 1);
	config_free(cfg);
}
END_TEST

START_TEST(dual_stack_kept_when_ipv4_on_other_port)
{
	struct config *cfg = load_binds("0.0.0.0:8000, [::]:8001", NULL);

	ck_assert_int_eq(cfg->listeners[0].binds[1].v6only, 0);
	config_free(cfg);
}
END_TEST

START_TEST(explicit_v6only_overrides)
{
	struct config *cfg = load_binds("[::]:8000", "on");

	ck_assert_int_eq(cfg->listeners[0].binds[0].v6only, 1);
	config_free(cfg);
	cfg = load_binds("[::]:8000, 0.0.0.0:8001", "off");
	ck_assert_int_eq(cfg->listeners[0].binds[0].v6only, 0);
	config_free(cfg);
	cfg = load_binds("[::]:8000, 0.0.0.0:8000", "ON");
	ck_assert_int_eq(cfg->listeners[0].binds[0].v6only, 1);
	config_free(cfg);
}
END_TEST

START_TEST(v6only_listener_allows_ipv4_elsewhere)
{
	struct config *cfg = load_ok("[listener:a]\n"
	                             "bind = [::]:8000\n"
	                             "v6only = on\n"
	                             "backend = 127.0.0.1:1\n"
	                             "[listener:b]\n"
	                             "bind = 0.0.0.0:8000\n"
	                             "backend = 127.0.0.1:1\n");

	ck_assert_int_eq(cfg->listeners[0].binds[0].v6only, 1);
	config_free(cfg);
}
END_TEST

/* Each port-0 bind gets an ephemeral port of its own, so port 0 is never
 * "the same port": [::]:0 stays dual-stack beside 0.0.0.0:0. */
START_TEST(port_zero_is_never_the_same_port)
{
	struct config *cfg = load_binds("127.0.0.1:0, [::]:0", NULL);

	ck_assert_int_eq(cfg->listeners[0].binds[1].v6only, 0);
	config_free(cfg);
	cfg = load_binds("[::]:0, 0.0.0.0:0, [::1]:0", NULL);
	ck_assert_int_eq(cfg->listeners[0].binds[0].v6only, 0);
	ck_assert_int_eq(cfg->listeners[0].binds[2].v6only, 0);
	config_free(cfg);
	/* ... while a real port shared with IPv4 still makes it v6-only */
	cfg = load_binds("0.0.0.0:0, [::]:0, 0.0.0.0:8000, [::]:8000", NULL);
	ck_assert_int_eq(cfg->listeners[0].binds[1].v6only, 0);
	ck_assert_int_eq(cfg->listeners[0].binds[3].v6only, 1);
	config_free(cfg);
	/* and an explicit v6only still wins */
	cfg = load_binds("127.0.0.1:0, [::]:0", "on");
	ck_assert_int_eq(cfg->listeners[0].binds[1].v6only, 1);
	config_free(cfg);
}
END_TEST

START_TEST(port_zero_binds_never_conflict)
{
	struct config *cfg = load_ok("[listener:a]\n"
	                             "bind = 127.0.0.1:0, 0.0.0.0:0, [::]:0, "
	                             "127.0.0.1:0, [::]:0\n"
	                             "backend = 127.0.0.1:1\n"
	                             "[listener:b]\n"
	                             "bind = 127.0.0.1:0, 0.0.0.0:0, [::1]:0\n"
	                             "backend = 127.0.0.1:1\n"
	                             "[listener:c]\n"
	                             "bind = [::]:0, 0.0.0.0:0\n"
	                             "v6only = off\n"
	                             "backend = 127.0.0.1:1\n");
	size_t i;

	ck_assert_uint_eq(cfg->listeners[0].nbinds, 5);
	/* dual-stack [::]:0 beside IPv4 port-0 binds, here and elsewhere */
	ck_assert_int_eq(cfg->listeners[0].binds[2].v6only, 0);
	ck_assert_int_eq(cfg->listeners[0].binds[4].v6only, 0);
	for (i = 0; i < cfg->listeners[2].nbinds; i++)
		ck_assert_int_eq(cfg->listeners[2].binds[i].v6only, 0);
	config_free(cfg);
}
END_TEST

START_TEST(listener_names_allowed)
{
	struct config *cfg = load_ok(
		"[listener:a.b-c_D9]\nbind = 127.0.0.1:1\nbackend = 127.0.0.1:2\n"
		"[listener:abcdefghijklmnopqrstuvwxyz012345]\n"
		"bind = 127.0.0.1:3\nbackend = 127.0.0.1:2\n");

	ck_assert_str_eq(cfg->listeners[0].name, "a.b-c_D9");
	ck_assert_str_eq(cfg->listeners[1].name,
	                 "abcdefghijklmnopqrstuvwxyz012345");
	config_free(cfg);
}
END_TEST

START_TEST(longest_line_is_not_truncated)
{
	/* "pidfile = /" then 'p' up to exactly CONFIG_LINE_MAX characters */
	size_t head = strlen("[global]\npidfile = ");
	size_t vlen = CONFIG_LINE_MAX - strlen("pidfile = ");
	char *text = malloc(head + vlen + sizeof(GOOD_LISTENER) + 2);
	struct config *cfg;

	ck_assert_ptr_nonnull(text);
	strcpy(text, "[global]\npidfile = /");
	memset(text + head + 1, 'p', vlen - 1);
	strcpy(text + head + vlen, "\n" GOOD_LISTENER);
	cfg = load_ok(text);
	ck_assert_uint_eq(strlen(cfg->pidfile), vlen);
	config_free(cfg);
	free(text);
}
END_TEST

START_TEST(example_config_loads)
{
	const char *top = getenv("top_srcdir");
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	const struct listener_cfg *l;
	char path[4096];

	snprintf(path, sizeof(path), "%s/conf/mptcp-frontd.ini",
	         top != NULL ? top : ".");
	ck_assert_msg(config_load(path, &cfg, &errs) == 0, "%s:%s", path,
	              joined(&errs));
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_INFO);
	ck_assert_str_eq(cfg->log, "stderr");
	ck_assert_str_eq(cfg->access_log, "stderr");
	ck_assert_uint_eq(cfg->nlisteners, 1);
	l = &cfg->listeners[0];
	ck_assert_str_eq(l->name, "http");
	ck_assert_uint_eq(l->nbinds, 1);
	ck_assert_str_eq(fmt(&l->binds[0].addr), "[::]:8000");
	ck_assert_int_eq(l->binds[0].v6only, 0);
	ck_assert_int_eq(l->mptcp, MPTCP_MODE_ON);
	ck_assert_uint_eq(l->nbackends, 1);
	ck_assert_str_eq(fmt(&l->backends[0]), "127.0.0.1:8080");
	ck_assert_int_eq(l->proxy_protocol, PP_MODE_V2);
	ck_assert_uint_eq(l->connect_timeout_ms, 5000);
	ck_assert_uint_eq(l->idle_timeout_ms, 600000);
	config_free(cfg);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Errors: structure */

START_TEST(error_key_outside_section)
{
	EXPECT_ERRORS("log_level = info\n" GOOD_LISTENER,
	              "t.ini:1: log_level: key outside any section; put it "
	              "under [global] or [listener:NAME]");
}
END_TEST

START_TEST(error_unknown_section_near_global)
{
	EXPECT_ERRORS("[globl]\nlog_level = info\n" GOOD_LISTENER,
	              "t.ini:1: [globl]: unknown section; did you mean "
	              "[global]?");
}
END_TEST

START_TEST(error_unknown_section_near_listener)
{
	EXPECT_ERRORS("[listner:web]\nbind = 127.0.0.1:1\n",
	              "t.ini:1: [listner:web]: unknown section; did you mean "
	              "[listener:web]?",
	              "t.ini: no [listener:NAME] section: nothing to do");
	EXPECT_ERRORS("[listener]\n" GOOD_LISTENER,
	              "t.ini:1: [listener]: unknown section; did you mean "
	              "[listener:NAME]?");
}
END_TEST

START_TEST(error_unknown_section)
{
	EXPECT_ERRORS("[server]\nport = 80\n" GOOD_LISTENER,
	              "t.ini:1: [server]: unknown section; expected [global] "
	              "or [listener:NAME]");
}
END_TEST

START_TEST(error_bad_listener_name)
{
	const char *reason = "bad listener name: use 1 to 32 characters of "
	                     "A-Z, a-z, 0-9, '_', '.' and '-'";
	char want[256];

	snprintf(want, sizeof(want), "t.ini:1: [listener:]: %s", reason);
	EXPECT_ERRORS("[listener:]\nbind = 127.0.0.1:1\nbackend = 127.0.0.1:2\n",
	              want);
	snprintf(want, sizeof(want), "t.ini:1: [listener:a b]: %s", reason);
	EXPECT_ERRORS("[listener:a b]\nbind = 127.0.0.1:1\n"
	              "backend = 127.0.0.1:2\n", want);
	snprintf(want, sizeof(want),
	         "t.ini:1: [listener:abcdefghijklmnopqrstuvwxyz0123456]: %s",
	         reason);
	EXPECT_ERRORS("[listener:abcdefghijklmnopqrstuvwxyz0123456]\n"
	              "bind = 127.0.0.1:1\nbackend = 127.0.0.1:2\n", want);
}
END_TEST

START_TEST(error_duplicate_listener_name)
{
	EXPECT_ERRORS(GOOD_LISTENER
	              "[listener:web]\n"
	              "bind = 127.0.0.1:8001\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:4: [listener:web]: duplicate listener name, first "
	              "defined on line 1");
}
END_TEST

START_TEST(error_duplicate_global_section)
{
	EXPECT_ERRORS("[global]\n"
	              "log_level = info\n"
	              "[global]\n"
	              "log_level = debug\n"
	              GOOD_LISTENER,
	              "t.ini:3: [global]: duplicate section, first on line 1",
	              "t.ini:4: [global] log_level: duplicate key, first set on "
	              "line 2");
}
END_TEST

START_TEST(error_text_after_header)
{
	EXPECT_ERRORS("[global] log_level = info\n" GOOD_LISTENER,
	              "t.ini:1: [global]: unexpected text after \"]\"");
}
END_TEST

START_TEST(error_header_without_closing_bracket)
{
	/* the keys below a lost header are not given to another section */
	EXPECT_ERRORS("[global]\n"
	              "[listener:x\n"
	              "log = stderr\n"
	              "[global ; comment]\n"
	              "bind = 127.0.0.1:1\n"
	              GOOD_LISTENER,
	              "t.ini:2: section header without closing \"]\": "
	              "[listener:x",
	              "t.ini:4: section header without closing \"]\": "
	              "[global ; comment]");
}
END_TEST

START_TEST(error_not_a_key_value_line)
{
	EXPECT_ERRORS("[global]\n"
	              "log_level info\n"
	              "log level = info\n"
	              GOOD_LISTENER,
	              "t.ini:2: [global]: expected \"key = value\", a [section] "
	              "header or a comment",
	              "t.ini:3: [global]: expected \"key = value\", a [section] "
	              "header or a comment");
	EXPECT_ERRORS("garbage\n" GOOD_LISTENER,
	              "t.ini:1: expected \"key = value\", a [section] header or "
	              "a comment");
}
END_TEST

START_TEST(error_missing_key_name)
{
	EXPECT_ERRORS("[global]\n= info\n" GOOD_LISTENER,
	              "t.ini:2: [global]: missing key name before \"=\"");
}
END_TEST

START_TEST(error_continuation_line)
{
	const char *want = "continuation lines are not supported; write the "
	                   "value on one line";
	char w1[160], w2[160], w3[160];

	snprintf(w1, sizeof(w1), "t.ini:4: [listener:web] backend: %s", want);
	snprintf(w2, sizeof(w2), "t.ini:5: [listener:web] backend: %s", want);
	snprintf(w3, sizeof(w3), "t.ini:6: [listener:web] backend: %s", want);
	EXPECT_ERRORS("[listener:web]\n"
	              "bind = 127.0.0.1:8000\n"
	              "backend = 127.0.0.1:8080,\n"
	              "    127.0.0.1:8081\n"
	              "    unix:/run/nginx.sock\n"
	              "\t[::1]:8080\n"
	              "  mptcp = off\n"
	              "  [global]\n"
	              "  log = stderr\n",
	              "t.ini:3: [listener:web] backend: empty item in list",
	              w1, w2, w3);
}
END_TEST

START_TEST(error_line_too_long)
{
	size_t n = CONFIG_LINE_MAX + 1;
	char *text = malloc(n + 64 + sizeof(GOOD_LISTENER));
	char want[128];

	ck_assert_ptr_nonnull(text);
	strcpy(text, "[global]\n;");
	memset(text + 10, 'x', n - 1);
	strcpy(text + 9 + n, "\n" GOOD_LISTENER);
	snprintf(want, sizeof(want),
	         "t.ini:2: line too long (%zu characters, at most %d)", n,
	         CONFIG_LINE_MAX);
	EXPECT_ERRORS(text, want);
	free(text);
}
END_TEST

START_TEST(error_long_header_line_drops_its_keys)
{
	size_t n = CONFIG_LINE_MAX + 100;
	char *text = malloc(n + 64 + sizeof(GOOD_LISTENER));
	char want[128];

	ck_assert_ptr_nonnull(text);
	strcpy(text, "[global]\n[");
	memset(text + 10, 'x', n - 2);
	strcpy(text + 8 + n, "]\nbind = 127.0.0.1:1\n" GOOD_LISTENER);
	snprintf(want, sizeof(want),
	         "t.ini:2: line too long (%zu characters, at most %d)", n,
	         CONFIG_LINE_MAX);
	EXPECT_ERRORS(text, want);
	free(text);
}
END_TEST

START_TEST(error_missing_required_keys)
{
	EXPECT_ERRORS("[listener:web]\n",
	              "t.ini:1: [listener:web]: missing required key \"bind\"",
	              "t.ini:1: [listener:web]: missing required key "
	              "\"backend\"");
	EXPECT_ERRORS(GOOD_LISTENER "[listener:two]\n; nothing\n"
	              "bind = 127.0.0.1:9\n",
	              "t.ini:4: [listener:two]: missing required key "
	              "\"backend\"");
}
END_TEST

START_TEST(error_no_listener)
{
	EXPECT_ERRORS("", "t.ini: no [listener:NAME] section: nothing to do");
	EXPECT_ERRORS("[global]\nlog_level = info\n",
	              "t.ini: no [listener:NAME] section: nothing to do");
}
END_TEST

/* Errors: keys */

START_TEST(error_unknown_key_with_suggestion)
{
	EXPECT_ERRORS("[global]\n"
	              "log_levl = info\n"
	              GOOD_LISTENER
	              "idle_timout = 5s\n",
	              "t.ini:2: [global] log_levl: unknown key; did you mean "
	              "\"log_level\"?",
	              "t.ini:6: [listener:web] idle_timout: unknown key; did you "
	              "mean \"idle_timeout\"?");
}
END_TEST

START_TEST(error_unknown_key)
{
	/* keys other daemons know are not ours: said, never ignored */
	EXPECT_ERRORS("[global]\n"
	              "chroot = /var/empty\n"
	              "rlimit_core = 0\n"
	              GOOD_LISTENER
	              "send_proxy = on\n"
	              "ssl_certificate = /etc/cert.pem\n",
	              "t.ini:2: [global] chroot: unknown key",
	              "t.ini:3: [global] rlimit_core: unknown key",
	              "t.ini:7: [listener:web] send_proxy: unknown key",
	              "t.ini:8: [listener:web] ssl_certificate: unknown key");
	EXPECT_ERRORS("[global]\n"
	              "worker = 4\n"
	              "pipesize = 64k\n"
	              GOOD_LISTENER
	              "stats = off\n",
	              "t.ini:2: [global] worker: unknown key; did you mean "
	              "\"workers\"?",
	              "t.ini:3: [global] pipesize: unknown key; did you mean "
	              "\"pipe_size\"?",
	              "t.ini:7: [listener:web] stats: unknown key here; it "
	              "belongs in [global]");
}
END_TEST

START_TEST(error_key_in_wrong_section)
{
	EXPECT_ERRORS("[global]\n"
	              "backend = 127.0.0.1:1\n"
	              GOOD_LISTENER
	              "shutdown_timeout = 1s\n",
	              "t.ini:2: [global] backend: unknown key here; it belongs "
	              "in a [listener:NAME] section",
	              "t.ini:6: [listener:web] shutdown_timeout: unknown key "
	              "here; it belongs in [global]");
}
END_TEST

START_TEST(error_duplicate_key)
{
	EXPECT_ERRORS("[global]\n"
	              "log = stderr\n"
	              "log = syslog\n"
	              GOOD_LISTENER
	              "mptcp = on\n"
	              "bind = 127.0.0.1:9000\n"
	              "mptcp = off\n",
	              "t.ini:3: [global] log: duplicate key, first set on line 2",
	              "t.ini:8: [listener:web] bind: duplicate key, first set on "
	              "line 5",
	              "t.ini:9: [listener:web] mptcp: duplicate key, first set on "
	              "line 7");
}
END_TEST

START_TEST(error_empty_value)
{
	EXPECT_ERRORS("[global]\n"
	              "log =\n"
	              "[listener:web]\n"
	              "bind = ; nothing\n"
	              "backend = 127.0.0.1:1\n",
	              "t.ini:2: [global] log: empty value",
	              "t.ini:4: [listener:web] bind: empty value");
}
END_TEST

START_TEST(error_bad_global_values)
{
	EXPECT_ERRORS("[global]\n"
	              "log_level = verbose\n"
	              "log = frontd.log\n"
	              "access_log = syslog\n"
	              "pidfile = run/x.pid\n"
	              "max_connections = 0\n"
	              "shutdown_timeout = 30x\n"
	              GOOD_LISTENER,
	              "t.ini:2: [global] log_level: bad value \"verbose\": "
	              "expected error, warn, info or debug",
	              "t.ini:3: [global] log: bad value \"frontd.log\": expected "
	              "stderr, syslog or an absolute path",
	              "t.ini:4: [global] access_log: bad value \"syslog\": "
	              "expected off, stderr or an absolute path",
	              "t.ini:5: [global] pidfile: bad value \"run/x.pid\": "
	              "expected an absolute path",
	              "t.ini:6: [global] max_connections: bad number \"0\": "
	              "expected an integer from 1 to 1000000",
	              "t.ini:7: [global] shutdown_timeout: bad duration \"30x\": "
	              "expected a number with ms, s, m or h");
	EXPECT_ERRORS("[global]\nmax_connections = 1000001\n" GOOD_LISTENER,
	              "t.ini:2: [global] max_connections: bad number "
	              "\"1000001\": expected an integer from 1 to 1000000");
}
END_TEST

START_TEST(error_unknown_user_or_group)
{
	EXPECT_ERRORS("[global]\n"
	              "user = frontd-no-such-user\n"
	              "group = frontd-no-such-group\n"
	              GOOD_LISTENER,
	              "t.ini:2: [global] user: no such user "
	              "\"frontd-no-such-user\"",
	              "t.ini:3: [global] group: no such group "
	              "\"frontd-no-such-group\"");
}
END_TEST

START_TEST(error_group_without_user)
{
	EXPECT_ERRORS("[global]\ngroup = root\n" GOOD_LISTENER,
	              "t.ini:2: [global] group: has no effect without user");
}
END_TEST

/* One bad [global] value: KEY = VALUE on line 2 gets exactly `reason`. */
static void expect_global_error(const char *key, const char *value,
                                const char *reason)
{
	char text[512], want[512];

	snprintf(text, sizeof(text), "[global]\n%s = %s\n" GOOD_LISTENER, key,
	         value);
	snprintf(want, sizeof(want), "t.ini:2: [global] %s: %s", key, reason);
	EXPECT_ERRORS(text, want);
}

START_TEST(error_bad_workers)
{
	static const char *const bad[] = {
		"0", "65", "-1", "4.5", "many", "auto4", "1 2", "0x10", NULL
	};
	char reason[128];
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		snprintf(reason, sizeof(reason), "bad value \"%s\": expected "
		         "auto or an integer from 1 to 64", bad[i]);
		expect_global_error("workers", bad[i], reason);
	}
}
END_TEST

START_TEST(error_bad_splice)
{
	expect_global_error("splice", "maybe",
	                    "bad value \"maybe\": expected on or off");
	expect_global_error("splice", "2",
	                    "bad value \"2\": expected on or off");
}
END_TEST

START_TEST(error_bad_pipe_size)
{
	static const char *const bad[] = {
		"0", "4095", "3k", "1025k", "2m", "1g", "1048577", "-4k",
		"64kb", "64 k", "big", "kernel", NULL
	};
	char reason[128];
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		snprintf(reason, sizeof(reason), "bad size \"%s\": expected "
		         "default or a size from 4k to 1m", bad[i]);
		expect_global_error("pipe_size", bad[i], reason);
	}
}
END_TEST

START_TEST(error_pipe_size_without_splice)
{
	EXPECT_ERRORS("[global]\n"
	              "pipe_size = 64k\n"
	              "splice = off\n"
	              GOOD_LISTENER,
	              "t.ini:2: [global] pipe_size: has no effect: splice = "
	              "off");
	EXPECT_ERRORS("[global]\n"
	              "splice = off\n"
	              "pipe_size = default\n"
	              GOOD_LISTENER,
	              "t.ini:3: [global] pipe_size: has no effect: splice = "
	              "off");
	/* a bad value is reported once, for what it is */
	EXPECT_ERRORS("[global]\n"
	              "splice = off\n"
	              "pipe_size = 8m\n"
	              GOOD_LISTENER,
	              "t.ini:3: [global] pipe_size: bad size \"8m\": expected "
	              "default or a size from 4k to 1m");
}
END_TEST

START_TEST(error_bad_stats)
{
	expect_global_error("stats", "on", "bad value \"on\": expected off or "
	                    "an address and port, as 127.0.0.1:9090");
	expect_global_error("stats", "9090", "bad value \"9090\": expected "
	                    "off or an address and port, as 127.0.0.1:9090");
	expect_global_error("stats", "localhost:9090", "bad address "
	                    "\"localhost:9090\": host names are not allowed "
	                    "here; use an IP address");
	expect_global_error("stats", "unix:/run/stats.sock", "bad address "
	                    "\"unix:/run/stats.sock\": unix sockets are not "
	                    "allowed here");
	expect_global_error("stats", "[::1]", "bad address \"[::1]\": "
	                    "missing port");
	expect_global_error("stats", "127.0.0.1:65536", "bad address "
	                    "\"127.0.0.1:65536\": port out of range");
	expect_global_error("stats", "::1:9090", "bad address \"::1:9090\": "
	                    "IPv6 address must be in brackets, as [::1]:443");
}
END_TEST

START_TEST(error_stats_overlaps_listener)
{
	/* the same address, in whichever listener and wherever [global] is */
	EXPECT_ERRORS(GOOD_LISTENER
	              "[listener:api]\n"
	              "bind = 127.0.0.1:9090\n"
	              "backend = 127.0.0.1:8080\n"
	              "[global]\n"
	              "stats = 127.0.0.1:9090\n",
	              "t.ini:8: [global] stats: 127.0.0.1:9090 is already bound "
	              "by [listener:api] on line 5");
	EXPECT_ERRORS("[global]\n"
	              "stats = [::1]:8000\n"
	              "[listener:web]\n"
	              "bind = 127.0.0.1:8000, [::1]:8000\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:2: [global] stats: [::1]:8000 is already bound by "
	              "[listener:web] on line 4");
	/* a wildcard on either side */
	EXPECT_ERRORS("[global]\n"
	              "stats = 127.0.0.1:8000\n"
	              "[listener:web]\n"
	              "bind = 0.0.0.0:8000\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:2: [global] stats: 127.0.0.1:8000 overlaps "
	              "0.0.0.0:8000 bound by [listener:web] on line 4");
	EXPECT_ERRORS("[global]\n"
	              "stats = 0.0.0.0:8000\n"
	              GOOD_LISTENER,
	              "t.ini:2: [global] stats: 0.0.0.0:8000 overlaps "
	              "127.0.0.1:8000 bound by [listener:web] on line 4");
	/* dual-stack on either side */
	EXPECT_ERRORS("[global]\n"
	              "stats = 127.0.0.1:8000\n"
	              "[listener:web]\n"
	              "bind = [::]:8000\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:2: [global] stats: 127.0.0.1:8000 overlaps "
	              "dual-stack [::]:8000 bound by [listener:web] on line 4; "
	              "set v6only = on in [listener:web]");
	EXPECT_ERRORS("[global]\n"
	              "stats = [::]:8000\n"
	              GOOD_LISTENER,
	              "t.ini:2: [global] stats: [::]:8000 is dual-stack and "
	              "overlaps 127.0.0.1:8000 bound by [listener:web] on "
	              "line 4");
}
END_TEST

START_TEST(error_bad_listener_values)
{
	EXPECT_ERRORS(GOOD_LISTENER
	              "v6only = auto\n"
	              "mptcp = maybe\n"
	              "proxy_protocol = v3\n"
	              "connect_timeout = 0\n"
	              "idle_timeout = -5s\n"
	              "max_connections = 1000001\n",
	              "t.ini:4: [listener:web] v6only: bad value \"auto\": "
	              "expected on or off",
	              "t.ini:5: [listener:web] mptcp: bad value \"maybe\": "
	              "expected on, off or required",
	              "t.ini:6: [listener:web] proxy_protocol: bad value \"v3\": "
	              "expected v1, v2 or off",
	              "t.ini:7: [listener:web] connect_timeout: bad duration "
	              "\"0\": must be greater than 0",
	              "t.ini:8: [listener:web] idle_timeout: bad duration "
	              "\"-5s\": must not be negative",
	              "t.ini:9: [listener:web] max_connections: bad number "
	              "\"1000001\": expected an integer from 0 to 1000000");
	EXPECT_ERRORS(GOOD_LISTENER "idle_timeout = 0ms\n",
	              "t.ini:4: [listener:web] idle_timeout: bad duration "
	              "\"0ms\": must be greater than 0");
}
END_TEST

START_TEST(backend_retry_bounds)
{
	struct config *cfg = load_ok(GOOD_LISTENER "backend_retry = 0\n");

	ck_assert_uint_eq(cfg->listeners[0].backend_retry_ms, 0);
	config_free(cfg);
	cfg = load_ok(GOOD_LISTENER "backend_retry = 100ms\n");
	ck_assert_uint_eq(cfg->listeners[0].backend_retry_ms, 100);
	config_free(cfg);
	cfg = load_ok(GOOD_LISTENER "backend_retry = 1h\n");
	ck_assert_uint_eq(cfg->listeners[0].backend_retry_ms, 3600000);
	config_free(cfg);
	EXPECT_ERRORS(GOOD_LISTENER "backend_retry = 99ms\n",
	              "t.ini:4: [listener:web] backend_retry: bad duration "
	              "\"99ms\": must be 0 (off) or between 100ms and 1h");
	EXPECT_ERRORS(GOOD_LISTENER "backend_retry = 61m\n",
	              "t.ini:4: [listener:web] backend_retry: bad duration "
	              "\"61m\": must be 0 (off) or between 100ms and 1h");
	EXPECT_ERRORS(GOOD_LISTENER "backend_retry = soon\n",
	              "t.ini:4: [listener:web] backend_retry: bad duration "
	              "\"soon\": expected a number with ms, s, m or h");
}
END_TEST

START_TEST(error_bad_bind)
{
	EXPECT_ERRORS("[listener:web]\n"
	              "bind = unix:/run/x.sock, 127.0.0.1, localhost:80, "
	              "[::1:80, 2001:db8::1:80, 127.0.0.1:65536\n"
	              "backend = 127.0.0.1:1\n",
	              "t.ini:2: [listener:web] bind: bad address "
	              "\"unix:/run/x.sock\": unix sockets are not allowed here",
	              "t.ini:2: [listener:web] bind: bad address \"127.0.0.1\": "
	              "missing port",
	              "t.ini:2: [listener:web] bind: bad address "
	              "\"localhost:80\": host names are not allowed here; use "
	              "an IP address",
	              "t.ini:2: [listener:web] bind: bad address \"[::1:80\": "
	              "bad IPv6 address",
	              "t.ini:2: [listener:web] bind: bad address "
	              "\"2001:db8::1:80\": IPv6 address must be in brackets, as "
	              "[::1]:443",
	              "t.ini:2: [listener:web] bind: bad address "
	              "\"127.0.0.1:65536\": port out of range");
}
END_TEST

START_TEST(error_bind_list_shape)
{
	EXPECT_ERRORS("[listener:web]\n"
	              "bind = 127.0.0.1:1,,127.0.0.1:2\n"
	              "backend = 127.0.0.1:1\n",
	              "t.ini:2: [listener:web] bind: empty item in list");
	EXPECT_ERRORS("[listener:web]\n"
	              "bind = 127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3, 127.0.0.1:4, "
	              "127.0.0.1:5, 127.0.0.1:6, 127.0.0.1:7, 127.0.0.1:8, "
	              "127.0.0.1:9, 127.0.0.1:10, 127.0.0.1:11, 127.0.0.1:12, "
	              "127.0.0.1:13, 127.0.0.1:14, 127.0.0.1:15, 127.0.0.1:16, "
	              "127.0.0.1:17\n"
	              "backend = 127.0.0.1:1\n",
	              "t.ini:2: [listener:web] bind: too many addresses (at most "
	              "16)");
}
END_TEST

START_TEST(error_bad_backend)
{
	EXPECT_ERRORS("[listener:web]\n"
	              "bind = 127.0.0.1:8000\n"
	              "backend = 127.0.0.1:0, unix:run/nginx.sock, [::1], "
	              "localhost:0, 300.1.1.1:80\n",
	              "t.ini:3: [listener:web] backend: bad address "
	              "\"127.0.0.1:0\": port 0 is not allowed for a backend",
	              "t.ini:3: [listener:web] backend: bad address "
	              "\"unix:run/nginx.sock\": unix socket path must be absolute",
	              "t.ini:3: [listener:web] backend: bad address \"[::1]\": "
	              "missing port",
	              "t.ini:3: [listener:web] backend: bad address "
	              "\"localhost:0\": port 0 is not allowed for a backend",
	              "t.ini:3: [listener:web] backend: bad address "
	              "\"300.1.1.1:80\": bad IPv4 address");
}
END_TEST

START_TEST(error_backend_does_not_resolve)
{
	struct addrinfo hints, *res = NULL;
	char want[256];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo("nonexistent.invalid", "80", &hints, &res);
	ck_assert_msg(rc != 0, "this host resolves nonexistent.invalid");
	snprintf(want, sizeof(want), "t.ini:3: [listener:web] backend: cannot "
	         "resolve \"nonexistent.invalid\": %s",
	         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	EXPECT_ERRORS("[listener:web]\n"
	              "bind = 127.0.0.1:8000\n"
	              "backend = nonexistent.invalid:80\n",
	              want);
}
END_TEST

/* Errors: validation */

START_TEST(error_duplicate_bind_across_listeners)
{
	EXPECT_ERRORS("[listener:a]\n"
	              "bind = 0.0.0.0:80\n"
	              "backend = 127.0.0.1:8080\n"
	              "[listener:b]\n"
	              "bind = 127.0.0.2:81, 0.0.0.0:80\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:5: [listener:b] bind: 0.0.0.0:80 is already bound by "
	              "[listener:a] on line 2");
	EXPECT_ERRORS("[listener:a]\n"
	              "bind = [::1]:443\n"
	              "backend = 127.0.0.1:8080\n"
	              "[listener:b]\n"
	              "bind = [::1]:443\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:5: [listener:b] bind: [::1]:443 is already bound by "
	              "[listener:a] on line 2");
}
END_TEST

START_TEST(error_bind_listed_twice)
{
	EXPECT_ERRORS("[listener:web]\n"
	              "bind = 127.0.0.1:80, 127.0.0.1:80\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:2: [listener:web] bind: 127.0.0.1:80 is listed "
	              "twice");
}
END_TEST

START_TEST(error_bind_overlaps_wildcard)
{
	EXPECT_ERRORS("[listener:a]\n"
	              "bind = 0.0.0.0:80\n"
	              "backend = 127.0.0.1:8080\n"
	              "[listener:b]\n"
	              "bind = 127.0.0.1:80\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:5: [listener:b] bind: 127.0.0.1:80 overlaps "
	              "0.0.0.0:80 bound by [listener:a] on line 2");
	EXPECT_ERRORS("[listener:a]\n"
	              "bind = [::1]:80, [::]:80\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:2: [listener:a] bind: [::]:80 overlaps [::1]:80 in "
	              "the same listener");
}
END_TEST

START_TEST(error_dual_stack_overlaps_ipv4_in_other_listener)
{
	EXPECT_ERRORS("[listener:a]\n"
	              "bind = [::]:80\n"
	              "backend = 127.0.0.1:8080\n"
	              "[listener:b]\n"
	              "bind = 0.0.0.0:80\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:5: [listener:b] bind: 0.0.0.0:80 overlaps dual-stack "
	              "[::]:80 bound by [listener:a] on line 2; set v6only = on "
	              "in [listener:a]");
	EXPECT_ERRORS("[listener:a]\n"
	              "bind = 192.0.2.1:80\n"
	              "backend = 127.0.0.1:8080\n"
	              "[listener:b]\n"
	              "bind = [::]:80\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:5: [listener:b] bind: [::]:80 is dual-stack and "
	              "overlaps 192.0.2.1:80 bound by [listener:a] on line 2; "
	              "set v6only = on");
}
END_TEST

START_TEST(error_dual_stack_forced_with_ipv4_same_listener)
{
	EXPECT_ERRORS("[listener:web]\n"
	              "bind = [::]:80, 0.0.0.0:80\n"
	              "v6only = off\n"
	              "backend = 127.0.0.1:8080\n",
	              "t.ini:2: [listener:web] bind: [::]:80 is dual-stack "
	              "(v6only = off) and overlaps 0.0.0.0:80 in the same "
	              "listener; set v6only = on");
}
END_TEST

START_TEST(error_v6only_without_ipv6_bind)
{
	EXPECT_ERRORS(GOOD_LISTENER "v6only = on\n",
	              "t.ini:4: [listener:web] v6only: has no effect: this "
	              "listener binds no IPv6 address");
}
END_TEST

START_TEST(error_many_in_one_file_in_line_order)
{
	/* The missing keys of line 1 are found last, in the validation
	 * pass, yet come first. */
	EXPECT_ERRORS("[listener:a]\n"
	              "mptcp = maybe\n"
	              "[global]\n"
	              "log_level = loud\n"
	              "[listener:b]\n"
	              "bind = 0.0.0.0:80\n"
	              "backend = 127.0.0.1:1\n"
	              "[listener:c]\n"
	              "bind = 0.0.0.0:80\n"
	              "backend = nosuchport\n"
	              "conect_timeout = 1s\n",
	              "t.ini:1: [listener:a]: missing required key \"bind\"",
	              "t.ini:1: [listener:a]: missing required key \"backend\"",
	              "t.ini:2: [listener:a] mptcp: bad value \"maybe\": expected "
	              "on, off or required",
	              "t.ini:4: [global] log_level: bad value \"loud\": expected "
	              "error, warn, info or debug",
	              "t.ini:9: [listener:c] bind: 0.0.0.0:80 is already bound by "
	              "[listener:b] on line 6",
	              "t.ini:10: [listener:c] backend: bad address "
	              "\"nosuchport\": missing port",
	              "t.ini:11: [listener:c] conect_timeout: unknown key; did you "
	              "mean \"connect_timeout\"?");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Files */

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/frontd-cfg-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void write_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
	/* Whatever the umask: a file others may write is refused. */
	ck_assert_int_eq(chmod(path, 0644), 0);
}

/* Load `path` expecting the one file-level message "PATH: reason". */
static void expect_file_error(const char *path, const char *reason)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char want[512];

	ck_assert_int_eq(config_load(path, &cfg, &errs), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(errs.n == 1, "%s", joined(&errs));
	snprintf(want, sizeof(want), "%s: %s", path, reason);
	ck_assert_str_eq(errs.msg[0], want);
	config_errors_free(&errs);
}

START_TEST(file_writable_by_others_refused)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[128], reason[256];

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/open.ini", tmpdir);
	write_file(path, GOOD_LISTENER, strlen(GOOD_LISTENER));
	ck_assert_int_eq(chmod(path, 0666), 0);
	snprintf(reason, sizeof(reason), "writable by other users (mode 0666); "
	         "fix with chmod o-w %s", path);
	expect_file_error(path, reason);
	ck_assert_int_eq(chmod(path, 0602), 0);
	snprintf(reason, sizeof(reason), "writable by other users (mode 0602); "
	         "fix with chmod o-w %s", path);
	expect_file_error(path, reason);
	/* Group-writable is the group's business: allowed. */
	ck_assert_int_eq(chmod(path, 0664), 0);
	ck_assert_int_eq(config_load(path, &cfg, &errs), 0);
	config_free(cfg);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

/* Root refuses a file root does not own (added when running as root). */
START_TEST(file_owned_by_another_user_refused_as_root)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[128], reason[256];

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/theirs.ini", tmpdir);
	write_file(path, GOOD_LISTENER, strlen(GOOD_LISTENER));
	ck_assert_int_eq(chown(path, 65534, (gid_t)-1), 0);
	snprintf(reason, sizeof(reason), "owned by uid 65534, not root, while "
	         "running as root; fix with chown root %s", path);
	expect_file_error(path, reason);
	ck_assert_int_eq(chown(path, 0, (gid_t)-1), 0);
	ck_assert_int_eq(config_load(path, &cfg, &errs), 0);
	config_free(cfg);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(file_loads_and_names_itself)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[128], want[256];

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/good.ini", tmpdir);
	write_file(path, GOOD_LISTENER, strlen(GOOD_LISTENER));
	ck_assert_int_eq(config_load(path, &cfg, &errs), 0);
	ck_assert_str_eq(cfg->path, path);
	ck_assert_str_eq(cfg->listeners[0].name, "web");
	config_free(cfg);

	write_file(path, "[global]\nlog = x\n" GOOD_LISTENER,
	           strlen("[global]\nlog = x\n" GOOD_LISTENER));
	ck_assert_int_eq(config_load(path, &cfg, &errs), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.n, 1);
	snprintf(want, sizeof(want), "%s:2: [global] log: bad value \"x\": "
	         "expected stderr, syslog or an absolute path", path);
	ck_assert_str_eq(errs.msg[0], want);
	config_errors_free(&errs);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(file_missing)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[128], want[256];

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/none.ini", tmpdir);
	ck_assert_int_eq(config_load(path, &cfg, &errs), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.n, 1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	         "directory", path);
	ck_assert_str_eq(errs.msg[0], want);
	config_errors_free(&errs);
	rmdir(tmpdir);
}
END_TEST

START_TEST(file_is_a_directory)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char want[256];

	make_tmpdir();
	ck_assert_int_eq(config_load(tmpdir, &cfg, &errs), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(errs.n == 1, "%s", joined(&errs));
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory", tmpdir);
	ck_assert_str_eq(errs.msg[0], want);
	config_errors_free(&errs);
	rmdir(tmpdir);
}
END_TEST

/* Only meaningful without root: root reads a mode-000 file anyway. */
START_TEST(file_unreadable)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[128], want[256];

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/secret.ini", tmpdir);
	write_file(path, GOOD_LISTENER, strlen(GOOD_LISTENER));
	ck_assert_int_eq(chmod(path, 0), 0);
	ck_assert_int_eq(config_load(path, &cfg, &errs), -1);
	ck_assert_ptr_null(cfg);
	snprintf(want, sizeof(want), "%s: cannot open: Permission denied",
	         path);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.msg[0], want);
	config_errors_free(&errs);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(file_with_nul_byte)
{
	static const char data[] = "[global]\nlog_level = info\0junk\n"
	                           GOOD_LISTENER;
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[128], want[256];

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/nul.ini", tmpdir);
	write_file(path, data, sizeof(data) - 1);
	ck_assert_int_eq(config_load(path, &cfg, &errs), -1);
	ck_assert_msg(errs.n == 1, "%s", joined(&errs));
	snprintf(want, sizeof(want), "%s:2: line contains a NUL byte", path);
	ck_assert_str_eq(errs.msg[0], want);
	config_errors_free(&errs);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(errors_are_appended)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;

	ck_assert_int_eq(config_load_string("", "a.ini", &cfg, &errs), -1);
	ck_assert_int_eq(config_load_string("[x]\n", "b.ini", &cfg, &errs), -1);
	ck_assert_uint_eq(errs.n, 3);
	ck_assert_str_eq(errs.msg[0], "a.ini: no [listener:NAME] section: "
	                 "nothing to do");
	ck_assert_str_eq(errs.msg[1], "b.ini:1: [x]: unknown section; expected "
	                 "[global] or [listener:NAME]");
	ck_assert_str_eq(errs.msg[2], "b.ini: no [listener:NAME] section: "
	                 "nothing to do");
	config_errors_free(&errs);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_ptr_null(errs.msg);
	config_errors_free(&errs); /* twice is fine */
	config_free(NULL);
}
END_TEST

#define ADD(s, t) UNIT_ADD(s, t)


/* ------------------------------------------------------------------ */
/* TLS termination and the TLV set */

static struct test_cert t_ca, t_a, t_b;

/* A CA and two certificates it signs, in a fresh directory. */
static void tls_files(void)
{
	const char *d = test_cert_dir();

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(test_cert_make(&t_ca, d, "ca", "CA", NULL, NULL, 0), 0);
	ck_assert_int_eq(test_cert_make(&t_a, d, "a", "a.test", "DNS:a.test",
	                                &t_ca, 0), 0);
	ck_assert_int_eq(test_cert_make(&t_b, d, "b", "b.test", "DNS:b.test",
	                                &t_ca, 0), 0);
}

static void tls_files_free(void)
{
	test_cert_free(&t_ca);
	test_cert_free(&t_a);
	test_cert_free(&t_b);
	test_cert_dir_remove();
}

/* Text that formats a file path and friends into a config or message. */
static char *fmtbuf(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmtbuf(const char *f, ...)
{
	static char buf[8][2048];
	static int i;
	va_list ap;

	i = (i + 1) % 8;
	va_start(ap, f);
	vsnprintf(buf[i], sizeof(buf[i]), f, ap);
	va_end(ap);
	return buf[i];
}

#define TLS_HEAD \
	"[listener:web]\n" \
	"bind = 127.0.0.1:8443\n" \
	"backend = 127.0.0.1:8080\n"

START_TEST(tls_plain_listener_defaults)
{
	struct config *cfg = load_ok(GOOD_LISTENER);
	const struct listener_cfg *l = &cfg->listeners[0];

	ck_assert_ptr_null(l->tls_ctx);
	ck_assert_uint_eq(l->tls.ncerts, 0);
	ck_assert_uint_eq(l->pp_tlvs, PP_TLV_MPTCP);
	ck_assert_uint_eq(l->tls.handshake_timeout_ms, 10000);
	config_free(cfg);
}
END_TEST

START_TEST(tls_listener_defaults_and_keys)
{
	struct config *cfg;
	const struct listener_cfg *l;

	tls_files();
	cfg = load_ok(fmtbuf(TLS_HEAD "tls_cert = %s\ntls_key = %s\n",
	                     t_a.cert_path, t_a.key_path));
	l = &cfg->listeners[0];
	ck_assert_ptr_nonnull(l->tls_ctx);
	ck_assert_uint_eq(l->tls.ncerts, 1);
	ck_assert_str_eq(l->tls.certs[0], t_a.cert_path);
	ck_assert_int_eq(l->tls.min_version, TLS_VERSION_1_2);
	ck_assert_int_eq(l->tls.verify, TLS_VERIFY_OFF);
	ck_assert_ptr_null(l->tls.alpn);
	ck_assert_ptr_null(l->tls.ciphers);
	ck_assert_uint_eq(l->tls.handshake_timeout_ms, 10000);
	/* The default set with TLS: MPTCP and ALPN, within 107 bytes. */
	ck_assert_uint_eq(l->pp_tlvs, PP_TLV_MPTCP | PP_TLV_ALPN);
	ck_assert_uint_le(config_pp_header_max(l), PP_NGINX_OLD_MAX);
	config_free(cfg);

	cfg = load_ok(fmtbuf(TLS_HEAD
	                     "tls_cert = %s, %s\n"
	                     "tls_key = %s,%s\n"
	                     "tls_min_version = TLSv1.3\n"
	                     "tls_ciphers = ECDHE+AESGCM\n"
	                     "tls_ciphersuites = TLS_AES_128_GCM_SHA256\n"
	                     "tls_alpn = h2, http/1.1\n"
	                     "tls_verify = optional\n"
	                     "tls_client_ca = %s\n"
	                     "tls_handshake_timeout = 2500ms\n"
	                     "proxy_protocol_tlvs = ssl, Authority\n",
	                     t_a.cert_path, t_b.cert_path, t_a.key_path,
	                     t_b.key_path, t_ca.cert_path));
	l = &cfg->listeners[0];
	ck_assert_ptr_nonnull(l->tls_ctx);
	ck_assert_uint_eq(l->tls.ncerts, 2);
	ck_assert_uint_eq(l->tls.nkeys, 2);
	ck_assert_str_eq(l->tls.keys[1], t_b.key_path);
	ck_assert_int_eq(l->tls.min_version, TLS_VERSION_1_3);
	ck_assert_str_eq(l->tls.ciphers, "ECDHE+AESGCM");
	ck_assert_str_eq(l->tls.ciphersuites, "TLS_AES_128_GCM_SHA256");
	ck_assert_uint_eq(l->tls.alpn_len, 12);
	ck_assert_mem_eq(l->tls.alpn, "\x02h2\x08http/1.1", 12);
	ck_assert_int_eq(l->tls.verify, TLS_VERIFY_OPTIONAL);
	ck_assert_str_eq(l->tls.client_ca, t_ca.cert_path);
	ck_assert_uint_eq(l->tls.handshake_timeout_ms, 2500);
	ck_assert_uint_eq(l->pp_tlvs, PP_TLV_SSL | PP_TLV_AUTHORITY);
	ck_assert_uint_eq(tls_cert_for_name(l->tls_ctx, "b.test"), 1);
	config_free(cfg);

	cfg = load_ok(fmtbuf(TLS_HEAD "tls_cert = %s\ntls_key = %s\n"
	                     "proxy_protocol_tlvs = none\n",
	                     t_a.cert_path, t_a.key_path));
	ck_assert_uint_eq(cfg->listeners[0].pp_tlvs, 0);
	config_free(cfg);
	cfg = load_ok(GOOD_LISTENER "proxy_protocol_tlvs = none\n");
	ck_assert_uint_eq(cfg->listeners[0].pp_tlvs, 0);
	config_free(cfg);
	tls_files_free();
}
END_TEST

START_TEST(error_bad_tls_values)
{
	EXPECT_ERRORS(TLS_HEAD
	              "tls_cert = cert.pem\n"
	              "tls_key = /k.pem, \n"
	              "tls_min_version = 1.1\n"
	              "tls_verify = maybe\n"
	              "tls_alpn = h2, h2\n"
	              "tls_client_ca = ca.pem\n"
	              "tls_handshake_timeout = 0\n",
	              "t.ini:4: [listener:web] tls_cert: bad value \"cert.pem\": "
	              "expected an absolute path",
	              "t.ini:5: [listener:web] tls_key: empty item in list",
	              "t.ini:6: [listener:web] tls_min_version: bad value \"1.1\": "
	              "TLS 1.0 and 1.1 are not supported (deprecated by RFC "
	              "8996); expected 1.2 or 1.3",
	              "t.ini:7: [listener:web] tls_verify: bad value \"maybe\": "
	              "expected off, optional or required",
	              "t.ini:8: [listener:web] tls_alpn: \"h2\" is listed twice",
	              "t.ini:9: [listener:web] tls_client_ca: bad value "
	              "\"ca.pem\": expected an absolute path",
	              "t.ini:10: [listener:web] tls_handshake_timeout: bad "
	              "duration \"0\": must be greater than 0");
	EXPECT_ERRORS(GOOD_LISTENER
	              "tls_min_version = 2\n"
	              "tls_alpn = a,b,c,d,e,f,g,h,i\n"
	              "proxy_protocol_tlvs = mptcp, foo\n",
	              "t.ini:4: [listener:web] tls_min_version: bad value \"2\": "
	              "expected 1.2 or 1.3",
	              "t.ini:5: [listener:web] tls_alpn: too many protocols (at "
	              "most 8)",
	              "t.ini:6: [listener:web] proxy_protocol_tlvs: unknown TLV "
	              "\"foo\": expected none, or a list of mptcp, alpn, "
	              "authority, ssl, upstream");
	EXPECT_ERRORS(GOOD_LISTENER "proxy_protocol_tlvs = mptcp, MPTCP\n",
	              "t.ini:4: [listener:web] proxy_protocol_tlvs: \"MPTCP\" is "
	              "listed twice");
}
END_TEST

START_TEST(accept_proxy_defaults_and_keys)
{
	struct config *cfg = load_ok(GOOD_LISTENER);
	const struct listener_cfg *l = &cfg->listeners[0];
	char buf[CIDR_STRLEN];

	ck_assert_int_eq(l->accept_proxy, 0);
	ck_assert_uint_eq(l->nproxy_from, 0);
	ck_assert_uint_eq(l->accept_proxy_timeout_ms, 5000);
	config_free(cfg);

	cfg = load_ok(GOOD_LISTENER
	              "accept_proxy = on\n"
	              "accept_proxy_from = 192.0.2.0/24, 2001:db8::/32, "
	              "198.51.100.7\n"
	              "accept_proxy_timeout = 250ms\n");
	l = &cfg->listeners[0];
	ck_assert_int_eq(l->accept_proxy, 1);
	ck_assert_uint_eq(l->nproxy_from, 3);
	ck_assert_str_eq(cidr_format(&l->proxy_from[0], buf, sizeof(buf)),
	                 "192.0.2.0/24");
	ck_assert_str_eq(cidr_format(&l->proxy_from[1], buf, sizeof(buf)),
	                 "2001:db8::/32");
	ck_assert_str_eq(cidr_format(&l->proxy_from[2], buf, sizeof(buf)),
	                 "198.51.100.7/32");
	ck_assert_uint_eq(l->accept_proxy_timeout_ms, 250);
	ck_assert_uint_eq(l->pp_tlvs, PP_TLV_MPTCP);
	config_free(cfg);

	cfg = load_ok(GOOD_LISTENER
	              "accept_proxy = on\n"
	              "accept_proxy_from = 192.0.2.0/24\n"
	              "proxy_protocol_tlvs = upstream, mptcp\n");
	ck_assert_uint_eq(cfg->listeners[0].pp_tlvs,
	                  PP_TLV_MPTCP | PP_TLV_UPSTREAM);
	config_free(cfg);
}
END_TEST

START_TEST(source_limit_keys)
{
	struct config *cfg = load_ok(GOOD_LISTENER);

	ck_assert_uint_eq(cfg->listeners[0].max_per_source, 0);
	ck_assert_uint_eq(cfg->listeners[0].source_v4_bits, 32);
	ck_assert_uint_eq(cfg->listeners[0].source_v6_bits, 64);
	config_free(cfg);
	cfg = load_ok(GOOD_LISTENER "max_connections_per_source = 100\n"
	              "source_prefix = 24, 48\n");
	ck_assert_uint_eq(cfg->listeners[0].max_per_source, 100);
	ck_assert_uint_eq(cfg->listeners[0].source_v4_bits, 24);
	ck_assert_uint_eq(cfg->listeners[0].source_v6_bits, 48);
	config_free(cfg);
}
END_TEST

START_TEST(error_source_limit)
{
	EXPECT_ERRORS(GOOD_LISTENER "source_prefix = 24, 48\n",
	              "t.ini:4: [listener:web] source_prefix: has no effect "
	              "without max_connections_per_source");
	EXPECT_ERRORS(GOOD_LISTENER "max_connections_per_source = -1\n"
	              "source_prefix = 33, 64\n",
	              "t.ini:4: [listener:web] max_connections_per_source: "
	              "bad number \"-1\": expected an integer from 0 to "
	              "1000000",
	              "t.ini:5: [listener:web] source_prefix: IPv4 prefix "
	              "length: bad number \"33\": expected an integer from "
	              "1 to 32");
	EXPECT_ERRORS(GOOD_LISTENER "max_connections_per_source = 5\n"
	              "source_prefix = 64\n",
	              "t.ini:5: [listener:web] source_prefix: bad value "
	              "\"64\": expected two prefix lengths, IPv4 then IPv6 "
	              "(e.g. 32, 64)");
}
END_TEST

START_TEST(error_accept_proxy)
{
	EXPECT_ERRORS(GOOD_LISTENER "accept_proxy = on\n",
	              "t.ini:4: [listener:web] accept_proxy: needs "
	              "accept_proxy_from (the balancers allowed to send a "
	              "PROXY header)");
	EXPECT_ERRORS(GOOD_LISTENER "accept_proxy_from = 192.0.2.0/24\n"
	              "accept_proxy_timeout = 2s\n",
	              "t.ini:4: [listener:web] accept_proxy_from: has no "
	              "effect without accept_proxy = on",
	              "t.ini:5: [listener:web] accept_proxy_timeout: has no "
	              "effect without accept_proxy = on");
	EXPECT_ERRORS(GOOD_LISTENER "proxy_protocol_tlvs = mptcp, upstream\n",
	              "t.ini:4: [listener:web] proxy_protocol_tlvs: upstream "
	              "needs accept_proxy = on (they are the TLVs of the PROXY "
	              "header a balancer sends)");
	EXPECT_ERRORS(GOOD_LISTENER "accept_proxy = maybe\n"
	              "accept_proxy_from = 192.0.2.1/24, lb.example, , x\n",
	              "t.ini:4: [listener:web] accept_proxy: bad value "
	              "\"maybe\": expected on or off",
	              "t.ini:5: [listener:web] accept_proxy_from: empty item "
	              "in list");
	EXPECT_ERRORS(GOOD_LISTENER "accept_proxy = on\n"
	              "accept_proxy_from = 192.0.2.1/24, lb.example\n"
	              "accept_proxy_timeout = 0\n"
	              "accept_proxy_tiemout = 1s\n",
	              "t.ini:5: [listener:web] accept_proxy_from: bad prefix "
	              "\"192.0.2.1/24\": host bits set below /24; the network "
	              "is 192.0.2.0/24",
	              "t.ini:5: [listener:web] accept_proxy_from: bad prefix "
	              "\"lb.example\": bad address (expected an IPv4 or IPv6 "
	              "address, optionally with /PREFIX; no host names)",
	              "t.ini:6: [listener:web] accept_proxy_timeout: bad "
	              "duration \"0\": must be greater than 0",
	              "t.ini:7: [listener:web] accept_proxy_tiemout: unknown "
	              "key; did you mean \"accept_proxy_timeout\"?");
}
END_TEST

START_TEST(error_tls_keys_that_need_others)
{
	EXPECT_ERRORS(GOOD_LISTENER
	              "tls_key = /k.pem\n"
	              "tls_alpn = h2\n"
	              "tls_verify = required\n"
	              "proxy_protocol_tlvs = mptcp, alpn\n",
	              "t.ini:4: [listener:web] tls_key: has no effect without "
	              "tls_cert",
	              "t.ini:5: [listener:web] tls_alpn: has no effect without "
	              "tls_cert",
	              "t.ini:6: [listener:web] tls_verify: has no effect without "
	              "tls_cert",
	              "t.ini:7: [listener:web] proxy_protocol_tlvs: alpn, "
	              "authority and ssl need TLS termination (tls_cert) on "
	              "this listener");
	EXPECT_ERRORS(TLS_HEAD "tls_cert = /c.pem\n",
	              "t.ini:4: [listener:web] tls_cert: needs tls_key (the "
	              "private key of each certificate, in the same order)");
	EXPECT_ERRORS(TLS_HEAD "tls_cert = /a.pem, /b.pem\ntls_key = /a.key\n",
	              "t.ini:5: [listener:web] tls_key: 1 key for 2 "
	              "certificates: give one key per certificate, in the "
	              "same order");
	EXPECT_ERRORS(TLS_HEAD "tls_cert = /a.pem\ntls_key = /a.key\n"
	              "tls_verify = optional\n",
	              "t.ini:6: [listener:web] tls_verify: optional needs "
	              "tls_client_ca (the CAs that issue client certificates)");
	EXPECT_ERRORS(TLS_HEAD "tls_cert = /a.pem\ntls_key = /a.key\n"
	              "tls_client_ca = /ca.pem\n",
	              "t.ini:6: [listener:web] tls_client_ca: has no effect with "
	              "tls_verify = off");
	EXPECT_ERRORS(GOOD_LISTENER "proxy_protocol = v1\n"
	              "proxy_protocol_tlvs = mptcp\n",
	              "t.ini:5: [listener:web] proxy_protocol_tlvs: has no "
	              "effect with proxy_protocol = v1 (TLVs are a v2 feature)");
}
END_TEST

/* Files are read at load time: -t and a reload name the file, the line
 * and OpenSSL's reason. */
START_TEST(error_tls_files)
{
	const char *dir;
	char enc[512];
	FILE *f;

	tls_files();
	dir = test_cert_dir();
	EXPECT_ERRORS(fmtbuf(TLS_HEAD "tls_cert = %s/none.crt\n"
	                     "tls_key = %s\n", dir, t_a.key_path),
	              fmtbuf("t.ini:4: [listener:web] tls_cert: %s/none.crt: "
	                     "cannot open: No such file or directory", dir));
	EXPECT_ERRORS(fmtbuf(TLS_HEAD "tls_cert = %s\ntls_key = %s\n",
	                     t_a.key_path, t_a.cert_path),
	              fmtbuf("t.ini:4: [listener:web] tls_cert: %s: no PEM "
	                     "certificate: no start line", t_a.key_path),
	              fmtbuf("t.ini:5: [listener:web] tls_key: %s: no PEM "
	                     "private key in it (a \"BEGIN ... PRIVATE KEY\" "
	                     "block)", t_a.cert_path));
	/* The second pair's key belongs to the first certificate. */
	EXPECT_ERRORS(fmtbuf(TLS_HEAD "tls_cert = %s, %s\ntls_key = %s, %s\n",
	                     t_a.cert_path, t_b.cert_path, t_a.key_path,
	                     t_a.key_path),
	              fmtbuf("t.ini:5: [listener:web] tls_key: %s does not "
	                     "match certificate %s: key values mismatch",
	                     t_a.key_path, t_b.cert_path));
	EXPECT_ERRORS(fmtbuf(TLS_HEAD "tls_cert = %s\ntls_key = %s\n"
	                     "tls_ciphers = NOPE\n"
	                     "tls_verify = required\n"
	                     "tls_client_ca = %s/none.pem\n",
	                     t_a.cert_path, t_a.key_path, dir),
	              "t.ini:6: [listener:web] tls_ciphers: \"NOPE\": no cipher "
	              "match",
	              fmtbuf("t.ini:8: [listener:web] tls_client_ca: "
	                     "%s/none.pem: cannot open: No such file or "
	                     "directory", dir));
	EXPECT_ERRORS(fmtbuf(TLS_HEAD "tls_cert = %s\ntls_key = %s\n"
	                     "tls_ciphersuites = TLS_NOPE\n",
	                     t_a.cert_path, t_a.key_path),
	              "t.ini:6: [listener:web] tls_ciphersuites: \"TLS_NOPE\": "
	              "no cipher match");
	/* An encrypted key cannot be unlocked by a daemon. */
	snprintf(enc, sizeof(enc), "%s/enc.key", dir);
	f = fopen(enc, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert(PEM_write_PrivateKey(f, t_a.key, EVP_aes_128_cbc(),
	                               (unsigned char *)"secret", 6, NULL,
	                               NULL));
	fclose(f);
	EXPECT_ERRORS(fmtbuf(TLS_HEAD "tls_cert = %s\ntls_key = %s\n",
	                     t_a.cert_path, enc),
	              fmtbuf("t.ini:5: [listener:web] tls_key: %s: the key is "
	                     "encrypted; give it unencrypted (openssl pkey -in "
	                     "KEY -out NEWKEY) and protect the file instead",
	                     enc));
	unlink(enc);
	tls_files_free();
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("config");

	ADD(s, minimal_file_gets_defaults);
	ADD(s, full_file_sets_every_key);
	ADD(s, user_and_group_values);
	ADD(s, comments_blank_lines_and_layout);
	ADD(s, inline_comment_needs_a_blank_before_it);
	ADD(s, keywords_are_case_insensitive);
	ADD(s, mptcp_modes);
	ADD(s, proxy_protocol_modes);
	ADD(s, log_targets);
	ADD(s, limits_accept_their_bounds);
	ADD(s, workers_values);
	ADD(s, splice_values);
	ADD(s, pipe_size_values);
	ADD(s, stats_values);
	ADD(s, stats_exposed_warning);
	ADD(s, stats_beside_listeners);
	ADD(s, backend_failover_order_kept);
	ADD(s, backend_host_name_resolved_at_load);
	ADD(s, dual_stack_wildcard_alone);
	ADD(s, v6only_when_same_listener_binds_ipv4_same_port);
	ADD(s, dual_stack_kept_when_ipv4_on_other_port);
	ADD(s, explicit_v6only_overrides);
	ADD(s, v6only_listener_allows_ipv4_elsewhere);
	ADD(s, port_zero_is_never_the_same_port);
	ADD(s, port_zero_binds_never_conflict);
	ADD(s, listener_names_allowed);
	ADD(s, longest_line_is_not_truncated);
	/* Under `make check` top_srcdir is exported, so this always runs
	 * there; by hand it runs from the source tree's top. */
	if (getenv("top_srcdir") != NULL ||
	    access("conf/mptcp-frontd.ini", F_OK) == 0)
		ADD(s, example_config_loads);

	ADD(s, error_key_outside_section);
	ADD(s, error_unknown_section_near_global);
	ADD(s, error_unknown_section_near_listener);
	ADD(s, error_unknown_section);
	ADD(s, error_bad_listener_name);
	ADD(s, error_duplicate_listener_name);
	ADD(s, error_duplicate_global_section);
	ADD(s, error_text_after_header);
	ADD(s, error_header_without_closing_bracket);
	ADD(s, error_not_a_key_value_line);
	ADD(s, error_missing_key_name);
	ADD(s, error_continuation_line);
	ADD(s, error_line_too_long);
	ADD(s, error_long_header_line_drops_its_keys);
	ADD(s, error_missing_required_keys);
	ADD(s, error_no_listener);
	ADD(s, error_unknown_key_with_suggestion);
	ADD(s, error_unknown_key);
	ADD(s, error_key_in_wrong_section);
	ADD(s, error_duplicate_key);
	ADD(s, error_empty_value);
	ADD(s, error_bad_global_values);
	ADD(s, error_unknown_user_or_group);
	ADD(s, error_group_without_user);
	ADD(s, error_bad_workers);
	ADD(s, error_bad_splice);
	ADD(s, error_bad_pipe_size);
	ADD(s, error_pipe_size_without_splice);
	ADD(s, error_bad_stats);
	ADD(s, error_stats_overlaps_listener);
	ADD(s, error_bad_listener_values);
	ADD(s, backend_retry_bounds);
	ADD(s, error_bad_bind);
	ADD(s, error_bind_list_shape);
	ADD(s, error_bad_backend);
	ADD(s, error_backend_does_not_resolve);
	ADD(s, error_duplicate_bind_across_listeners);
	ADD(s, error_bind_listed_twice);
	ADD(s, error_bind_overlaps_wildcard);
	ADD(s, error_dual_stack_overlaps_ipv4_in_other_listener);
	ADD(s, error_dual_stack_forced_with_ipv4_same_listener);
	ADD(s, error_v6only_without_ipv6_bind);
	ADD(s, error_many_in_one_file_in_line_order);
	ADD(s, tls_plain_listener_defaults);
	ADD(s, tls_listener_defaults_and_keys);
	ADD(s, error_bad_tls_values);
	ADD(s, error_tls_keys_that_need_others);
	ADD(s, error_tls_files);
	ADD(s, accept_proxy_defaults_and_keys);
	ADD(s, error_accept_proxy);
	ADD(s, source_limit_keys);
	ADD(s, error_source_limit);

	ADD(s, file_loads_and_names_itself);
	ADD(s, file_missing);
	ADD(s, file_is_a_directory);
	if (geteuid() != 0)
		ADD(s, file_unreadable);
	ADD(s, file_with_nul_byte);
	ADD(s, file_writable_by_others_refused);
	if (geteuid() == 0)
		ADD(s, file_owned_by_another_user_refused_as_root);
	ADD(s, errors_are_appended);
	return s;
}

UNIT_MAIN(make_suite)
