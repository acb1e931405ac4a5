/* The relay over socketpairs and loopback TCP: both data paths carry every
 * byte, a slow reader stops the reading (backpressure), EOF is passed on
 * each way (half-close), a reset is reported as the source's error, splice
 * falls back to copying where the kernel refuses it, and the queued PROXY
 * header leaves in one write with the client's first bytes. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay.h"
#include "unit.h"
#include "xport.h"

/* A: the test's end towards the relay's source a; b: the relay's
 * destination, B the test's end of it. */
struct rig {
	int A, a, b, B;
	struct xport xa, xb;
	struct relay_dir d;
};

static void pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	                            sv), 0);
}

/* A connected loopback TCP pair (non-blocking), for resets. */
static void tcp_pair(int sv[2])
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(sv[0], 0);
	connect(sv[0], (struct sockaddr *)&sin, sizeof(sin));
	sv[1] = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	ck_assert_int_ge(sv[1], 0);
	close(l);
}

static void rig_init(struct rig *r, int tcp_source, int copy)
{
	int s[2], t[2];

	if (tcp_source)
		tcp_pair(s);
	else
		pair(s);
	pair(t);
	r->A = s[0];
	r->a = s[1];
	r->b = t[0];
	r->B = t[1];
	xport_init(&r->xa, r->a);
	xport_init(&r->xb, r->b);
	relay_set_splice(!copy);
	relay_init(&r->d);
	relay_set_splice(1);
}

static void rig_free(struct rig *r)
{
	relay_release(&r->d);
	close(r->A);
	close(r->a);
	close(r->b);
	close(r->B);
}

static enum relay_result pump(struct rig *r, int *err)
{
	*err = 0;
	return relay_pump(&r->d, &r->xa, &r->xb, err);
}

/* Read what B has now (up to cap); returns the count. */
static size_t drain(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* len bytes of out written to A in chunks, pumped, and read back at B
 * into in: every byte arrives, in order. */
static void transfer(struct rig *r, const char *out, char *in, size_t len,
                     size_t chunk)
{
	size_t sent = 0, got = 0;
	int err;

	for (int round = 0; round < 100000 && got < len; round++) {
		if (sent < len) {
			ssize_t n = write(r->A, out + sent,
			                  len - sent < chunk ? len - sent : chunk);
			if (n > 0)
				sent += (size_t)n;
		}
		ck_assert_int_eq(pump(r, &err), RELAY_OK);
		got += drain(r->B, in + got, len - got);
	}
	ck_assert_uint_eq(got, len);
	ck_assert_int_eq(memcmp(in, out, len), 0);
}

/* 4 MiB through each path, in 16 KiB writes, read back in order. */
START_TEST(test_every_byte_both_paths)
{
	static char out[4 << 20], in[4 << 20];
	struct rig r;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + i / 4096);
	rig_init(&r, 0, _i);
	transfer(&r, out, in, sizeof(out), 16384);
	ck_assert_uint_eq(r.d.bytes, sizeof(in));
	ck_assert_int_eq(r.d.copy, _i);
	rig_free(&r);
}
END_TEST

/* B never reads: the relay stops reading A once a buffer's worth is stuck
 * (it does not soak up everything A sends), and resumes once B drains. */
START_TEST(test_backpressure)
{
	static char chunk[65536], sink[1 << 20];
	size_t sent = 0;
	struct rig r;
	int err, stalled = 0;

	memset(chunk, 'x', sizeof(chunk));
	rig_init(&r, 0, _i);
	for (int round = 0; round < 2000; round++) {
		ssize_t n = write(r.A, chunk, sizeof(chunk));
		if (n > 0)
			sent += (size_t)n;
		ck_assert_int_eq(pump(&r, &err), RELAY_OK);
		if (relay_pending(&r.d) && !relay_wants_read(&r.d) && n < 0) {
			stalled = 1;
			break;
		}
	}
	ck_assert_msg(stalled, "the relay never stopped reading");
	/* What the relay took is what B's socket holds plus one buffer or
	 * pipe: the rest waits in A's socket. */
	ck_assert_uint_lt(r.d.bytes, sent);
	ck_assert(relay_wants_write(&r.d));
	/* B reads: the relay writes the rest and reads again. */
	for (int round = 0; round < 1000 && relay_pending(&r.d); round++) {
		drain(r.B, sink, sizeof(sink));
		ck_assert_int_eq(pump(&r, &err), RELAY_OK);
	}
	ck_assert(!relay_pending(&r.d));
	ck_assert(relay_wants_read(&r.d));
	rig_free(&r);
}
END_TEST

