/* Listening sockets.  Each bind of a [listener:NAME] is one socket; all of
 * a listener's sockets share its connection count and limit. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "compat.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "mptcp.h"
#include "fleet.h"
#include "sockact.h"
#include "stats.h"

#define LISTEN_BACKLOG 4096     /* the kernel caps it at net.core.somaxconn */
#define ACCEPT_BATCH 64         /* accepts per wakeup, for fairness */

/* The kernel refusing MPTCP is said once per process. */
static _Atomic int mptcp_refusal_warned;

/* A socket for `family` per the listener's MPTCP policy.  Returns the
 * descriptor (setting *is_mptcp) or -1 after logging. */
static int make_socket(struct listener *l, int family, const char *where,
                       int *is_mptcp)
{
	const int type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
	int fd, err;

	*is_mptcp = 0;
	if (l->cfg->mptcp != MPTCP_MODE_OFF) {
		fd = socket(family, type, IPPROTO_MPTCP);
		if (fd >= 0) {
			*is_mptcp = 1;
			return fd;
		}
		err = errno;
		if (!mptcp_refused_errno(err)) {
			log_error("listener %s: cannot create a socket for %s: %s",
			          l->cfg->name, where, strerror(err));
			return -1;
		}
		if (l->cfg->mptcp == MPTCP_MODE_REQUIRED) {
			log_error("listener %s: cannot create an MPTCP socket for "
			          "%s: %s (mptcp = required; is net.mptcp.enabled "
			          "= 0? set mptcp = on to allow plain TCP)",
			          l->cfg->name, where, strerror(err));
			return -1;
		}
		if (atomic_exchange(&mptcp_refusal_warned, 1) == 0)
			log_warn("kernel refuses MPTCP sockets (%s): listeners with "
			         "mptcp = on fall back to plain TCP "
			         "(is net.mptcp.enabled = 0?)", strerror(err));
	}
	fd = socket(family, type, IPPROTO_TCP);
	if (fd < 0)
		log_error("listener %s: cannot create a socket for %s: %s",
		          l->cfg->name, where, strerror(errno));
	return fd;
}

/* Options set once here are inherited by every accepted socket, which
 * saves a setsockopt per connection. */
static void set_listen_options(struct listener *l, int fd, int family,
                               const struct bind_cfg *b, const char *where)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		log_warn("listener %s: %s: SO_REUSEADDR: %s", l->cfg->name,
		         where, strerror(errno));
	/* Every worker binds its own copy; the kernel spreads connections
	 * over them. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		log_warn("listener %s: %s: SO_REUSEPORT: %s", l->cfg->name,
		         where, strerror(errno));
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		log_debug("listener %s: %s: TCP_NODELAY not on this socket: %s",
		          l->cfg->name, where, strerror(errno));
	if (family == AF_INET6) {
		int v6only = b->v6only;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		               sizeof(v6only)) < 0)
			log_warn("listener %s: %s: IPV6_V6ONLY: %s", l->cfg->name,
			         where, strerror(errno));
	}
}

/* Is `at` free of other processes' listeners?  Our sockets share each
 * port through SO_REUSEPORT, which would just as silently share it with
 * another process (a second instance, anything of the same user): binding
 * a probe socket without SO_REUSEPORT first makes the kernel apply its own
 * conflict rules (a wildcard overlaps every address of its family, a
 * dual-stack [::] overlaps IPv4 listeners too, an MPTCP listener holds
 * its TCP port).  Reading /proc/net/tcp and tcp6 instead would mean
 * redoing those rules (v4-mapped entries, v6only, wildcards) by hand, and
 * would race just the same.  SO_REUSEADDR keeps TIME_WAIT leftovers of an
 * earlier run from counting as users.  Port 0 needs no probe.  The window
 * between probe and bind is not closed: this catches the operator's
 * mistake, not a race.  Returns 0, or -1 after logging. */
