/* The path record: merging samples and path-manager events, and the text
 * the access log and the JSON views print.  Pure: no I/O. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "mptcp_kabi.h"
#include "mptcp_paths.h"

void mptcp_paths_init(struct mptcp_paths *r)
{
	memset(r, 0, sizeof(*r));
	r->last_sample_ms = -1;
}

static int pm_addr_equal(const struct mptcp_pm_addr *x,
                         const struct mptcp_pm_addr *y)
{
	if (x->family != y->family || x->port != y->port)
		return 0;
	if (x->family == AF_INET)
		return x->a.v4.s_addr == y->a.v4.s_addr;
	return memcmp(&x->a.v6, &y->a.v6, sizeof(x->a.v6)) == 0;
}

/* The subflow with kernel id `id` (when non-zero), else the one with
 * these addresses whose id does not contradict. */
static struct mptcp_path *find(struct mptcp_paths *r, uint32_t id,
                               const struct mptcp_pm_addr *local,
                               const struct mptcp_pm_addr *remote)
{
	for (unsigned i = 0; id != 0 && i < r->n; i++)
		if (r->path[i].id == id)
			return &r->path[i];
	for (unsigned i = 0; i < r->n; i++) {
		struct mptcp_path *p = &r->path[i];

		if ((p->id == 0 || id == 0) && pm_addr_equal(&p->local, local) &&
		    pm_addr_equal(&p->remote, remote))
			return p;
	}
	return NULL;
}

/* A new subflow, or NULL (counted in dropped) when the record is full. */
static struct mptcp_path *add(struct mptcp_paths *r,
                              const struct mptcp_pm_addr *local,
                              const struct mptcp_pm_addr *remote)
{
	struct mptcp_path *p;

	if (r->n >= MPTCP_PATHS_MAX) {
		r->dropped++;
		return NULL;
	}
	p = &r->path[r->n++];
	memset(p, 0, sizeof(*p));
	p->local = *local;
	p->remote = *remote;
	p->established_ms = p->closed_ms = p->last_seen_ms = -1;
	p->backup = -1;
	return p;
}

static void path_close(struct mptcp_path *p, enum mptcp_path_end end,
                       int64_t now_ms)
{
	p->end = (uint8_t)end;
	p->closed_ms = now_ms;
}

/* A sample's subflow that is still up, or was seen in state CLOSE (the
 * kernel keeps a dead first subflow listed until the connection ends). */
static void sample_path(struct mptcp_paths *r, struct mptcp_path *p,
                        const struct mptcp_paths_sample *s, unsigned i,
                        int64_t now_ms, int final)
{
	if (s->sf[i].id != 0)
		p->id = s->sf[i].id;
	if (p->established_ms < 0)
		p->established_ms = r->gen == 1 ? 0 : now_ms;
	/* The byte counters of one subflow never go down: a smaller value
	 * is a bad read (TCP_INFO on a fallen-back socket after the peer
	 * closed reads zeros on 6.18), so the last good one stays. */
	{
		struct mptcp_path_tcp t = s->sf[i].tcp;

		if (t.bytes_acked < p->tcp.bytes_acked ||
		    t.bytes_received < p->tcp.bytes_received)
			t = p->tcp;
		p->tcp = t;
	}
	p->last_seen_ms = now_ms;
	p->seen_gen = r->gen;
	p->precision = (uint8_t)((p->precision & ~MPTCP_PREC_FINAL) | s->source);
	if (p->end != MPTCP_PATH_UP)
		return;
	/* At the close sample the client may have closed first: CLOSE
	 * then is the connection's end, not the path's. */
	if (final) {
		path_close(p, MPTCP_PATH_UP_AT_END, now_ms);
		p->precision |= MPTCP_PREC_FINAL;
	} else if (s->sf[i].tcp.state == TCP_CLOSE) {
		path_close(p, MPTCP_PATH_GONE, now_ms);
	}
}

void mptcp_paths_sample(struct mptcp_paths *r,
                        const struct mptcp_paths_sample *s, int64_t now_ms,
                        int final)
{
	if (r->finished)
		return;
	r->gen++;
	r->last_sample_ms = now_ms;
	r->finished = (uint8_t)(final != 0);
	/* Once seen as MPTCP, a later "not MPTCP" is a fallback. */
	if (s->how == MPTCP_HOW_TCP && r->how == MPTCP_HOW_MPTCP)
		r->how = MPTCP_HOW_FALLBACK;
	else if (s->how != MPTCP_HOW_UNKNOWN && r->how != MPTCP_HOW_FALLBACK)
		r->how = s->how;
	if (s->has_token) {
		r->token = s->token;
		r->has_token = 1;
	}
	if (s->has_totals) {
		r->totals = s->totals;
		r->has_totals = 1;
	}
	for (unsigned i = 0; i < s->n; i++) {
		struct mptcp_path *p = find(r, s->sf[i].id, &s->sf[i].local,
		                            &s->sf[i].remote);

		/* TCP_INFO without addresses (a closed socket has no peer):
		 * the one path of a plain or fallen-back connection. */
		if (p == NULL && s->sf[i].local.family == 0 && r->n > 0) {
			p = &r->path[0];
			sample_path(r, p, s, i, now_ms, final);
			continue;
		}

		if (p == NULL)
			p = add(r, &s->sf[i].local, &s->sf[i].remote);
		if (p != NULL)
			sample_path(r, p, s, i, now_ms, final);
	}
	/* Up before, missing now: it closed since the last sample and keeps
	 * that sample's bytes.  Only a complete list can tell. */
	for (unsigned i = 0; s->complete && i < r->n; i++) {
		struct mptcp_path *p = &r->path[i];

		if (p->end == MPTCP_PATH_UP && p->seen_gen != r->gen)
			path_close(p, final ? MPTCP_PATH_UP_AT_END
			                    : MPTCP_PATH_GONE, now_ms);
	}
	/* The connection is over: what no sample saw closed ends with it. */
	for (unsigned i = 0; final && i < r->n; i++)
		if (r->path[i].end == MPTCP_PATH_UP)
			path_close(&r->path[i], MPTCP_PATH_UP_AT_END, now_ms);
}