/* A closes its sending side: the relay passes the FIN to B once every
 * byte is out; B can still send the other way, and A gets it. */
START_TEST(test_half_close)
{
	struct relay_dir back;
	struct rig r;
	char buf[64];
	int err;

	rig_init(&r, 0, _i);
	relay_init(&back);
	ck_assert_int_eq(write(r.A, "last words", 10), 10);
	ck_assert_int_eq(shutdown(r.A, SHUT_WR), 0);
	for (int round = 0; round < 100 && !relay_done(&r.d); round++)
		ck_assert_int_eq(pump(&r, &err), RELAY_OK);
	ck_assert(relay_done(&r.d));
	ck_assert_int_eq(read(r.B, buf, sizeof(buf)), 10);
	ck_assert_int_eq(read(r.B, buf, sizeof(buf)), 0);      /* the FIN */
	/* The other way still works. */
	ck_assert_int_eq(write(r.B, "reply", 5), 5);
	ck_assert_int_eq(relay_pump(&back, &r.xb, &r.xa, &err), RELAY_OK);
	ck_assert_int_eq(read(r.A, buf, sizeof(buf)), 5);
	ck_assert(!back.eof);
	/* Then that way ends too. */
	ck_assert_int_eq(shutdown(r.B, SHUT_WR), 0);
	ck_assert_int_eq(relay_pump(&back, &r.xb, &r.xa, &err), RELAY_OK);
	ck_assert(relay_done(&back));
	ck_assert_int_eq(read(r.A, buf, sizeof(buf)), 0);
	relay_release(&back);
	rig_free(&r);
}
END_TEST

/* fin_by_close: the caller closes the destination right after, whose
 * close carries the FIN: no shutdown() then, and the direction is done. */
