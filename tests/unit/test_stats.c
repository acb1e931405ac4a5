/* The /metrics text: registry by name, counters, the subflow histogram. */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "end_reason.h"
#include "stats.h"
#include "metrics.h"
#include "unit.h"

/* Render the registry; the caller frees the text. */
static char *render(struct listener_stats *head)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	char *text;

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(metrics_render(b, head), 0);
	n = evbuffer_get_length(b);
	text = malloc(n + 1);
	ck_assert_ptr_nonnull(text);
	evbuffer_remove(b, text, n);
	text[n] = '\0';
	evbuffer_free(b);
	return text;
}

/* Whether `line` appears as a whole line of `text`. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

#define ck_has(text, line) \
	ck_assert_msg(has_line((text), (line)), "missing line: %s", (line))

START_TEST(lookup_creates_once_per_name)
{
	struct listener_stats *head = NULL;
	struct listener_stats *a = stats_lookup(&head, "web");
	struct listener_stats *b = stats_lookup(&head, "api");

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	/* A reload looks the same names up again: same counters. */
	ck_assert_ptr_eq(stats_lookup(&head, "web"), a);
	ck_assert_ptr_eq(head, a);
	ck_assert_ptr_eq(a->next, b);
	stats_free_all(head);
}
END_TEST

START_TEST(counters_render_per_listener)
{
	struct listener_stats *head = NULL;
	struct listener_stats *w = stats_lookup(&head, "web");
	char *text;

	stats_add(&w->accepted_mptcp, 3);
	stats_add(&w->accepted_tcp, 2);
	stats_add(&w->active, 4);
	stats_add(&stats_backend(w, "127.0.0.1:8080")->failures, 1);
	stats_add(&w->bytes_in, 100);
	stats_add(&w->bytes_out, 5000);
	text = render(head);
	ck_has(text, "# TYPE mptcp_frontd_connections_accepted_total counter");
	ck_has(text, "mptcp_frontd_connections_accepted_total{listener=\"web\",proto=\"mptcp\"} 3");
	ck_has(text, "mptcp_frontd_connections_accepted_total{listener=\"web\",proto=\"tcp\"} 2");
	ck_has(text, "# TYPE mptcp_frontd_connections_active gauge");
	ck_has(text, "mptcp_frontd_connections_active{listener=\"web\"} 4");
	ck_has(text, "mptcp_frontd_backend_connect_failures_total{listener=\"web\",backend=\"127.0.0.1:8080\"} 1");
	ck_has(text, "mptcp_frontd_bytes_relayed_total{listener=\"web\",direction=\"client_to_backend\"} 100");
	ck_has(text, "mptcp_frontd_bytes_relayed_total{listener=\"web\",direction=\"backend_to_client\"} 5000");
	free(text);
	stats_free_all(head);
}
END_TEST

START_TEST(closed_counts_reasons_and_subflow_histogram)
{
	struct listener_stats *head = NULL;
	struct listener_stats *w = stats_lookup(&head, "web");
	char *text;

	stats_closed(w, END_CLIENT_CLOSE, 1, 1);
	stats_closed(w, END_CLIENT_CLOSE, 1, 2);
	stats_closed(w, END_BACKEND_RESET, 1, 2);
	stats_closed(w, END_IDLE_TIMEOUT, 1, 6);
	stats_closed(w, END_CLIENT_CLOSE, 1, 9);
	/* Plain TCP connections are counted as closed, not in the
	 * histogram. */
	stats_closed(w, END_CLIENT_CLOSE, 0, 1);
	text = render(head);
	ck_has(text, "mptcp_frontd_connections_closed_total{listener=\"web\",reason=\"client_close\"} 4");
	ck_has(text, "mptcp_frontd_connections_closed_total{listener=\"web\",reason=\"backend_reset\"} 1");
	ck_has(text, "mptcp_frontd_connections_closed_total{listener=\"web\",reason=\"idle_timeout\"} 1");
	ck_has(text, "mptcp_frontd_connections_closed_total{listener=\"web\",reason=\"shutdown\"} 0");
	ck_has(text, "# TYPE mptcp_frontd_subflows histogram");
	/* Cumulative buckets: 1 | 2, 2 | - | - | 6 | 9. */
	ck_has(text, "mptcp_frontd_subflows_bucket{listener=\"web\",le=\"1\"} 1");
	ck_has(text, "mptcp_frontd_subflows_bucket{listener=\"web\",le=\"2\"} 3");
	ck_has(text, "mptcp_frontd_subflows_bucket{listener=\"web\",le=\"3\"} 3");
	ck_has(text, "mptcp_frontd_subflows_bucket{listener=\"web\",le=\"4\"} 3");
	ck_has(text, "mptcp_frontd_subflows_bucket{listener=\"web\",le=\"8\"} 4");
	ck_has(text, "mptcp_frontd_subflows_bucket{listener=\"web\",le=\"+Inf\"} 5");
	ck_has(text, "mptcp_frontd_subflows_sum{listener=\"web\"} 20");
	ck_has(text, "mptcp_frontd_subflows_count{listener=\"web\"} 5");
	ck_has(text, "mptcp_frontd_subflows_max{listener=\"web\"} 9");
	free(text);
	stats_free_all(head);
}
END_TEST

