/* Listener counters and the /metrics endpoint. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdio.h>
#include "log.h"
#include "mptcp_mib.h"
#include "session.h"
#include "stats.h"

static const unsigned bucket_le[STATS_SUBFLOW_BUCKETS - 1] = { 1, 2, 3, 4, 8 };

void stats_closed(struct listener_stats *st, int end_reason, int is_mptcp,
                  unsigned max_subflows)
{
	unsigned b = 0;
	uint64_t cur;

	if (end_reason >= 0 && end_reason < STATS_END_REASONS)
		stats_add(&st->closed[end_reason], 1);
	if (!is_mptcp)
		return;
	while (b < STATS_SUBFLOW_BUCKETS - 1 && max_subflows > bucket_le[b])
		b++;
	stats_add(&st->subflow_hist[b], 1);
	stats_add(&st->subflow_sum, max_subflows);
	cur = atomic_load_explicit(&st->subflow_max, memory_order_relaxed);
	while (max_subflows > cur &&
	       !atomic_compare_exchange_weak(&st->subflow_max, &cur,
	                                     max_subflows))
		;
}

struct listener_stats *stats_lookup(struct listener_stats **head,
                                    const char *name)
{
	struct listener_stats **pp = head;

	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			return *pp;
	*pp = calloc(1, sizeof(**pp));
	if (*pp != NULL)
		snprintf((*pp)->name, sizeof((*pp)->name), "%s", name);
	return *pp;
}

void stats_free_all(struct listener_stats *head)
{
	while (head != NULL) {
		struct listener_stats *next = head->next;
		free(head);
		head = next;
	}
}

static uint64_t rd(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

#define ADD(...) do { if (evbuffer_add_printf(out, __VA_ARGS__) < 0) return -1; } while (0)

static int family(struct evbuffer *out, const char *name, const char *type,
                  const char *help)
{
	ADD("# HELP mptcp_frontd_%s %s\n# TYPE mptcp_frontd_%s %s\n", name,
	    help, name, type);
	return 0;
}

/* One counter family, one sample per listener. */
static int per_listener(struct evbuffer *out, struct listener_stats *head,
                        const char *name, const char *type, const char *help,
                        size_t field_offset)
{
	if (family(out, name, type, help) < 0)
		return -1;
	for (struct listener_stats *st = head; st != NULL; st = st->next) {
		_Atomic uint64_t *c =
			(_Atomic uint64_t *)((char *)st + field_offset);
		ADD("mptcp_frontd_%s{listener=\"%s\"} %llu\n", name, st->name,
		    (unsigned long long)rd(c));
	}
	return 0;
}

/* A counter family with two samples per listener, told apart by `label`
 * (value a at offset a_off, value b at offset b_off). */
static int split(struct evbuffer *out, struct listener_stats *head,
                 const char *name, const char *help, const char *label,
                 const char *a, size_t a_off, const char *b, size_t b_off)
{
	if (family(out, name, "counter", help) < 0)
		return -1;
	for (struct listener_stats *st = head; st != NULL; st = st->next) {
		ADD("mptcp_frontd_%s{listener=\"%s\",%s=\"%s\"} %llu\n", name,
		    st->name, label, a,
		    (unsigned long long)rd((_Atomic uint64_t *)((char *)st + a_off)));
		ADD("mptcp_frontd_%s{listener=\"%s\",%s=\"%s\"} %llu\n", name,
		    st->name, label, b,
		    (unsigned long long)rd((_Atomic uint64_t *)((char *)st + b_off)));
	}
	return 0;
}

