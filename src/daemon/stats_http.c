/* The stats listener (see stats_http.h for what it promises).  Runs on
 * worker 0's event loop; nothing here is shared with other threads except
 * the counters it reads and the /connections snapshots (snapshot.h). */
#include <errno.h>
#include <fcntl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "snapshot.h"
#include "sockact.h"
#include "stats_http.h"
#include "worker.h"

#define LISTEN_BACKLOG 64

enum route { ROUTE_METRICS, ROUTE_CONNECTIONS, ROUTE_PAGE };

static const struct {
	const char *path;
	enum route route;
} routes[] = {
	{ "/metrics", ROUTE_METRICS },
	{ "/connections", ROUTE_CONNECTIONS },
	{ "/", ROUTE_PAGE },
	{ "/status", ROUTE_PAGE },
};

struct stats_conn {
	struct stats_http *h;
	struct bufferevent *bev;        /* owns the socket */
	struct event *deadline;
	struct stats_conn *prev, *next;
	size_t got;                     /* request bytes consumed so far */
	int have_line;                  /* request line read */
	int status;                     /* decided by the request line */
	int head_only;                  /* HEAD: no body */
	int responded;                  /* response queued: now lingering */
	enum route route;               /* when status is 200 */
	unsigned limit;                 /* /connections?limit= */
	struct snapshot *snap;          /* /connections being gathered */
	char detail[160];               /* why a 400 */
};

struct stats_http {
	struct event_base *base;
	int fd;
	struct addr bound;
	struct event *accept_ev, *backoff_ev;
	int accepting;                  /* accept_ev added */
	int backoff;                    /* paused after EMFILE & co */
	uint64_t failures;              /* failed accepts since the warning */
	struct stats_conn *conns;
	unsigned nconns;
	struct listener_stats *const *head;
	_Atomic uint64_t *const *worker_accepted;
	unsigned nworkers;
	const struct stats_config *config;
	struct pool *pool;              /* whose connections /connections lists */
};

/* Accept while not paused and below the cap; otherwise clients wait in
 * the backlog. */
static void update_accepting(struct stats_http *h)
{
	int want = !h->backoff && h->nconns < STATS_HTTP_MAX_CONNS;

	if (want == h->accepting)
		return;
	if (want)
		event_add(h->accept_ev, NULL);
	else
		event_del(h->accept_ev);
	h->accepting = want;
}

static void conn_free(struct stats_conn *c)
{
	struct stats_http *h = c->h;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	snapshot_release(c->snap);      /* still gathering: cancelled */
	event_free(c->deadline);
	bufferevent_free(c->bev);
	free(c);
	h->nconns--;
	update_accepting(h);
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	default: return "Internal Server Error";
	}
}

/* The 200 body of c's route into body: 0, or -1 when it cannot be made. */
static int render(struct stats_conn *c, struct evbuffer *body)
{
	struct stats_http *h = c->h;
	size_t len;
	const char *page;

	switch (c->route) {
	case ROUTE_METRICS:
		return metrics_render(body, *h->head) < 0 ||
		       metrics_render_workers(body, h->worker_accepted,
		                              h->nworkers) < 0 ||
		       metrics_render_kernel(body) < 0 ||
		       (h->config != NULL &&
		        metrics_render_config(body, h->config) < 0) ? -1 : 0;
	case ROUTE_CONNECTIONS:
		return snapshot_render(c->snap, body);
	case ROUTE_PAGE:
		page = stats_http_page(&len);
		return evbuffer_add_reference(body, page, len, NULL, NULL);
	}
	return -1;
}

static const char *content_type(const struct stats_conn *c)
{
	if (c->status != 200)
		return "text/plain";
	switch (c->route) {
	case ROUTE_METRICS: return "text/plain; version=0.0.4";
	case ROUTE_CONNECTIONS: return "application/json";
	case ROUTE_PAGE: return "text/html; charset=utf-8";
	}
	return "text/plain";
}

/* The body for c->status: the route's, or one line saying what went
 * wrong.  On a render failure c->status becomes 500. */