/* Limits and per-backend health: the entries are found again by their
 * address (a reload keeps their state), and render with escaped labels. */
START_TEST(limits_and_backends_render)
{
	struct listener_stats *head = NULL;
	struct listener_stats *w = stats_lookup(&head, "web");
	struct backend_health *a = stats_backend(w, "127.0.0.1:8080");
	struct backend_health *u = stats_backend(w, "unix:/run/a\"b.sock");
	char *text;

	ck_assert_ptr_eq(stats_backend(w, "127.0.0.1:8080"), a);
	ck_assert_ptr_eq(w->backends, a);
	ck_assert_ptr_eq(a->next, u);
	stats_add(&w->limited[STATS_LIMIT_LISTENER], 3);
	atomic_store(&w->max_connections, 5);
	health_failed(u, 1000, 10000);
	health_ok(a, 180);
	health_ok(a, 2000);
	text = render(head);
	ck_has(text, "mptcp_frontd_connections_limited_total{listener=\"web\",limit=\"global\"} 0");
	ck_has(text, "mptcp_frontd_connections_limited_total{listener=\"web\",limit=\"listener\"} 3");
	ck_has(text, "mptcp_frontd_listener_max_connections{listener=\"web\"} 5");
	ck_has(text, "mptcp_frontd_backend_up{listener=\"web\",backend=\"127.0.0.1:8080\"} 1");
	ck_has(text, "mptcp_frontd_backend_up{listener=\"web\",backend=\"unix:/run/a\\\"b.sock\"} 0");
	ck_has(text, "mptcp_frontd_backend_connect_failures_total{listener=\"web\",backend=\"unix:/run/a\\\"b.sock\"} 1");
	ck_has(text, "# TYPE mptcp_frontd_backend_connect_seconds histogram");
	ck_has(text, "mptcp_frontd_backend_connect_seconds_bucket{listener=\"web\",backend=\"127.0.0.1:8080\",le=\"0.0001\"} 0");
	ck_has(text, "mptcp_frontd_backend_connect_seconds_bucket{listener=\"web\",backend=\"127.0.0.1:8080\",le=\"0.00025\"} 1");
	ck_has(text, "mptcp_frontd_backend_connect_seconds_bucket{listener=\"web\",backend=\"127.0.0.1:8080\",le=\"0.0025\"} 2");
	ck_has(text, "mptcp_frontd_backend_connect_seconds_bucket{listener=\"web\",backend=\"127.0.0.1:8080\",le=\"+Inf\"} 2");
	ck_has(text, "mptcp_frontd_backend_connect_seconds_sum{listener=\"web\",backend=\"127.0.0.1:8080\"} 0.002180");
	ck_has(text, "mptcp_frontd_backend_connect_seconds_count{listener=\"web\",backend=\"127.0.0.1:8080\"} 2");
	free(text);
	stats_free_all(head);
}
END_TEST

START_TEST(every_listener_appears_in_every_family)
{
	struct listener_stats *head = NULL;
	char *text;

	stats_lookup(&head, "a");
	stats_lookup(&head, "b");
	text = render(head);
	ck_has(text, "mptcp_frontd_connections_active{listener=\"a\"} 0");
	ck_has(text, "mptcp_frontd_connections_active{listener=\"b\"} 0");
	ck_has(text, "mptcp_frontd_subflows_count{listener=\"b\"} 0");
	ck_has(text, "mptcp_frontd_subflows_max{listener=\"a\"} 0");
	free(text);
	stats_free_all(head);
}
END_TEST

START_TEST(worker_counters_render)
{
	_Atomic uint64_t w0 = 7, w1 = 0;
	_Atomic uint64_t *ptrs[2] = { &w0, &w1 };
	struct evbuffer *b = evbuffer_new();
	char text[512];
	size_t n;

	ck_assert_int_eq(metrics_render_workers(b, ptrs, 2), 0);
	n = evbuffer_remove(b, text, sizeof(text) - 1);
	text[n] = '\0';
	ck_has(text, "mptcp_frontd_worker_connections_accepted_total{worker=\"0\"} 7");
	ck_has(text, "mptcp_frontd_worker_connections_accepted_total{worker=\"1\"} 0");
	evbuffer_free(b);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("stats");

	UNIT_ADD(s, lookup_creates_once_per_name);
	UNIT_ADD(s, counters_render_per_listener);
	UNIT_ADD(s, closed_counts_reasons_and_subflow_histogram);
	UNIT_ADD(s, limits_and_backends_render);
	UNIT_ADD(s, every_listener_appears_in_every_family);
	UNIT_ADD(s, worker_counters_render);
	return s;
}

UNIT_MAIN(make_suite)
