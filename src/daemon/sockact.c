/* Socket activation and binary-upgrade inheritance (see sockact.h for the
 * matching rules).  The inherited sockets are a process-wide pool filled
 * once at start-up, on the main thread, and emptied by the first listener
 * sets. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "sockact.h"

static struct sockact_fd *pool;
static size_t npool;
/* Binary upgrade: the old process's readiness pipe and /metrics socket. */
static int upgrade_ready_fd = -1;
static struct sockact_fd upgrade_stats = { .fd = -1 };

/* A decimal number in [min, max] and nothing else. */
static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int sockact_parse_count(const char *listen_pid, const char *listen_fds,
                        pid_t pid, char *err, size_t errlen)
{
	long p, n;

	if (listen_pid == NULL || listen_fds == NULL)
		return 0;
	if (parse_long(listen_pid, 1, INT_MAX, &p) < 0) {
		snprintf(err, errlen, "LISTEN_PID=\"%s\" is not a process ID",
		         listen_pid);
		return -1;
	}
	if (p != (long)pid)
		return 0;       /* meant for another process (our parent?) */
	if (parse_long(listen_fds, 0, SOCKACT_MAX_FDS, &n) < 0) {
		snprintf(err, errlen, "LISTEN_FDS=\"%s\" is not a count from 0 "
		         "to %d", listen_fds, SOCKACT_MAX_FDS);
		return -1;
	}
	return (int)n;
}

int sockact_parse_names(const char *s, struct sockact_fd *fds, size_t n,
                        char *err, size_t errlen)
{
	size_t i = 0;

	for (i = 0; i < n; i++)
		fds[i].name = NULL;
	if (s == NULL)
		return 0;
	for (i = 0;; i++) {
		size_t len = strcspn(s, ":");
		if (i < n && len > 0 && (fds[i].name = strndup(s, len)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (s[len] == '\0')
			break;
		s += len + 1;
	}
	if (i + 1 != n) {
		snprintf(err, errlen, "LISTEN_FDNAMES has %zu names for "
		         "LISTEN_FDS=%zu sockets", i + 1, n);
		return -1;
	}
	return 0;
}

static const struct listener_cfg *listener_named(const struct config *cfg,
                                                 const char *name)
{
	for (size_t i = 0; name != NULL && i < cfg->nlisteners; i++)
		if (strcmp(cfg->listeners[i].name, name) == 0)
			return &cfg->listeners[i];
	return NULL;
}

static int bind_taken(const struct sockact_fd *fds, size_t n,
                      const struct bind_cfg *b)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i].bind == b)
			return 1;
	return 0;
}

static void assign(struct sockact_fd *f, const struct listener_cfg *l,
                   const struct bind_cfg *b, enum sockact_match how)
{
	f->listener = l;
	f->bind = b;
	f->match = how;
}

/* Rule 1 for one socket: a bind with its address (in `only`, if set). */
static void match_addr(struct sockact_fd *fds, size_t n, struct sockact_fd *f,
                       const struct config *cfg,
                       const struct listener_cfg *only)
{
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_cfg *l = &cfg->listeners[i];
		if (only != NULL && l != only)
			continue;
		for (size_t j = 0; j < l->nbinds; j++) {
			const struct bind_cfg *b = &l->binds[j];
			if (addr_equal(&b->addr, &f->bound) &&
			    !bind_taken(fds, n, b)) {
				assign(f, l, b, SOCKACT_BY_ADDR);
				return;
			}
		}
	}
}