static struct evbuffer *make_body(struct stats_conn *c)
{
	struct evbuffer *body = evbuffer_new();

	if (body == NULL)
		return NULL;
	if (c->status == 200 && render(c, body) < 0) {
		log_error("stats: cannot render a response: out of memory");
		evbuffer_drain(body, evbuffer_get_length(body));
		c->status = 500;
	}
	snapshot_release(c->snap);
	c->snap = NULL;
	if (c->status != 200 &&
	    evbuffer_add_printf(body, "%d %s%s%s\n", c->status,
	                        reason_phrase(c->status),
	                        c->status == 404 ? ": try /, /connections or "
	                                           "/metrics" :
	                        c->detail[0] != '\0' ? ": " : "",
	                        c->detail) < 0) {
		evbuffer_free(body);
		return NULL;
	}
	return body;
}

/* Queue the whole response, stop reading the request and wait for it to
 * drain (on_write). */
static void respond(struct stats_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer *body = make_body(c);

	c->responded = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (body == NULL ||
	    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	                        "Content-Length: %zu\r\nCache-Control: no-store"
	                        "\r\n%sConnection: close\r\n\r\n", c->status,
	                        reason_phrase(c->status), content_type(c),
	                        evbuffer_get_length(body),
	                        c->status == 405 ? "Allow: GET, HEAD\r\n" : "") < 0 ||
	    (!c->head_only && evbuffer_add_buffer(out, body) < 0)) {
		log_error("stats: out of memory for a response");
		if (body != NULL)
			evbuffer_free(body);
		conn_free(c);
		return;
	}
	evbuffer_free(body);
}

static void on_snapshot(struct snapshot *s, void *arg)
{
	respond(arg);
}

/* The end of the request: answer, or for /connections ask the workers
 * first (on_snapshot answers). */
static void request_done(struct stats_conn *c)
{
	if (c->status != 200 || c->route != ROUTE_CONNECTIONS) {
		respond(c);
		return;
	}
	bufferevent_disable(c->bev, EV_READ);
	c->snap = snapshot_start(c->h->pool, c->limit, on_snapshot, c);
	if (c->snap == NULL) {
		c->status = 500;
		respond(c);
	}
}

/* The query of /connections: limit=N (1..SNAPSHOT_LIMIT_MAX, the last one
 * given counts); other parameters (a cache buster, say) are ignored. */
static void parse_query(struct stats_conn *c, char *query)
{
	char *save = NULL, *item;

	c->limit = SNAPSHOT_LIMIT_DEFAULT;
	if (query == NULL)
		return;
	query[strcspn(query, "#")] = '\0';
	for (item = strtok_r(query, "&", &save); item != NULL;
	     item = strtok_r(NULL, "&", &save)) {
		char *value = strchr(item, '='), err[128];
		uint64_t v;
		if (value != NULL)
			*value++ = '\0';
		if (strcmp(item, "limit") != 0)
			continue;
		if (parse_uint(value != NULL ? value : "", 1, SNAPSHOT_LIMIT_MAX,
		               &v, err, sizeof(err)) < 0) {
			c->status = 400;
			snprintf(c->detail, sizeof(c->detail), "limit: %s", err);
			return;
		}
		c->limit = (unsigned)v;
	}
}

/* "METHOD TARGET HTTP/1.x": sets c->status (200 when it asks for a page
 * we serve), c->route and c->head_only. */