int stats_render(struct evbuffer *out, struct listener_stats *head)
{
	struct listener_stats *st;

	if (split(out, head, "connections_accepted_total",
	          "Client connections accepted, by what the client negotiated: "
	          "mptcp, or tcp (plain TCP client or MPTCP fallback).",
	          "proto", "mptcp",
	          offsetof(struct listener_stats, accepted_mptcp), "tcp",
	          offsetof(struct listener_stats, accepted_tcp)) < 0)
		return -1;
	if (per_listener(out, head, "connections_active", "gauge",
	                 "Client connections open now.",
	                 offsetof(struct listener_stats, active)) < 0 ||
	    per_listener(out, head, "backend_connect_failures_total",
	                 "counter", "Backend connection attempts that failed "
	                 "(refused, timed out, ...).",
	                 offsetof(struct listener_stats, connect_failures)) < 0)
		return -1;
	if (split(out, head, "bytes_relayed_total",
	          "Payload bytes relayed (PROXY header not counted).",
	          "direction", "client_to_backend",
	          offsetof(struct listener_stats, bytes_in), "backend_to_client",
	          offsetof(struct listener_stats, bytes_out)) < 0)
		return -1;
	if (split(out, head, "tls_handshakes_total",
	          "TLS handshakes completed on listeners that terminate TLS: "
	          "full, or resumed from a session ticket.",
	          "type", "full", offsetof(struct listener_stats, tls_full),
	          "resumed", offsetof(struct listener_stats, tls_resumed)) < 0)
		return -1;
	if (family(out, "connections_closed_total", "counter",
	           "Closed client connections by how they ended.") < 0)
		return -1;
	for (st = head; st != NULL; st = st->next)
		for (int r = 0; r < STATS_END_REASONS; r++)
			ADD("mptcp_frontd_connections_closed_total{listener="
			    "\"%s\",reason=\"%s\"} %llu\n",
			    st->name, session_end_name(r),
			    (unsigned long long)rd(&st->closed[r]));
	if (family(out, "subflows", "histogram",
	           "Closed MPTCP connections by the most subflows they had "
	           "open at once.") < 0)
		return -1;
	for (st = head; st != NULL; st = st->next) {
		const char *n = st->name;
		uint64_t cum = 0;
		for (int b = 0; b < STATS_SUBFLOW_BUCKETS; b++) {
			cum += rd(&st->subflow_hist[b]);
			if (b < STATS_SUBFLOW_BUCKETS - 1)
				ADD("mptcp_frontd_subflows_bucket{listener=\"%s\","
				    "le=\"%u\"} %llu\n", n, bucket_le[b],
				    (unsigned long long)cum);
			else
				ADD("mptcp_frontd_subflows_bucket{listener=\"%s\","
				    "le=\"+Inf\"} %llu\n", n,
				    (unsigned long long)cum);
		}
		ADD("mptcp_frontd_subflows_sum{listener=\"%s\"} %llu\n", n,
		    (unsigned long long)rd(&st->subflow_sum));
		ADD("mptcp_frontd_subflows_count{listener=\"%s\"} %llu\n", n,
		    (unsigned long long)cum);
	}
	return per_listener(out, head, "subflows_max", "gauge",
	                    "Most subflows any MPTCP connection had.",
	                    offsetof(struct listener_stats, subflow_max));
}

int stats_render_workers(struct evbuffer *out, _Atomic uint64_t *const *accepted,
                         unsigned nworkers)
{
	if (family(out, "worker_connections_accepted_total", "counter",
	           "Client connections accepted by each worker thread.") < 0)
		return -1;
	for (unsigned i = 0; i < nworkers; i++)
		ADD("mptcp_frontd_worker_connections_accepted_total{worker=\"%u\"} "
		    "%llu\n", i, (unsigned long long)rd(accepted[i]));
	return 0;
}

/* The kernel's MPTCP counters worth watching, by their MPTcpExt names.
 * Behind an L4 balancer, joins refused for an unknown token against joins
 * received tell a misrouted join from a good one (fleet.c). */
static const struct {
	const char *mib, *name, *type, *help;
} kernel_counters[] = {
	{ "MPCapableSYNRX", "mp_capable_syn_received_total", "counter",
	  "SYNs received asking for MPTCP (MPTcpExtMPCapableSYNRX)." },
	{ "MPJoinSynRx", "mp_join_syn_received_total", "counter",
	  "MP_JOIN SYNs received: clients adding a subflow "
	  "(MPTcpExtMPJoinSynRx)." },
	{ "MPJoinAckRx", "mp_join_ack_received_total", "counter",
	  "MP_JOIN third ACKs received: subflows added "
	  "(MPTcpExtMPJoinAckRx)." },
	{ "MPJoinNoTokenFound", "mp_join_no_token_found_total", "counter",
	  "MP_JOIN SYNs refused because no connection here has their token; "
	  "behind a balancer: joins reaching the wrong node "
	  "(MPTcpExtMPJoinNoTokenFound)." },
	{ "MPJoinRejected", "mp_join_rejected_total", "counter",
	  "MP_JOIN SYNs rejected by the path manager, e.g. past the subflow "
	  "limit (MPTcpExtMPJoinRejected)." },
	{ "MPJoinAckHMacFailure", "mp_join_ack_hmac_failure_total", "counter",
	  "MP_JOIN ACKs with a bad HMAC (MPTcpExtMPJoinAckHMacFailure)." },
	{ "AddAddrTx", "add_addr_sent_total", "counter",
	  "ADD_ADDR options sent: addresses announced to clients "
	  "(MPTcpExtAddAddrTx)." },
	{ "AddAddrTxDrop", "add_addr_send_dropped_total", "counter",
	  "ADD_ADDR options that could not be sent (MPTcpExtAddAddrTxDrop)." },
	{ "AddAddr", "add_addr_received_total", "counter",
	  "ADD_ADDR options received (MPTcpExtAddAddr)." },
	{ "RmAddrTx", "rm_addr_sent_total", "counter",
	  "REMOVE_ADDR options sent (MPTcpExtRmAddrTx)." },
	{ "MPCurrEstab", "mptcp_connections_established", "gauge",
	  "MPTCP connections established now (MPTcpExtMPCurrEstab)." },
};