void mptcp_paths_event(struct mptcp_paths *r, const struct mptcp_pm_event *ev,
                       int64_t now_ms)
{
	struct mptcp_path *p;

	if (r->finished)
		return;                 /* the close sample is the last word */
	if (ev->type == MPTCP_PM_EV_CLOSED) {
		r->closed_event = 1;
		return;
	}
	if (!ev->has_addrs)
		return;
	switch (ev->type) {
	case MPTCP_PM_EV_CREATED:
	case MPTCP_PM_EV_ESTABLISHED:   /* the first subflow */
	case MPTCP_PM_EV_SUB_ESTABLISHED:
	case MPTCP_PM_EV_SUB_CLOSED:
	case MPTCP_PM_EV_SUB_PRIORITY:
		break;
	default:
		return;
	}
	p = find(r, 0, &ev->local, &ev->remote);
	if (p == NULL)
		p = add(r, &ev->local, &ev->remote);
	if (p == NULL)
		return;
	if (ev->backup >= 0)
		p->backup = (int8_t)ev->backup;
	/* The event's time beats the sample that first saw the subflow
	 * (the accept sample may list a join made before accept()). */
	if (ev->type == MPTCP_PM_EV_SUB_ESTABLISHED &&
	    (!(p->precision & MPTCP_PREC_EVENTS) || p->established_ms < 0))
		p->established_ms = now_ms;
	p->precision |= MPTCP_PREC_EVENTS;
	if ((ev->type == MPTCP_PM_EV_CREATED ||
	     ev->type == MPTCP_PM_EV_ESTABLISHED) && p->established_ms < 0)
		p->established_ms = 0;  /* the connection's own subflow */
	if (ev->type != MPTCP_PM_EV_SUB_CLOSED)
		return;
	p->error = ev->error;
	p->has_reset = (uint8_t)ev->has_reset;
	p->reset_reason = ev->reset_reason;
	if (p->end == MPTCP_PATH_UP || p->end == MPTCP_PATH_GONE) {
		/* The event is more precise than "gone between samples". */
		path_close(p, ev->error == ECONNRESET ? MPTCP_PATH_RESET
		              : ev->error != 0        ? MPTCP_PATH_ERROR
		              : ev->has_reset         ? MPTCP_PATH_RESET
		                                      : MPTCP_PATH_CLOSED,
		           now_ms);
	}
}

/* ---------------------------------------------------------------- text */

const char *mptcp_paths_how_name(enum mptcp_how how)
{
	switch (how) {
	case MPTCP_HOW_MPTCP: return "mptcp";
	case MPTCP_HOW_TCP: return "tcp";
	case MPTCP_HOW_FALLBACK: return "fallback";
	default: return "unknown";
	}
}

const char *mptcp_path_end_name(enum mptcp_path_end end)
{
	switch (end) {
	case MPTCP_PATH_UP: return "up";
	case MPTCP_PATH_UP_AT_END: return "up_at_end";
	case MPTCP_PATH_CLOSED: return "closed";
	case MPTCP_PATH_RESET: return "reset";
	case MPTCP_PATH_ERROR: return "error";
	default: return "gone";
	}
}

const char *mptcp_paths_precision_text(unsigned precision, char *buf,
                                       size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ MPTCP_PREC_EVENTS, "events" },
		{ MPTCP_PREC_FULL_INFO, "full_info" },
		{ MPTCP_PREC_TCPINFO, "tcpinfo" },
		{ MPTCP_PREC_TCP_INFO, "tcp_info" },
		{ MPTCP_PREC_FINAL, "final" },
	};
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(precision & names[i].bit))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? "+" : "",
		             names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	/* Sampled but not final: the bytes of the last sample before it
	 * closed, a lower bound. */
	if ((precision & (MPTCP_PREC_FULL_INFO | MPTCP_PREC_TCPINFO |
	                  MPTCP_PREC_TCP_INFO)) &&
	    !(precision & MPTCP_PREC_FINAL))
		snprintf(buf + used, len - used, "+last_sample");
	else if (used == 0)
		snprintf(buf, len, "none");
	return buf;
}