static void parse_request_line(struct stats_conn *c, char *line)
{
	char *method = line, *target, *version, *end;
	size_t len, i;

	target = strchr(method, ' ');
	version = target != NULL ? strchr(target + 1, ' ') : NULL;
	if (version == NULL || strncmp(version + 1, "HTTP/1.", 7) != 0) {
		c->status = 400;
		return;
	}
	*target++ = '\0';
	*version = '\0';
	/* An absolute-form target names the host first. */
	if (strncasecmp(target, "http://", 7) == 0) {
		char *slash = strchr(target + 7, '/');
		target = slash != NULL ? slash : (char *)"/";
	}
	end = target + strcspn(target, "?#");
	len = (size_t)(end - target);
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strlen(routes[i].path) == len &&
		    memcmp(target, routes[i].path, len) == 0)
			break;
	if (i == sizeof(routes) / sizeof(routes[0])) {
		c->status = 404;
		return;
	}
	c->route = routes[i].route;
	if (strcmp(method, "GET") == 0)
		c->status = 200;
	else if (strcmp(method, "HEAD") == 0)
		c->status = 200, c->head_only = 1;
	else
		c->status = 405;
	if (c->status == 200 && c->route == ROUTE_CONNECTIONS)
		parse_query(c, *end == '?' ? end + 1 : NULL);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct stats_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line;

	if (c->responded) {             /* lingering: drop what comes */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		c->got += n + 2;
		if (c->got > STATS_HTTP_REQUEST_MAX) {
			free(line);
			break;
		}
		if (!c->have_line) {
			/* Empty lines before the request line are allowed. */
			if (n > 0) {
				c->have_line = 1;
				parse_request_line(c, line);
			}
		} else if (n == 0) {    /* end of the headers */
			free(line);
			request_done(c);
			return;
		}
		free(line);
		if (c->status == 400) {
			respond(c);
			return;
		}
	}
	if (c->got + evbuffer_get_length(in) > STATS_HTTP_REQUEST_MAX) {
		c->status = 431;
		c->head_only = 0;
		respond(c);
	}
}

/* The response left: half-close and read until the client closes (so a
 * request body it still sends cannot turn our close into a reset that
 * loses the response), the deadline bounding the wait. */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct stats_conn *c = arg;

	if (!c->responded)
		return;
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	bufferevent_enable(bev, EV_READ);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	static const char timeout[] =
		"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
		"Connection: close\r\n\r\n";
	struct stats_conn *c = arg;

	(void)fd;
	(void)what;
	/* Client-caused: debug only, or a slow client floods the log. */
	log_debug("stats: connection closed at its %d ms deadline (%s)",
	          STATS_HTTP_DEADLINE_MS,
	          c->responded ? "response not read" : "request incomplete");
	/* Best effort: the socket buffer is empty since nothing was sent. */
	if (!c->responded && send(bufferevent_getfd(c->bev), timeout,
	                          sizeof(timeout) - 1,
	                          MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("stats: 408: %s", strerror(errno));
	conn_free(c);
}

static int conn_new(struct stats_http *h, int fd)
{
	struct stats_conn *c = calloc(1, sizeof(*c));
	struct timeval tv = clock_tv(STATS_HTTP_DEADLINE_MS);

	if (c == NULL)
		goto fail;
	c->h = h;
	c->bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		goto fail;
	fd = -1;                        /* the bufferevent owns it now */
	c->deadline = evtimer_new(h->base, on_deadline, c);
	if (c->deadline == NULL || evtimer_add(c->deadline, &tv) < 0)
		goto fail;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	if (bufferevent_enable(c->bev, EV_READ) < 0)
		goto fail;
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	return 0;
fail:
	log_error("stats: cannot set up a connection: out of memory");
	if (c != NULL && c->deadline != NULL)
		event_free(c->deadline);
	if (c != NULL && c->bev != NULL)
		bufferevent_free(c->bev);
	if (fd >= 0)
		close(fd);
	free(c);
	return -1;
}

static void on_backoff_end(evutil_socket_t fd, short what, void *arg)
{
	struct stats_http *h = arg;

	(void)fd;
	(void)what;
	h->backoff = 0;
	update_accepting(h);
}

/* EMFILE & co: the listening socket stays readable, so polling it would
 * spin.  Pause like the proxy listeners, but say so only once per
 * episode: at the limit the pause repeats four times a second. */
static void backoff(struct stats_http *h, int err)
{
	struct timeval tv = clock_tv(WORKER_BACKOFF_MS);

	if (h->failures++ == 0)
		log_warn("stats: accept: %s: pausing /metrics connections, "
		         "retrying every %d ms (not logged again until one is "
		         "accepted)", strerror(err), WORKER_BACKOFF_MS);
	h->backoff = 1;
	update_accepting(h);
	evtimer_add(h->backoff_ev, &tv);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct stats_http *h = arg;

	(void)what;
	while (h->accepting) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			int err = errno;
			if (err == EAGAIN || err == EWOULDBLOCK)
				return;
			if (listener_accept_errno_transient(err))
				continue;
			backoff(h, err);
			return;
		}
		if (h->failures > 0) {
			log_info("stats: accepting again after %llu failed "
			         "attempts", (unsigned long long)h->failures);
			h->failures = 0;
		}
		if (conn_new(h, cfd) < 0)
			return;
		update_accepting(h);
	}
}