size_t sockact_assign(struct sockact_fd *fds, size_t n,
                      const struct config *cfg)
{
	size_t left = 0;

	for (size_t i = 0; i < n; i++)
		assign(&fds[i], NULL, NULL, SOCKACT_NONE);
	/* Exact addresses first, so that a socket matched by name only
	 * never takes a bind another socket matches exactly. */
	for (size_t i = 0; i < n; i++)
		match_addr(fds, n, &fds[i], cfg,
		           listener_named(cfg, fds[i].name));
	for (size_t i = 0; i < n; i++) {
		struct sockact_fd *f = &fds[i];
		const struct listener_cfg *l = listener_named(cfg, f->name);
		for (size_t j = 0; l != NULL && f->match == SOCKACT_NONE &&
		                   j < l->nbinds; j++)
			if (!bind_taken(fds, n, &l->binds[j]))
				assign(f, l, &l->binds[j], SOCKACT_BY_NAME);
		if (f->match == SOCKACT_NONE)
			left++;
	}
	return left;
}

static const char *describe(const struct sockact_fd *f, char *buf,
                            size_t len)
{
	char a[ADDR_STRLEN];

	snprintf(buf, len, "inherited socket fd %d (%s \"%s\", %s, %s)",
	         f->fd, f->from_upgrade ? "old process's listener" : "name",
	         f->name != NULL ? f->name : "",
	         f->bound.len ? addr_format((const struct sockaddr *)&f->bound.ss,
	                                    f->bound.len, a, sizeof(a))
	                      : "no address",
	         f->is_mptcp ? "mptcp" : "tcp");
	return buf;
}

static int sockopt_int(int fd, int level, int opt, int *v)
{
	socklen_t len = sizeof(*v);

	return getsockopt(fd, level, opt, v, &len);
}

/* Is f->fd a listening TCP or MPTCP socket?  Fills bound and is_mptcp and
 * makes it non-blocking (the workers accept in batches until EAGAIN) and
 * close-on-exec.  Returns 0, or -1 after logging. */