static int probe_free(struct listener *l, const struct bind_cfg *b,
                      const struct addr *at)
{
	int one = 1, v6only = b->v6only, fd, rc = 0;
	char where[ADDR_STRLEN];

	if (addr_port(at) == 0)
		return 0;
	fd = socket(at->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return 0;       /* make_socket reports this */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (at->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		           sizeof(v6only));
	if (bind(fd, (const struct sockaddr *)&at->ss, at->len) < 0 &&
	    errno == EADDRINUSE) {
		addr_format((const struct sockaddr *)&at->ss, at->len, where,
		            sizeof(where));
		log_error("listener %s: %s is already in use by another process "
		          "(is another mptcp-frontd running with this "
		          "configuration?)", l->cfg->name, where);
		rc = -1;
	}
	close(fd);
	return rc;
}

/* Does `old` (our previous generation) hold a socket on at's port?  Then a
 * reload opens a second socket beside ours on purpose. */
static int ours_on_port(const struct listener *old, size_t nold,
                        const struct addr *at)
{
	for (size_t i = 0; old != NULL && i < nold; i++)
		for (size_t j = 0; j < old[i].nsocks; j++) {
			const struct lsock *os = &old[i].socks[j];
			if (os->fd >= 0 && addr_port(&os->bound) == addr_port(at))
				return 1;
		}
	return 0;
}

/* Bind `at` (the configured address, or worker 0's actual one). */
static int open_one(struct listener *l, const struct bind_cfg *b,
                    const struct addr *at, struct lsock *ls)
{
	char where[ADDR_STRLEN], real[ADDR_STRLEN];
	int family = at->ss.ss_family;
	int fd;

	addr_format((const struct sockaddr *)&at->ss, at->len, where,
	            sizeof(where));
	fd = make_socket(l, family, where, &ls->is_mptcp);
	if (fd < 0)
		return -1;
	set_listen_options(l, fd, family, b, where);
	if (bind(fd, (const struct sockaddr *)&at->ss, at->len) < 0) {
		log_error("listener %s: bind %s: %s", l->cfg->name, where,
		          strerror(errno));
		goto fail;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		log_error("listener %s: listen %s: %s", l->cfg->name, where,
		          strerror(errno));
		goto fail;
	}
	ls->bound.len = sizeof(ls->bound.ss);
	if (getsockname(fd, (struct sockaddr *)&ls->bound.ss,
	                &ls->bound.len) < 0) {
		log_error("listener %s: getsockname %s: %s", l->cfg->name,
		          where, strerror(errno));
		goto fail;
	}
	ls->fd = fd;
	ls->owner = l;
	if (!l->primary)
		return 0;       /* worker 0 speaks for all copies */
	if (family == AF_INET6 && !b->v6only &&
	    addr_is_wildcard(&ls->bound))
		log_info("listener %s: listening on %s (%s, dual-stack)",
		         l->cfg->name,
		         addr_format((struct sockaddr *)&ls->bound.ss,
		                     ls->bound.len, real, sizeof(real)),
		         ls->is_mptcp ? "mptcp" : "tcp");
	else
		log_info("listener %s: listening on %s (%s)", l->cfg->name,
		         addr_format((struct sockaddr *)&ls->bound.ss,
		                     ls->bound.len, real, sizeof(real)),
		         ls->is_mptcp ? "mptcp" : "tcp");
	return 0;
fail:
	close(fd);
	return -1;
}

/* A socket handed to us for bind i: by the service manager (socket
 * activation: one socket, worker 0 takes it, the others accept on
 * duplicates of its descriptor) or by the old binary (upgrade: one
 * SO_REUSEPORT copy per old worker, worker i takes the i-th; a worker
 * beyond the old count binds a copy of its own).  Returns 1 when ls got
 * one, 0 when the bind has none (bind it), -1 after logging. */
static int open_inherited(struct listener *l, size_t i,
                          const struct listener *first, struct lsock *ls)
{
	struct sockact_fd sa;
	char where[ADDR_STRLEN];
	int one = 1;

	if (sockact_take(&l->cfg->binds[i], &sa)) {
		ls->fd = sa.fd;
		ls->is_mptcp = sa.is_mptcp;
		ls->bound = sa.bound;
		ls->inherited = sa.from_upgrade ? LSOCK_UPGRADED : LSOCK_ACTIVATED;
		if (first == NULL)
			log_info("listener %s: listening on %s (%s, inherited fd "
			         "%d \"%s\", matched by %s)", l->cfg->name,
			         addr_format((struct sockaddr *)&ls->bound.ss,
			                     ls->bound.len, where, sizeof(where)),
			         ls->is_mptcp ? "mptcp" : "tcp", sa.fd,
			         sa.name != NULL ? sa.name : "",
			         sa.from_upgrade ? "the old binary"
			         : sa.match == SOCKACT_BY_NAME ? "name" : "address");
	} else if (first != NULL &&
	           first->socks[i].inherited == LSOCK_ACTIVATED) {
		const struct lsock *fs = &first->socks[i];
		ls->fd = fcntl(fs->fd, F_DUPFD_CLOEXEC, 0);
		if (ls->fd < 0) {
			log_error("listener %s: dup inherited socket: %s",
			          l->cfg->name, strerror(errno));
			return -1;
		}
		ls->is_mptcp = fs->is_mptcp;
		ls->bound = fs->bound;
		ls->inherited = LSOCK_ACTIVATED;
	} else {
		return 0;
	}
	ls->owner = l;
	/* Inherited by accepted sockets, as for the ones we bind. */
	if (setsockopt(ls->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		log_debug("listener %s: TCP_NODELAY not on this socket: %s",
		          l->cfg->name, strerror(errno));
	return 1;
}

/* The socket of `old` bound as `b` asks, if any: its descriptor moves to
 * `ls`.  Only the main thread calls this, before the worker that owns
 * `old` learns of the new set, so `moved` needs no lock. */
static int take_over(struct lsock *ls, const struct listener_cfg *cfg,
                     const struct bind_cfg *b, struct listener *old,
                     size_t nold)
{
	/* The same-named listener's socket first: two listeners may bind
	 * the same configured address (port 0), and each must keep its own
	 * port whatever their order in the new file. */
	for (int pass = 0; pass < 2; pass++)
	for (size_t i = 0; old != NULL && i < nold; i++) {
		struct listener *ol = &old[i];
		if (ol->cfg->mptcp != cfg->mptcp ||
		    (pass == 0 && strcmp(ol->cfg->name, cfg->name) != 0))
			continue;
		for (size_t j = 0; j < ol->nsocks; j++) {
			struct lsock *os = &ol->socks[j];
			if (os->fd < 0 || os->moved ||
			    os->conf->v6only != b->v6only ||
			    !addr_equal(&os->conf->addr, &b->addr))
				continue;
			ls->fd = os->fd;
			ls->is_mptcp = os->is_mptcp;
			ls->inherited = os->inherited;
			ls->bound = os->bound;
			ls->from = os;
			os->moved = 1;
			return 1;
		}
	}
	return 0;
}

static void on_conn_closed(struct conn_owner *o, struct conn *c,
                           enum end_reason why)
{
	struct listener *l = (struct listener *)((char *)o -
	                                         offsetof(struct listener, conns));

	/* The slot reserved before accept. */
	l->hooks->release(l);
	l->hooks->conn_ended(l);
}

int listener_open(struct listener *l, const struct listener_cfg *cfg,
                  struct listener_stats *stats, const struct listener *first,
                  struct listener *old, size_t nold)
{
	memset(l, 0, sizeof(*l));
	l->cfg = cfg;
	l->stats = stats;
	l->primary = first == NULL;
	l->conns.cfg = cfg;
	l->conns.stats = stats;
	l->conns.closed = on_conn_closed;
	l->socks = calloc(cfg->nbinds, sizeof(*l->socks));
	if (l->socks == NULL) {
		log_error("listener %s: out of memory", cfg->name);
		return -1;
	}
	for (size_t i = 0; i < cfg->nbinds; i++) {
		int rc;
		l->socks[i].fd = -1;
		const struct addr *at = first ? &first->socks[i].bound
		                              : &cfg->binds[i].addr;
		l->socks[i].conf = &cfg->binds[i];
		if (take_over(&l->socks[i], cfg, &cfg->binds[i], old, nold)) {
			l->socks[i].owner = l;
			l->nsocks++;
			continue;
		}
		rc = open_inherited(l, i, first, &l->socks[i]);
		/* Worker 0 probes; the others bind what it bound. */
		if (rc == 0 && first == NULL && !ours_on_port(old, nold, at))
			rc = probe_free(l, &cfg->binds[i], at);
		if (rc == 0)
			rc = open_one(l, &cfg->binds[i], at, &l->socks[i]);
		if (rc < 0) {
			listener_abandon(l);
			return -1;
		}
		l->nsocks++;
	}
	return 0;
}

int listener_accept_errno_transient(int err)
{
	/* Errors about the one connection being accepted: skip it. */
	return err == ECONNABORTED || err == EPROTO || err == EPERM ||
	       err == EINTR || err == ENETDOWN || err == ENOPROTOOPT ||
	       err == EHOSTDOWN || err == ENONET || err == EHOSTUNREACH ||
	       err == EOPNOTSUPP || err == ENETUNREACH;
}

/* Accept up to `max` connections waiting on ls. */
static void accept_some(struct lsock *ls, int max)
{
	struct listener *l = ls->owner;
	int fd = ls->fd;

	for (int i = 0; i < max; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		struct conn_accept a;
		int cfd;

		/* A slot is reserved before accepting so the limits hold
		 * exactly across workers; excess clients wait in the
		 * backlog. */
		if (!l->hooks->reserve(l))
			return;
		cfd = accept4(fd, (struct sockaddr *)&peer, &plen,
		              SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			int err = errno;
			l->hooks->release(l);
			if (err == EAGAIN || err == EWOULDBLOCK)
				return;
			if (listener_accept_errno_transient(err))
				continue;
			/* EMFILE, ENFILE, ENOBUFS, ENOMEM: the listening socket
			 * stays readable, so polling it would spin. */
			l->hooks->accept_failed(l, err);
			return;
		}
		fleet_check_accept(cfd);        /* `announce` misuse, once */
		a.fd = cfd;
		a.peer = &peer;
		a.peerlen = plen;
		a.bound = &ls->bound;
		a.mptcp_listener = ls->is_mptcp;
		/* The socket and its slot are the connection's now, which
		 * reports its end through on_conn_closed. */
		if (conn_start(&l->conns, &a) < 0) {
			close(cfd);
			l->hooks->release(l);
			continue;
		}
		stats_add(l->accepted, 1);
	}
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	accept_some(arg, ACCEPT_BATCH);
}

void listener_drain_queue(struct listener *l)
{
	for (size_t i = 0; i < l->nsocks; i++)
		if (l->socks[i].fd >= 0 && !l->socks[i].moved)
			accept_some(&l->socks[i], LISTEN_BACKLOG);
}

int listener_attach(struct listener *l, struct event_base *base)
{
	l->conns.base = base;
	for (size_t i = 0; i < l->nsocks; i++) {
		struct lsock *ls = &l->socks[i];
		ls->ev = event_new(base, ls->fd, EV_READ | EV_PERSIST, on_accept,
		                   ls);
		if (ls->ev == NULL) {
			log_error("listener %s: cannot create accept event",
			          l->cfg->name);
			return -1;
		}
	}
	return 0;
}

void listener_set_accepting(struct listener *l, int on)
{
	if (l->accepting == on)
		return;
	for (size_t i = 0; i < l->nsocks; i++) {
		struct lsock *ls = &l->socks[i];
		if (ls->ev == NULL || ls->fd < 0)
			continue;
		if (on)
			event_add(ls->ev, NULL);
		else
			event_del(ls->ev);
	}
	l->accepting = on;
}

void listener_abandon(struct listener *l)
{
	for (size_t i = 0; i < l->nsocks; i++) {
		struct lsock *ls = &l->socks[i];
		if (ls->from != NULL) {
			ls->from->moved = 0;
			ls->fd = -1;
		}
	}
	listener_close(l);
}

void listener_close(struct listener *l)
{
	listener_set_accepting(l, 0);
	for (size_t i = 0; i < l->nsocks; i++) {
		struct lsock *ls = &l->socks[i];
		if (ls->ev != NULL) {
			event_free(ls->ev);
			ls->ev = NULL;
		}
		if (ls->fd >= 0 && !ls->moved)
			close(ls->fd);
		ls->fd = -1;
	}
	free(l->socks);
	l->socks = NULL;
	l->nsocks = 0;
}