START_TEST(test_fin_by_close)
{
	struct rig r;
	int err;

	rig_init(&r, 0, 0);
	r.d.fin_by_close = 1;
	ck_assert_int_eq(shutdown(r.A, SHUT_WR), 0);
	ck_assert_int_eq(pump(&r, &err), RELAY_OK);
	ck_assert(relay_done(&r.d));
	/* No FIN was sent: B's read would block, not return 0. */
	char c;
	ck_assert_int_eq(read(r.B, &c, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	rig_free(&r);
}
END_TEST

/* A resets its connection: the pump reports the source's error. */
START_TEST(test_reset)
{
	struct linger lg = { 1, 0 };
	struct rig r;
	struct pollfd p;
	int err;

	rig_init(&r, 1, _i);
	ck_assert_int_eq(setsockopt(r.A, SOL_SOCKET, SO_LINGER, &lg,
	                            sizeof(lg)), 0);
	close(r.A);
	r.A = -1;
	p.fd = r.a;
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_int_eq(pump(&r, &err), RELAY_SRC_ERROR);
	ck_assert_int_eq(err, ECONNRESET);
	r.A = dup(r.B);         /* for rig_free */
	rig_free(&r);
}
END_TEST

/* An eventfd cannot be spliced (EINVAL): the direction copies for good,
 * and the bytes still arrive. */
START_TEST(test_splice_falls_back_to_copy)
{
	struct rig r;
	uint64_t v = 0;
	int err;

	rig_init(&r, 0, 0);
	close(r.a);
	r.a = eventfd(5, EFD_NONBLOCK);
	ck_assert_int_ge(r.a, 0);
	xport_init(&r.xa, r.a);
	ck_assert_int_eq(r.d.copy, 0);
	r.d.bulk = 1;           /* in a bulk transfer: splicing */
	ck_assert_int_eq(pump(&r, &err), RELAY_OK);
	ck_assert_int_eq(r.d.copy, 1);
	ck_assert_int_eq(read(r.B, &v, sizeof(v)), (ssize_t)sizeof(v));
	ck_assert_uint_eq(v, 5);
	ck_assert_uint_eq(r.d.bytes, sizeof(v));
	rig_free(&r);
}
END_TEST

/* On the splice path a small message is copied (no pipe taken); a read
 * that fills the buffer switches to splice for good (a pipe is used, every
 * byte arrives in order, a small message after it too). */
START_TEST(test_small_copied_bulk_spliced)
{
	static char out[1 << 20], in[1 << 20];
	struct rig r;
	int err;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 13 + i / 4096);
	rig_init(&r, 0, 0);
	ck_assert_int_eq(write(r.A, "GET /", 5), 5);
	ck_assert_int_eq(pump(&r, &err), RELAY_OK);
	ck_assert_int_eq(drain(r.B, in, sizeof(in)), 5);
	ck_assert_uint_eq(relay_pipes_pooled() + relay_pipes_in_use(), 0);
	ck_assert_int_eq(r.d.bulk, 0);
	transfer(&r, out, in, sizeof(out), 65536);
	ck_assert_uint_ge(relay_pipes_pooled() + relay_pipes_in_use(), 1);
	ck_assert_int_eq(r.d.bulk, 1);
	ck_assert_int_eq(write(r.A, "ok", 2), 2);
	ck_assert_int_eq(pump(&r, &err), RELAY_OK);
	ck_assert_int_eq(drain(r.B, in, sizeof(in)), 2);
	ck_assert_int_eq(r.d.bulk, 1);
	ck_assert_uint_eq(r.d.bytes, 5 + sizeof(in) + 2);
	rig_free(&r);
}
END_TEST

/* The PROXY header is queued; the client's first bytes are already
 * there: one read on the other side gets both, header first, and the
 * header is not counted as payload.  That short read emptied the socket,
 * so the pump stops there: no splice that could only say EAGAIN (it would
 * take a pipe into the pool). */
START_TEST(test_header_joined_with_first_bytes)
{
	char buf[256];
	struct rig r;
	int err;
	unsigned pooled;

	rig_init(&r, 0, _i);
	ck_assert_int_eq(relay_queue(&r.d, "PROXY TCP4 x\r\n", 14), 0);
	ck_assert_int_eq(write(r.A, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	pooled = relay_pipes_pooled();
	ck_assert_int_eq(pump(&r, &err), RELAY_OK);
	ck_assert_uint_eq(relay_pipes_pooled(), pooled);
	ck_assert_int_eq(read(r.B, buf, sizeof(buf)), 14 + 18);
	ck_assert_int_eq(memcmp(buf, "PROXY TCP4 x\r\nGET / ", 20), 0);
	ck_assert_uint_eq(r.d.bytes, 18);
	rig_free(&r);
}
END_TEST

/* A header alone (the client has sent nothing yet) goes out at once. */
START_TEST(test_header_alone)
{
	char buf[64];
	struct rig r;
	int err;

	rig_init(&r, 0, _i);
	ck_assert_int_eq(relay_queue(&r.d, "HDR", 3), 0);
	ck_assert_int_eq(pump(&r, &err), RELAY_OK);
	ck_assert_int_eq(read(r.B, buf, sizeof(buf)), 3);
	ck_assert(!relay_pending(&r.d));
	ck_assert(r.d.buf == NULL);     /* idle directions hold no memory */
	rig_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("relay");

	/* _i: 0 splice, 1 copy. */
	UNIT_ADD_LOOP(s, test_every_byte_both_paths, 2);
	UNIT_ADD_LOOP(s, test_backpressure, 2);
	UNIT_ADD_LOOP(s, test_half_close, 2);
	UNIT_ADD(s, test_fin_by_close);
	UNIT_ADD_LOOP(s, test_reset, 2);
	UNIT_ADD(s, test_splice_falls_back_to_copy);
	UNIT_ADD(s, test_small_copied_bulk_spliced);
	UNIT_ADD_LOOP(s, test_header_joined_with_first_bytes, 2);
	UNIT_ADD_LOOP(s, test_header_alone, 2);
	return s;
}

UNIT_MAIN(suite)