struct stats_http *stats_http_open(struct event_base *base,
                                   const struct addr *bind_addr,
                                   struct listener_stats *const *head,
                                   _Atomic uint64_t *const *worker_accepted,
                                   unsigned nworkers,
                                   const struct stats_config *config,
                                   struct pool *pool)
{
	struct stats_http *h = calloc(1, sizeof(*h));
	char text[ADDR_STRLEN];
	int one = 1;

	addr_format((const struct sockaddr *)&bind_addr->ss, bind_addr->len,
	            text, sizeof(text));
	if (h == NULL)
		goto fail;
	h->base = base;
	h->head = head;
	h->worker_accepted = worker_accepted;
	h->nworkers = nworkers;
	h->config = config;
	h->pool = pool;
	h->bound.len = sizeof(h->bound.ss);
	/* A binary upgrade hands over the old process's socket: binding our
	 * own would fail while it runs. */
	h->fd = sockact_take_stats(bind_addr);
	if (h->fd >= 0) {
		int fl = fcntl(h->fd, F_GETFL);
		if (fl < 0 || fcntl(h->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    getsockname(h->fd, (struct sockaddr *)&h->bound.ss,
		                &h->bound.len) < 0)
			goto fail;
		goto bound;
	}
	h->fd = socket(bind_addr->ss.ss_family,
	               SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		goto fail;
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind_addr->ss.ss_family == AF_INET6) {
		/* [::]:P serves IPv4 too, as the configuration check assumes,
		 * whatever net.ipv6.bindv6only says. */
		int v6only = 0;
		setsockopt(h->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		           sizeof(v6only));
	}
	if (bind(h->fd, (const struct sockaddr *)&bind_addr->ss,
	         bind_addr->len) < 0 || listen(h->fd, LISTEN_BACKLOG) < 0 ||
	    getsockname(h->fd, (struct sockaddr *)&h->bound.ss,
	                &h->bound.len) < 0)
		goto fail;
bound:
	h->accept_ev = event_new(base, h->fd, EV_READ | EV_PERSIST, on_accept, h);
	h->backoff_ev = evtimer_new(base, on_backoff_end, h);
	if (h->accept_ev == NULL || h->backoff_ev == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	update_accepting(h);
	return h;
fail:
	log_error("stats %s: %s", text, strerror(errno));
	stats_http_stop(h);
	return NULL;
}

void stats_http_announce(const struct stats_http *h)
{
	char text[ADDR_STRLEN];

	log_info("stats: serving /metrics on http://%s/metrics (at most %d "
	         "connections, %d ms each)",
	         addr_format((const struct sockaddr *)&h->bound.ss,
	                     h->bound.len, text, sizeof(text)),
	         STATS_HTTP_MAX_CONNS, STATS_HTTP_DEADLINE_MS);
}

int stats_http_fd(const struct stats_http *h)
{
	return h != NULL ? h->fd : -1;
}

void stats_http_stop(struct stats_http *h)
{
	if (h == NULL)
		return;
	h->backoff = 1;                 /* closing a connection: no re-arm */
	while (h->conns != NULL)
		conn_free(h->conns);
	if (h->accept_ev != NULL)
		event_free(h->accept_ev);
	if (h->backoff_ev != NULL)
		event_free(h->backoff_ev);
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}