unsigned mptcp_paths_joins(const struct mptcp_paths *r)
{
	unsigned all = (unsigned)r->n + r->dropped;

	if (r->how == MPTCP_HOW_TCP || all == 0)
		return 0;
	return all - 1;
}

static char *pm_addr_format(const struct mptcp_pm_addr *a, char *buf)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		sin->sin_addr = a->a.v4;
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = (sa_family_t)a->family;
		sin6->sin6_port = htons(a->port);
		sin6->sin6_addr = a->a.v6;
		sl = sizeof(*sin6);
	}
	return addr_format((struct sockaddr *)&ss, sl, buf, ADDR_STRLEN);
}

/* A bounded append: the whole of fmt's output or nothing, keeping
 * `reserve` bytes free for what must close the text.  Returns 1 when it
 * was appended. */
struct out {
	char *buf;
	size_t len, used;
};

__attribute__((format(printf, 3, 4)))
static int out_add(struct out *o, size_t reserve, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->used + reserve >= o->len)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used - reserve, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used - reserve) {
		o->buf[o->used] = '\0';
		return 0;
	}
	o->used += (size_t)n;
	return 1;
}

size_t mptcp_paths_format_log(const struct mptcp_paths *r, char *buf,
                              size_t len)
{
	struct out o = { buf, len, 0 };
	char l[ADDR_STRLEN], m[ADDR_STRLEN];

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (r->n == 0) {
		out_add(&o, 0, "-");
		return o.used;
	}
	for (unsigned i = 0; i < r->n; i++) {
		const struct mptcp_path *p = &r->path[i];
		/* Room for ",..." unless this is the last entry. */
		size_t reserve = i + 1 < r->n ? 4 : 0;

		if (!out_add(&o, reserve, "%s%s>%s:%" PRIu64 "/%" PRIu64,
		             i ? "," : "", pm_addr_format(&p->local, l),
		             pm_addr_format(&p->remote, m), p->tcp.bytes_acked,
		             p->tcp.bytes_received)) {
			out_add(&o, 0, "%s...", i ? "," : "");
			break;
		}
	}
	return o.used;
}

/* s as the inside of a JSON string: addr_format() output is plain ASCII,
 * but an IPv6 scope or a future format must not break the document. */
static const char *json_text(const char *s, char *buf, size_t len)
{
	size_t j = 0;

	for (; *s != '\0' && j + 7 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[j++] = '\\';
			buf[j++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			j += (size_t)snprintf(buf + j, len - j, "\\u%04x", c);
		} else {
			buf[j++] = (char)c;
		}
	}
	buf[j] = '\0';
	return buf;
}

/* A JSON number, or null for "unknown" (negative). */
static const char *json_ms(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		snprintf(buf, len, "null");
	else
		snprintf(buf, len, "%" PRId64, ms);
	return buf;
}

size_t mptcp_paths_format_json(const struct mptcp_paths *r, char *buf,
                               size_t len)
{
	struct out o = { buf, len, 0 };

	if (len < 3) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	out_add(&o, 1, "[");
	for (unsigned i = 0; i < r->n; i++) {
		const struct mptcp_path *p = &r->path[i];
		char a[ADDR_STRLEN], la[2 * ADDR_STRLEN], ra[2 * ADDR_STRLEN];
		char est[24], clo[24], prec[64];

		json_text(pm_addr_format(&p->local, a), la, sizeof(la));
		json_text(pm_addr_format(&p->remote, a), ra, sizeof(ra));
		if (!out_add(&o, 1,
		             "%s{\"id\":%" PRIu32 ",\"local\":\"%s\",\"remote\":\"%s\","
		             "\"established_ms\":%s,\"closed_ms\":%s,\"end\":\"%s\","
		             "\"error\":%d,\"reset_reason\":%s,\"backup\":%s,"
		             "\"bytes_sent\":%" PRIu64 ",\"bytes_acked\":%" PRIu64 ","
		             "\"bytes_retrans\":%" PRIu64 ",\"bytes_received\":%" PRIu64 ","
		             "\"srtt_us\":%" PRIu32 ",\"cwnd\":%" PRIu32 ","
		             "\"retrans\":%" PRIu32 ",\"precision\":\"%s\"}",
		             i ? "," : "", p->id, la, ra,
		             json_ms(p->established_ms, est, sizeof(est)),
		             json_ms(p->closed_ms, clo, sizeof(clo)),
		             mptcp_path_end_name(p->end), p->error,
		             json_ms(p->has_reset ? (int64_t)p->reset_reason : -1,
		                     a, sizeof(a)),
		             p->backup < 0 ? "null" : p->backup ? "true" : "false",
		             p->tcp.bytes_sent, p->tcp.bytes_acked,
		             p->tcp.bytes_retrans, p->tcp.bytes_received,
		             p->tcp.srtt_us, p->tcp.cwnd, p->tcp.retrans,
		             mptcp_paths_precision_text(p->precision, prec,
		                                        sizeof(prec))))
			break;
	}
	out_add(&o, 0, "]");
	return o.used;
}
