/* /metrics in Prometheus text format: the counters of include/stats.h,
 * the workers' accept counts, the build and the configuration's reloads. */
#include <event2/buffer.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auto-config.h"
#include "buildinfo.h"
#include "end_reason.h"
#include "metrics.h"
#include "mptcp_mib.h"
#include "mptcp_paths.h"

static const unsigned bucket_le[STATS_SUBFLOW_BUCKETS - 1] = {
	STATS_SUBFLOW_BUCKET_LE
};
static const unsigned health_le_us[HEALTH_BUCKETS - 1] = {
	HEALTH_BUCKET_LE_US
};

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

/* The path records' families: bounded labels only (how, reason,
 * family), never an address. */
static int render_paths(struct evbuffer *out, struct listener_stats *head)
{
	static const char *const fam[STATS_FAMILY_COUNT] = { "ipv4", "ipv6" };
	static const char *const dir[2] = { "to_client", "from_client" };
	struct listener_stats *st;

	if (family(out, "connections_total", "counter",
	           "Closed client connections by how the client connected: "
	           "mptcp, tcp (did not ask for MPTCP) or fallback (negotiated "
	           "MPTCP, then fell back to TCP), as last known (at accept, "
	           "or at the last subflow sample).") < 0)
		return -1;
	for (st = head; st != NULL; st = st->next)
		for (int h = MPTCP_HOW_MPTCP; h <= MPTCP_HOW_FALLBACK; h++)
			ADD("mptcp_frontd_connections_total{listener=\"%s\","
			    "how=\"%s\"} %llu\n", st->name,
			    mptcp_paths_how_name((enum mptcp_how)h),
			    (unsigned long long)rd(&st->accepted_how[h]));
	if (per_listener(out, head, "subflow_joins_total", "counter",
	                 "Subflows MPTCP connections added after their first, "
	                 "counted when the connection closes.",
	                 offsetof(struct listener_stats, subflow_joins)) < 0)
		return -1;
	if (family(out, "subflows_closed_total", "counter",
	           "Subflows of closed MPTCP connections with a path record, by "
	           "how each ended (up_at_end: still up when the connection "
	           "closed; gone: vanished between two samples, no event said "
	           "why).") < 0)
		return -1;
	for (st = head; st != NULL; st = st->next)
		for (int e = MPTCP_PATH_UP_AT_END; e < STATS_PATH_END_COUNT; e++)
			ADD("mptcp_frontd_subflows_closed_total{listener=\"%s\","
			    "reason=\"%s\"} %llu\n", st->name,
			    mptcp_path_end_name((enum mptcp_path_end)e),
			    (unsigned long long)rd(&st->subflow_ends[e]));
	if (family(out, "path_bytes_total", "counter",
	           "TCP payload bytes the subflows of MPTCP connections with a "
	           "path record carried, by address family, at close: sent to "
	           "the client (acknowledged) and received from it.") < 0)
		return -1;
	for (st = head; st != NULL; st = st->next)
		for (int f = 0; f < STATS_FAMILY_COUNT; f++)
			for (int d = 0; d < 2; d++)
				ADD("mptcp_frontd_path_bytes_total{listener=\"%s\","
				    "family=\"%s\",direction=\"%s\"} %llu\n",
				    st->name, fam[f], dir[d],
				    (unsigned long long)rd(&st->path_bytes[f][d]));
	return 0;
}

/* A backend's address as a label value: '\\', '"' and newlines escaped
 * (a unix: path may hold anything). */
static const char *label_text(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n')
			buf[o++] = '\\';
		buf[o++] = *s == '\n' ? 'n' : *s;
	}
	buf[o] = '\0';
	return buf;
}

#define EACH_BACKEND(st, h, head) \
	for (st = head; st != NULL; st = st->next) \
		for (h = st->backends; h != NULL; h = h->next)

/* Per backend: up, failed connects, connect time (backend_health.h).
 * A backend a reload removed keeps its last values until restart. */