static int check_socket(struct sockact_fd *f)
{
	int type, domain, listening, proto, fl;
	char what[ADDR_STRLEN + 96];

	if (fcntl(f->fd, F_GETFD) < 0) {
		log_error("inherited fd %d: %s (LISTEN_FDS says it is open)",
		          f->fd, strerror(errno));
		return -1;
	}
	f->bound.len = sizeof(f->bound.ss);
	if (sockopt_int(f->fd, SOL_SOCKET, SO_TYPE, &type) < 0 ||
	    sockopt_int(f->fd, SOL_SOCKET, SO_DOMAIN, &domain) < 0 ||
	    sockopt_int(f->fd, SOL_SOCKET, SO_ACCEPTCONN, &listening) < 0 ||
	    sockopt_int(f->fd, SOL_SOCKET, SO_PROTOCOL, &proto) < 0 ||
	    getsockname(f->fd, (struct sockaddr *)&f->bound.ss,
	                &f->bound.len) < 0) {
		log_error("inherited fd %d (name \"%s\"): not a usable socket: "
		          "%s", f->fd, f->name ? f->name : "", strerror(errno));
		f->bound.len = 0;
		return -1;
	}
	f->is_mptcp = proto == IPPROTO_MPTCP;
	describe(f, what, sizeof(what));
	if (type != SOCK_STREAM || (domain != AF_INET && domain != AF_INET6)) {
		log_error("%s: not a TCP or MPTCP socket over IPv4 or IPv6 "
		          "(ListenStream= with an address and port)", what);
		return -1;
	}
	if (!listening) {
		log_error("%s: not listening (Accept=no in the socket unit)",
		          what);
		return -1;
	}
	fl = fcntl(f->fd, F_GETFL);
	if (fl < 0 || fcntl(f->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(f->fd, F_SETFD, FD_CLOEXEC) < 0) {
		log_error("%s: fcntl: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

/* The listener's mptcp policy against what the socket unit (or the old
 * binary's configuration) created. */
static int check_policy(const struct sockact_fd *f)
{
	const struct listener_cfg *l = f->listener;
	const char *hint = f->from_upgrade
		? "the old process's socket is kept; a restart applies the "
		  "mptcp setting"
		: "SocketProtocol=mptcp in the socket unit, systemd 257+";
	char what[ADDR_STRLEN + 96];

	describe(f, what, sizeof(what));
	if (l->mptcp == MPTCP_MODE_REQUIRED && !f->is_mptcp) {
		log_error("listener %s: mptcp = required, but %s is plain TCP "
		          "(%s)", l->name, what, hint);
		return -1;
	}
	if (l->mptcp == MPTCP_MODE_ON && !f->is_mptcp)
		log_warn("listener %s: %s is plain TCP: no MPTCP on it (%s)",
		         l->name, what, hint);
	else if (l->mptcp == MPTCP_MODE_OFF && f->is_mptcp)
		log_warn("listener %s: mptcp = off, but %s is MPTCP (%s)",
		         l->name, what, f->from_upgrade ? hint
		                                        : "the socket unit decides");
	return 0;
}

/* Copy and unset the variables: they must not reach a child, nor be
 * read twice. */
static char *take_env(const char *name)
{
	const char *v = getenv(name);
	char *copy = v != NULL ? strdup(v) : NULL;

	unsetenv(name);
	return copy;
}

static int init_activation(const struct config *cfg)
{
	char *pid = take_env("LISTEN_PID"), *fds = take_env("LISTEN_FDS");
	char *names = take_env("LISTEN_FDNAMES");
	char err[256], what[ADDR_STRLEN + 96];
	int n, bad = 0;

	n = sockact_parse_count(pid, fds, getpid(), err, sizeof(err));
	if (n < 0) {
		log_error("socket activation: %s", err);
		goto out;
	}
	if (n == 0) {
		if (fds != NULL)
			log_info("socket activation: LISTEN_FDS=%s ignored "
			         "(LISTEN_PID=%s is not us)", fds,
			         pid != NULL ? pid : "unset");
		goto out;
	}
	pool = calloc((size_t)n, sizeof(*pool));
	if (pool == NULL) {
		log_error("out of memory");
		n = -1;
		goto out;
	}
	npool = (size_t)n;
	for (size_t i = 0; i < npool; i++)
		pool[i].fd = SOCKACT_FD_START + (int)i;
	if (sockact_parse_names(names, pool, npool, err, sizeof(err)) < 0) {
		log_error("socket activation: %s", err);
		n = -1;
		goto out;
	}
	for (size_t i = 0; i < npool; i++)
		if (check_socket(&pool[i]) < 0)
			bad++;
	if (bad == 0)
		sockact_assign(pool, npool, cfg);
	for (size_t i = 0; bad == 0 && i < npool; i++) {
		if (pool[i].match == SOCKACT_NONE) {
			log_error("%s matches no listener by name or address",
			          describe(&pool[i], what, sizeof(what)));
			n = -1;
		} else if (check_policy(&pool[i]) < 0) {
			n = -1;
		}
	}
	if (bad > 0)
		n = -1;
	if (n > 0)
		log_info("socket activation: %d inherited socket%s", n,
		         n == 1 ? "" : "s");
out:
	free(pid);
	free(fds);
	free(names);
	return n;
}

/* Same address, or b asks for port 0 and `bound` is b's address with the
 * port the kernel picked. */
static int bind_fits(const struct bind_cfg *b, const struct addr *bound)
{
	struct addr a = b->addr;

	if (addr_port(&a) == 0 && a.ss.ss_family == bound->ss.ss_family) {
		if (a.ss.ss_family == AF_INET)
			((struct sockaddr_in *)&a.ss)->sin_port =
				((const struct sockaddr_in *)&bound->ss)->sin_port;
		else if (a.ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&a.ss)->sin6_port =
				((const struct sockaddr_in6 *)&bound->ss)->sin6_port;
	}
	return addr_equal(&a, bound);
}

size_t sockact_assign_upgrade(struct sockact_fd *fds, size_t n,
                              const struct config *cfg)
{
	size_t left = 0;

	for (size_t i = 0; i < n; i++) {
		struct sockact_fd *f = &fds[i];
		const struct listener_cfg *l = listener_named(cfg, f->name);

		assign(f, NULL, NULL, SOCKACT_NONE);
		if (l != NULL && f->bind_index < l->nbinds &&
		    bind_fits(&l->binds[f->bind_index], &f->bound))
			assign(f, l, &l->binds[f->bind_index], SOCKACT_BY_ADDR);
		for (size_t j = 0; f->match == SOCKACT_NONE &&
		                   j < cfg->nlisteners; j++)
			for (size_t k = 0; k < cfg->listeners[j].nbinds; k++)
				if (addr_equal(&cfg->listeners[j].binds[k].addr,
				               &f->bound)) {
					assign(f, &cfg->listeners[j],
					       &cfg->listeners[j].binds[k],
					       SOCKACT_BY_ADDR);
					break;
				}
		if (f->match == SOCKACT_NONE)
			left++;
	}
	return left;
}

/* A descriptor number in a variable we were given. */
static int parse_fd(const char *s, int *fd)
{
	long v;

	if (parse_long(s, 0, INT_MAX, &v) < 0)
		return -1;
	*fd = (int)v;
	return 0;
}

int sockact_parse_inherit(const char *s, struct sockact_inherit *out,
                          char *err, size_t errlen)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->ready_fd = out->stats_fd = -1;
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		char *v = strchr(tok, '=');
		long pid;
		if (v == NULL)
			goto bad;
		*v++ = '\0';
		if (strcmp(tok, "pid") == 0) {
			if (parse_long(v, 1, INT_MAX, &pid) < 0)
				goto bad;
			out->pid = (pid_t)pid;
		} else if (strcmp(tok, "ready") == 0) {
			if (parse_fd(v, &out->ready_fd) < 0)
				goto bad;
		} else if (strcmp(tok, "stats") == 0) {
			if (parse_fd(v, &out->stats_fd) < 0)
				goto bad;
		} else if (strcmp(tok, "sock") == 0) {
			/* FD:LISTENER:BIND_INDEX */
			char *name = strchr(v, ':'), *idx;
			long bi;
			struct sockact_fd *f;
			if (name == NULL || (idx = strchr(name + 1, ':')) == NULL ||
			    out->n == SOCKACT_MAX_FDS)
				goto bad;
			*name++ = '\0';
			*idx++ = '\0';
			f = &out->socks[out->n];
			memset(f, 0, sizeof(*f));
			if (parse_fd(v, &f->fd) < 0 ||
			    parse_long(idx, 0, INT_MAX, &bi) < 0 || *name == '\0' ||
			    (f->name = strdup(name)) == NULL)
				goto bad;
			f->bind_index = (size_t)bi;
			f->from_upgrade = 1;
			out->n++;
		} else {
			goto bad;
		}
	}
	if (out->pid == 0) {
		snprintf(err, errlen, "no pid=");
		goto out;
	}
	rc = 0;
	goto out;
bad:
	snprintf(err, errlen, "cannot parse \"%s\"", tok);
out:
	if (rc < 0)
		sockact_inherit_free(out);
	free(copy);
	return rc;
}

void sockact_inherit_free(struct sockact_inherit *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->socks[i].name);
	in->n = 0;
}

/* The variable an old process sets for the binary it starts on SIGUSR2
 * (server_upgrade.c).  Only its child takes it. */
static int init_upgrade(const struct config *cfg)
{
	char *s = take_env(SOCKACT_INHERIT_ENV);
	struct sockact_inherit in;
	struct sockact_fd *grown;
	char err[256], what[ADDR_STRLEN + 96];
	int rc = -1, bad = 0;

	if (s == NULL)
		return 0;
	if (sockact_parse_inherit(s, &in, err, sizeof(err)) < 0) {
		log_error("binary upgrade: %s=\"%s\": %s", SOCKACT_INHERIT_ENV, s,
		          err);
		free(s);
		return -1;
	}
	free(s);
	if (in.pid != getppid()) {
		log_info("binary upgrade: %s ignored (pid %ld is not our parent)",
		         SOCKACT_INHERIT_ENV, (long)in.pid);
		sockact_inherit_free(&in);
		return 0;
	}
	for (size_t i = 0; i < in.n; i++)
		if (check_socket(&in.socks[i]) < 0)
			bad++;
	if (bad > 0)
		goto out;
	sockact_assign_upgrade(in.socks, in.n, cfg);
	for (size_t i = 0; i < in.n; i++)
		if (in.socks[i].match == SOCKACT_NONE)
			log_info("binary upgrade: %s is not in this configuration: "
			         "closed", describe(&in.socks[i], what,
			                            sizeof(what)));
		else if (check_policy(&in.socks[i]) < 0)
			bad++;
	if (bad > 0)
		goto out;
	grown = realloc(pool, (npool + in.n + 1) * sizeof(*pool));
	if (grown == NULL) {
		log_error("out of memory");
		goto out;
	}
	pool = grown;
	memcpy(pool + npool, in.socks, in.n * sizeof(*pool));
	npool += in.n;
	rc = (int)in.n;
	in.n = 0;       /* the names are the pool's now */
	upgrade_ready_fd = in.ready_fd;
	if (upgrade_ready_fd >= 0)
		fcntl(upgrade_ready_fd, F_SETFD, FD_CLOEXEC);
	upgrade_stats.fd = in.stats_fd;
	upgrade_stats.bound.len = sizeof(upgrade_stats.bound.ss);
	if (in.stats_fd >= 0 &&
	    (fcntl(in.stats_fd, F_SETFD, FD_CLOEXEC) < 0 ||
	     getsockname(in.stats_fd, (struct sockaddr *)&upgrade_stats.bound.ss,
	                 &upgrade_stats.bound.len) < 0)) {
		log_error("binary upgrade: inherited stats socket fd %d: %s",
		          in.stats_fd, strerror(errno));
		goto out;
	}
	log_info("binary upgrade: %d listening sockets inherited from pid %ld",
	         rc, (long)in.pid);
out:
	for (size_t i = 0; rc < 0 && i < in.n; i++)
		close(in.socks[i].fd);
	sockact_inherit_free(&in);
	return rc;
}

int sockact_init(const struct config *cfg)
{
	int n = init_activation(cfg), u;

	if (n < 0)
		return -1;
	u = init_upgrade(cfg);
	return u < 0 ? -1 : n + u;
}

int sockact_upgrading(void)
{
	return upgrade_ready_fd >= 0;
}

void sockact_upgrade_ready(void)
{
	if (upgrade_ready_fd < 0)
		return;
	if (write(upgrade_ready_fd, "", 1) < 0)
		log_warn("binary upgrade: cannot tell the old process we are "
		         "ready: %s", strerror(errno));
	close(upgrade_ready_fd);
	upgrade_ready_fd = -1;
}

int sockact_take_stats(const struct addr *a)
{
	struct sockact_fd *f = &upgrade_stats;
	struct bind_cfg b = { .addr = *a };
	int fd = f->fd;

	if (fd < 0 || !bind_fits(&b, &f->bound))
		return -1;
	f->fd = -1;
	return fd;
}

void sockact_stats_done(void)
{
	if (upgrade_stats.fd >= 0)
		close(upgrade_stats.fd);
	upgrade_stats.fd = -1;
}

int sockact_take(const struct bind_cfg *b, struct sockact_fd *out)
{
	for (size_t i = 0; i < npool; i++) {
		struct sockact_fd *f = &pool[i];
		if (f->bind != b || f->taken)
			continue;
		f->taken = 1;
		*out = *f;
		return 1;
	}
	return 0;
}

void sockact_done(void)
{
	for (size_t i = 0; i < npool; i++) {
		if (!pool[i].taken)
			close(pool[i].fd);
		free(pool[i].name);
	}
	free(pool);
	pool = NULL;
	npool = 0;
}
