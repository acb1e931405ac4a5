/* Reading a balancer's PROXY header (include/proxy_accept.h).  Trust is
 * decided before anything is read: the caller closes a peer outside
 * accept_proxy_from at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "proxy_accept.h"
#include "proxy_decode.h"

/* Room for the longest header we accept: a v1 line or a v2 header up to
 * the decoder's default bound. */
#define PA_BUF (PP_DEC_V2_MAX_LEN_DEFAULT > PP1_MAX_LEN \
                ? PP_DEC_V2_MAX_LEN_DEFAULT : PP1_MAX_LEN)

int proxy_accept_trusted(const struct listener_cfg *cfg,
                         const struct sockaddr *peer)
{
	return cidr_match(cfg->proxy_from, cfg->nproxy_from, peer);
}

static enum pa_status refuse(struct pa_header *h, enum end_reason why,
                             const char *reason)
{
	free(h->fwd_tlvs);
	h->fwd_tlvs = NULL;
	h->fwd_len = 0;
	h->why = why;
	h->reason = reason;
	return PA_REFUSED;
}

/* Whether the balancer's TLV t goes on to the backend: not a checksum
 * of the old header, and not one of the kinds this listener writes
 * itself about the connection it accepted. */
static int forwards(const struct listener_cfg *cfg, uint8_t t)
{
	unsigned set = cfg->pp_tlvs;
	int tls = cfg->tls_ctx != NULL;

	return t != PP2_TYPE_CRC32C && t != PP2_TYPE_NOOP &&
	       !(t == PP2_TYPE_FRONTD_MPTCP && (set & PP_TLV_MPTCP)) &&
	       !(tls && t == PP2_TYPE_ALPN && (set & PP_TLV_ALPN)) &&
	       !(tls && t == PP2_TYPE_AUTHORITY && (set & PP_TLV_AUTHORITY)) &&
	       !(tls && t == PP2_TYPE_SSL && (set & PP_TLV_SSL));
}

/* The TLVs to pass on, as on the wire, in o (NULL when none).  Returns
 * -1 when out of memory. */
static int keep_tlvs(const struct listener_cfg *cfg, const struct pp_header *hdr,
                     struct pa_header *o)
{
	size_t len = 0, off = 0;

	o->fwd_tlvs = NULL;
	o->fwd_len = 0;
	if (!(cfg->pp_tlvs & PP_TLV_UPSTREAM) || cfg->proxy_protocol != PP_MODE_V2)
		return 0;
	for (size_t i = 0; i < hdr->ntlvs; i++)
		if (forwards(cfg, hdr->tlvs[i].type))
			len += PP2_TLV_HEADER_LEN + hdr->tlvs[i].len;
	/* The decoder's bound keeps the TLVs within PP_FWD_TLVS_MAX. */
	if (len == 0 || len > PP_FWD_TLVS_MAX)
		return 0;
	o->fwd_tlvs = malloc(len);
	if (o->fwd_tlvs == NULL)
		return -1;
	for (size_t i = 0; i < hdr->ntlvs; i++) {
		const struct pp_tlv *t = &hdr->tlvs[i];

		if (!forwards(cfg, t->type))
			continue;
		o->fwd_tlvs[off] = t->type;
		o->fwd_tlvs[off + 1] = (uint8_t)(t->len >> 8);
		o->fwd_tlvs[off + 2] = (uint8_t)t->len;
		memcpy(o->fwd_tlvs + off + PP2_TLV_HEADER_LEN, t->value, t->len);
		off += PP2_TLV_HEADER_LEN + t->len;
	}
	o->fwd_len = (uint16_t)len;
	return 0;
}

/* The header is complete (hdr, len bytes): check it, consume it. */
static enum pa_status accept_header(const struct listener_cfg *cfg, int fd,
                                    const struct pp_header *hdr, size_t len,
                                    struct pa_header *h)
{
	uint8_t sink[PA_BUF];
	ssize_t n;

	if (hdr->family == PP_DEC_FAM_UNIX)
		return refuse(h, END_PROXY_BAD_HEADER,
		              "UNIX family: no IP address to forward");
	/* A datagram family (UDP4, UDP6, UNIX dgram) on a stream: the
	 * balancer is confused; LOCAL's family is not looked at. */
	if (hdr->command == PP_DEC_CMD_PROXY && hdr->version == 2 &&
	    (hdr->v2_fam & 0x0f) == 0x2)
		return refuse(h, END_PROXY_BAD_HEADER,
		              "datagram family on a stream connection");
	h->own = !(hdr->command == PP_DEC_CMD_PROXY &&
	           (hdr->family == PP_DEC_FAM_TCP4 ||
	            hdr->family == PP_DEC_FAM_TCP6));
	if (!h->own) {
		addr_sa_store(&h->client, &hdr->src, hdr->src_len);
		addr_sa_store(&h->local, &hdr->dst, hdr->dst_len);
	}
	/* TLVs point into the peeked copy of the header: kept first. */
	if (keep_tlvs(cfg, hdr, h) < 0)
		return refuse(h, END_ERROR, "out of memory");
	/* Every byte of the header was peeked, so this reads all of it. */
	n = recv(fd, sink, len, 0);
	if (n != (ssize_t)len)
		return refuse(h, END_ERROR,
		              n < 0 ? strerror(errno) : "short read");
	return PA_DONE;
}

enum pa_status proxy_accept_read(const struct listener_cfg *cfg, int fd,
                                 int closed, struct pa_header *h)
{
	uint8_t buf[PA_BUF];
	struct pp_header hdr;
	struct pp_dec_result res;
	ssize_t n;

	memset(h, 0, sizeof(*h));
	n = recv(fd, buf, sizeof(buf), MSG_PEEK);
	if (n == 0)
		return refuse(h, END_CLIENT_CLOSE,
		              "closed before sending a header");
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return PA_WAIT;
		return refuse(h, errno == ECONNRESET ? END_CLIENT_RESET
		                                     : END_ERROR,
		              strerror(errno));
	}
	switch (pp_decode(buf, (size_t)n, PP_DEC_V2_MAX_LEN_DEFAULT, &hdr,
	                  &res)) {
	case PP_DEC_DONE:
		return accept_header(cfg, fd, &hdr, res.len, h);
	case PP_DEC_ERROR:
		return refuse(h, END_PROXY_BAD_HEADER, res.error);
	case PP_DEC_NEED_MORE:
		/* A prefix of a valid header, and then the client closed
		 * its side (or filled our buffer, which a valid header
		 * within our bound cannot). */
		if (closed || (size_t)n == sizeof(buf))
			return refuse(h, END_PROXY_BAD_HEADER,
			              "truncated header");
		break;
	}
	return PA_WAIT;
}
