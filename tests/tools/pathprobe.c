/* pathprobe: the path record against a real kernel, for
 * tests/integration/multipath_paths.sh.
 *
 *   pathprobe server ADDR PORT MIB [TICK_MS]
 *       Joins the path-manager event group (needs CAP_NET_ADMIN; says
 *       "events=off ERR" without), listens on an MPTCP socket (PORT 0: any;
 *       prints "listening PORT"), accepts one client, reads its request
 *       (the client's first 64 KiB), sends MIB MiB, half-closes and waits
 *       for the client's end.  Meanwhile it samples the record every
 *       TICK_MS (100) and feeds it every event of its token, as the daemon
 *       will; it prints "progress BYTES" lines, then the record.
 *   pathprobe client ADDR PORT [tcp]
 *       Connects (MPTCP unless "tcp"), sends the 64 KiB request, reads to
 *       the end and prints "received BYTES". */
#include <errno.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "mptcp_nl.h"
#include "mptcp_paths.h"

#define REQUEST_BYTES (64 * 1024)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sock_for(const char *host, const char *port, int proto,
                    int listening)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	                          .ai_flags = listening ? AI_PASSIVE : 0 };
	struct addrinfo *ai;
	int fd, one = 1, rc;

	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "pathprobe: %s: %s\n", host, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, proto);
	if (fd < 0 ||
	    (listening
	             ? setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	                          sizeof(one)) < 0 ||
	                       bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	                       listen(fd, 4) < 0
	             : connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)) {
		perror("pathprobe: socket");
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static int client(const char *host, const char *port, int tcp)
{
	static char buf[1 << 16];
	uint64_t got = 0;
	int fd = sock_for(host, port, tcp ? IPPROTO_TCP : IPPROTO_MPTCP, 0);

	if (fd < 0)
		return 1;
	memset(buf, 'r', sizeof(buf));
	if (send(fd, buf, REQUEST_BYTES, MSG_NOSIGNAL) != REQUEST_BYTES) {
		perror("pathprobe: send");
		return 1;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("pathprobe: recv");
			return 1;
		}
		if (n == 0)
			break;
		got += (uint64_t)n;
	}
	printf("received %" PRIu64 "\n", got);
	close(fd);
	return 0;
}

/* The server's connection and what it has done so far. */
struct srv {
	struct mptcp_paths rec;
	int64_t t0;
	unsigned events;                /* events of our token */
};

static void on_event(const struct mptcp_pm_event *ev, void *arg)
{
	struct srv *s = arg;

	/* The daemon looks the token up among its connections. */
	if (!s->rec.has_token || ev->token != s->rec.token)
		return;
	s->events++;
	printf("event type=%u error=%d after=%" PRId64 "ms\n", ev->type,
	       ev->error, now_ms() - s->t0);
	mptcp_paths_event(&s->rec, ev, now_ms() - s->t0);
}

static void print_record(const struct srv *s, uint64_t bytes_out)
{
	static char text[8192];
	const struct mptcp_paths *r = &s->rec;

	printf("how=%s\n", mptcp_paths_how_name(r->how));
	printf("bytes_out=%" PRIu64 "\n", bytes_out);
	printf("totals bytes_acked=%" PRIu64 " bytes_sent=%" PRIu64
	       " bytes_received=%" PRIu64 " flags=%" PRIu32 " token=%s\n",
	       r->totals.bytes_acked, r->totals.bytes_sent,
	       r->totals.bytes_received, r->totals.flags,
	       r->has_token ? "yes" : "no");
	printf("events=%u\n", s->events);
	printf("joins=%u\n", mptcp_paths_joins(r));
	mptcp_paths_format_log(r, text, sizeof(text));
	printf("paths=%s\n", text);
	mptcp_paths_format_json(r, text, sizeof(text));
	printf("json=%s\n", text);
	for (unsigned i = 0; i < r->n; i++) {
		const struct mptcp_path *p = &r->path[i];
		char prec[64];
		char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN];

		inet_ntop(p->local.family, &p->local.a, local, sizeof(local));
		inet_ntop(p->remote.family, &p->remote.a, remote,
		          sizeof(remote));
		printf("path %u local=%s remote=%s acked=%" PRIu64 " end=%s "
		       "error=%d established_ms=%" PRId64 " closed_ms=%" PRId64
		       " precision=%s\n",
		       i, local, remote, p->tcp.bytes_acked,
		       mptcp_path_end_name(p->end), p->error,
		       p->established_ms, p->closed_ms,
		       mptcp_paths_precision_text(p->precision, prec,
		                                  sizeof(prec)));
	}
}