int stats_render_kernel(struct evbuffer *out)
{
	static struct mptcp_mib mib;    /* large; only the stats thread */
	uint64_t v;

	/* No MPTcpExt (no MPTCP, or /proc missing): nothing to show. */
	if (mptcp_mib_read(&mib) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(kernel_counters) /
	                           sizeof(kernel_counters[0]); i++) {
		if (mptcp_mib_get(&mib, kernel_counters[i].mib, &v) < 0)
			continue;       /* an older kernel */
		ADD("# HELP mptcp_frontd_kernel_%s Kernel, this network "
		    "namespace: %s\n# TYPE mptcp_frontd_kernel_%s %s\n"
		    "mptcp_frontd_kernel_%s %llu\n", kernel_counters[i].name,
		    kernel_counters[i].help, kernel_counters[i].name,
		    kernel_counters[i].type, kernel_counters[i].name,
		    (unsigned long long)v);
	}
	return 0;
}

#undef ADD

struct stats_http {
	struct evhttp *http;
	struct listener_stats *const *head;
	_Atomic uint64_t *const *worker_accepted;
	unsigned nworkers;
};

static void on_request(struct evhttp_request *req, void *arg)
{
	struct stats_http *h = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct evbuffer *body;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "try /metrics");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		                  "Allow", "GET, HEAD");
		evhttp_send_error(req, HTTP_BADMETHOD, NULL);
		return;
	}
	body = evbuffer_new();
	if (body == NULL || stats_render(body, *h->head) < 0 ||
	    stats_render_workers(body, h->worker_accepted, h->nworkers) < 0 ||
	    stats_render_kernel(body) < 0) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		if (body)
			evbuffer_free(body);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

struct stats_http *stats_http_start(struct event_base *base,
                                    const struct addr *bind_addr,
                                    struct listener_stats *const *head,
                                    _Atomic uint64_t *const *worker_accepted,
                                    unsigned nworkers)
{
	struct stats_http *h = calloc(1, sizeof(*h));
	struct addr bound;
	char text[ADDR_STRLEN];
	int one = 1, fd = -1;

	addr_format((const struct sockaddr *)&bind_addr->ss, bind_addr->len,
	            text, sizeof(text));
	if (h == NULL)
		goto fail;
	h->head = head;
	h->worker_accepted = worker_accepted;
	h->nworkers = nworkers;
	fd = socket(bind_addr->ss.ss_family,
	            SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind_addr->ss.ss_family == AF_INET6) {
		/* [::]:P serves IPv4 too, as the configuration check assumes,
		 * whatever net.ipv6.bindv6only says. */
		int v6only = 0;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	if (bind(fd, (const struct sockaddr *)&bind_addr->ss,
	         bind_addr->len) < 0 || listen(fd, 64) < 0)
		goto fail;
	bound.len = sizeof(bound.ss);
	if (getsockname(fd, (struct sockaddr *)&bound.ss, &bound.len) < 0)
		goto fail;
	h->http = evhttp_new(base);
	if (h->http == NULL)
		goto fail;
	/* Scrapes are small: bound what a client may make us hold. */
	evhttp_set_max_headers_size(h->http, 8192);
	evhttp_set_max_body_size(h->http, 1024);
	evhttp_set_timeout(h->http, 10);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	                           EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                           EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	                           EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->http, on_request, h);
	if (evhttp_accept_socket_with_handle(h->http, fd) == NULL)
		goto fail;
	log_info("stats: serving /metrics on http://%s/metrics",
	         addr_format((struct sockaddr *)&bound.ss, bound.len, text,
	                     sizeof(text)));
	return h;
fail:
	log_error("stats %s: %s", text, strerror(errno));
	if (h && h->http)
		evhttp_free(h->http);
	else if (fd >= 0)
		close(fd);
	free(h);
	return NULL;
}

void stats_http_stop(struct stats_http *h)
{
	if (h == NULL)
		return;
	evhttp_free(h->http);   /* closes the bound socket too */
	free(h);
}