static int render_backends(struct evbuffer *out, struct listener_stats *head)
{
	struct listener_stats *st;
	struct backend_health *h;
	char b[2 * ADDR_STRLEN];

	if (family(out, "backend_up", "gauge", "1 while the backend is "
	           "taken as up; 0 from a failed connect until one "
	           "succeeds (it is skipped for backend_retry meanwhile).") < 0)
		return -1;
	EACH_BACKEND(st, h, head)
		ADD("mptcp_frontd_backend_up{listener=\"%s\",backend=\"%s\"} "
		    "%d\n", st->name, label_text(h->addr, b, sizeof(b)),
		    health_is_up(h));
	if (family(out, "backend_connect_failures_total", "counter",
	           "Backend connection attempts that failed (refused, timed "
	           "out, ...).") < 0)
		return -1;
	EACH_BACKEND(st, h, head)
		ADD("mptcp_frontd_backend_connect_failures_total{listener="
		    "\"%s\",backend=\"%s\"} %llu\n", st->name,
		    label_text(h->addr, b, sizeof(b)),
		    (unsigned long long)rd(&h->failures));
	if (family(out, "backend_connect_seconds", "histogram",
	           "Successful backend connects by how long they took.") < 0)
		return -1;
	EACH_BACKEND(st, h, head) {
		uint64_t cum = 0;
		label_text(h->addr, b, sizeof(b));
		for (int i = 0; i < HEALTH_BUCKETS; i++) {
			cum += rd(&h->hist[i]);
			if (i < HEALTH_BUCKETS - 1)
				ADD("mptcp_frontd_backend_connect_seconds_bucket"
				    "{listener=\"%s\",backend=\"%s\",le=\"%g\"} "
				    "%llu\n", st->name, b, health_le_us[i] / 1e6,
				    (unsigned long long)cum);
			else
				ADD("mptcp_frontd_backend_connect_seconds_bucket"
				    "{listener=\"%s\",backend=\"%s\",le=\"+Inf\"}"
				    " %llu\n", st->name, b,
				    (unsigned long long)cum);
		}
		ADD("mptcp_frontd_backend_connect_seconds_sum{listener=\"%s\","
		    "backend=\"%s\"} %.6f\n", st->name, b,
		    rd(&h->sum_us) / 1e6);
		ADD("mptcp_frontd_backend_connect_seconds_count{listener="
		    "\"%s\",backend=\"%s\"} %llu\n", st->name, b,
		    (unsigned long long)cum);
	}
	return 0;
}

int metrics_render(struct evbuffer *out, struct listener_stats *head)
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
	    per_listener(out, head, "listener_max_connections", "gauge",
	                 "The listener's own max_connections (0: none, only "
	                 "the global one).",
	                 offsetof(struct listener_stats, max_connections)) < 0)
		return -1;
	if (split(out, head, "connections_limited_total",
	          "Times a worker stopped accepting on the listener because a "
	          "connection limit was reached: the global max_connections, "
	          "or the listener's.  Each pause lasts until a connection "
	          "ends; clients wait in the listen backlog meanwhile.",
	          "limit", "global",
	          offsetof(struct listener_stats, limited[STATS_LIMIT_GLOBAL]),
	          "listener",
	          offsetof(struct listener_stats,
	                   limited[STATS_LIMIT_LISTENER])) < 0 ||
	    render_backends(out, head) < 0)
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
		for (int r = 0; r < END_REASON_COUNT; r++)
			ADD("mptcp_frontd_connections_closed_total{listener="
			    "\"%s\",reason=\"%s\"} %llu\n",
			    st->name, end_reason_name(r),
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
	if (per_listener(out, head, "subflows_max", "gauge",
	                 "Most subflows any MPTCP connection had.",
	                 offsetof(struct listener_stats, subflow_max)) < 0)
		return -1;
	return render_paths(out, head);
}

int metrics_render_workers(struct evbuffer *out, _Atomic uint64_t *const *accepted,
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

int metrics_render_config(struct evbuffer *out, const struct stats_config *c)
{
	if (family(out, "build_info", "gauge", "Always 1: the version of "
	           "mptcp-frontd and of the libraries it runs with.") < 0)
		return -1;
	ADD("mptcp_frontd_build_info{version=\"%s\",openssl=\"%s\","
	    "libevent=\"%s\"} 1\n", PACKAGE_VERSION, buildinfo_openssl(),
	    buildinfo_libevent());
	if (family(out, "config_reloads_total", "counter", "Configuration "
	           "reloads (SIGHUP) by result.") < 0)
		return -1;
	ADD("mptcp_frontd_config_reloads_total{result=\"ok\"} %llu\n"
	    "mptcp_frontd_config_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)atomic_load(&c->reloads_ok),
	    (unsigned long long)atomic_load(&c->reloads_failed));
	if (family(out, "config_last_reload_timestamp_seconds", "gauge",
	           "When the configuration was last loaded (start or SIGHUP), "
	           "in Unix seconds.") < 0)
		return -1;
	ADD("mptcp_frontd_config_last_reload_timestamp_seconds %lld\n",
	    (long long)atomic_load(&c->last_reload_time));
	if (family(out, "config_last_reload_successful", "gauge",
	           "1 when the last load of the configuration succeeded.") < 0)
		return -1;
	ADD("mptcp_frontd_config_last_reload_successful %d\n",
	    atomic_load(&c->last_reload_ok));
	if (family(out, "config_generation", "gauge", "The configuration "
	           "generation serving new connections (1 at start, +1 per "
	           "successful reload).") < 0)
		return -1;
	ADD("mptcp_frontd_config_generation %u\n", atomic_load(&c->generation));
	if (family(out, "max_connections", "gauge", "The [global] "
	           "max_connections: client connections open at once, all "
	           "listeners together.") < 0)
		return -1;
	ADD("mptcp_frontd_max_connections %llu\n",
	    (unsigned long long)atomic_load(&c->max_connections));
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

int metrics_render_kernel(struct evbuffer *out)
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