static int server(const char *host, const char *port, long mib, long tick)
{
	static char buf[1 << 16];
	struct srv s;
	uint16_t family = 0;
	int evfd = mptcp_nl_events_open(&family);
	int lfd = sock_for(host, port, IPPROTO_MPTCP, 1), fd;
	uint64_t want = (uint64_t)mib << 20, out = 0, in = 0, last_note = 0;
	int64_t next_tick;
	int wr_done = 0;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (evfd < 0)
		printf("events=off %s\n", strerror(-evfd));
	if (lfd < 0 || getsockname(lfd, (struct sockaddr *)&ss, &sl) < 0)
		return 1;
	printf("listening %u\n",
	       ntohs(((struct sockaddr_in *)&ss)->sin_port)); /* same offset in v6 */
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		perror("pathprobe: accept");
		return 1;
	}
	memset(&s, 0, sizeof(s));
	s.t0 = now_ms();
	mptcp_paths_init(&s.rec);
	mptcp_paths_poll(fd, &s.rec, 0, 0);
	printf("accepted how=%s\n", mptcp_paths_how_name(s.rec.how));
	memset(buf, 'd', sizeof(buf));
	next_tick = now_ms() + tick;
	/* Bounded: a stuck transfer ends after two minutes. */
	while (now_ms() - s.t0 < 120000) {
		struct pollfd pf[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = evfd, .events = POLLIN },
		};
		int64_t wait = next_tick - now_ms();
		ssize_t n;

		if (in >= REQUEST_BYTES && !wr_done)
			pf[0].events |= POLLOUT;
		if (poll(pf, evfd >= 0 ? 2 : 1, wait > 0 ? (int)wait : 0) < 0 &&
		    errno != EINTR)
			return 1;
		if (evfd >= 0 && (pf[1].revents & POLLIN))
			(void)mptcp_pm_events_read(evfd, family, on_event, &s);
		if (now_ms() >= next_tick) {
			mptcp_paths_poll(fd, &s.rec, now_ms() - s.t0, 0);
			next_tick += tick;
		}
		if (pf[0].revents & POLLIN) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0)
				break;          /* the client has everything */
			if (n > 0)
				in += (uint64_t)n;
			else if (errno != EAGAIN && errno != EINTR)
				break;
		}
		if ((pf[0].revents & POLLOUT) && !wr_done) {
			size_t len = want - out < sizeof(buf) ? want - out
			                                      : sizeof(buf);

			n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				out += (uint64_t)n;
			else if (errno != EAGAIN && errno != EINTR)
				break;
			if (out >= want) {
				shutdown(fd, SHUT_WR);
				wr_done = 1;
			}
		}
		if (out - last_note >= (1u << 20)) {
			printf("progress %" PRIu64 "\n", out);
			fflush(stdout);
			last_note = out;
		}
	}
	/* Events already queued for this connection come first. */
	if (evfd >= 0)
		(void)mptcp_pm_events_read(evfd, family, on_event, &s);
	mptcp_paths_poll(fd, &s.rec, now_ms() - s.t0, 1);
	print_record(&s, out);
	close(fd);
	close(lfd);
	if (evfd >= 0)
		close(evfd);
	return out == want ? 0 : 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && strcmp(argv[1], "client") == 0)
		return client(argv[2], argv[3],
		              argc > 4 && strcmp(argv[4], "tcp") == 0);
	if (argc >= 5 && strcmp(argv[1], "server") == 0)
		return server(argv[2], argv[3], atol(argv[4]),
		              argc > 5 ? atol(argv[5]) : 100);
	fprintf(stderr, "usage: pathprobe server ADDR PORT MIB [TICK_MS] | "
	                "pathprobe client ADDR PORT [tcp]\n");
	return 64;
}
