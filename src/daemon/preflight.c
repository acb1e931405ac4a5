/* The start-up checks of preflight.h.  Access is asked of the kernel
 * (eaccess) while the effective IDs are `user`'s (privdrop_as_user), not
 * worked out from modes and owners: that way supplementary groups, ACLs
 * and read-only mounts count exactly as they will for the daemon. */
#include <errno.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "preflight.h"
#include "privdrop.h"

struct run {
	const struct config *cfg;
	struct preflight *pf;
	char who[64];           /* "user nobody", for messages */
};

static void push(struct config_errors *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void push(struct config_errors *l, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg = NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		char **m = realloc(l->msg, cap * sizeof(*m));

		if (m == NULL) {
			free(msg);
			return;
		}
		l->msg = m;
		l->cap = cap;
	}
	/* Out of memory: still fail, with a word. */
	l->msg[l->n++] = msg != NULL ? msg : strdup("out of memory");
}

/* The files the daemon writes: key name and path (NULL: not a file). */
static const char *target_path(const char *t)
{
	return t != NULL && t[0] == '/' ? t : NULL;
}

#define NTARGETS 3

static void targets(const struct config *cfg, const char **key,
                    const char **path)
{
	key[0] = "log";
	path[0] = target_path(cfg->log);
	key[1] = "access_log";
	path[1] = target_path(cfg->access_log);
	key[2] = "pidfile";
	path[2] = cfg->pidfile;
}

/* As root: each file's directory exists. */
static void check_dirs(struct run *r)
{
	const char *key[NTARGETS], *path[NTARGETS];
	struct stat st;

	targets(r->cfg, key, path);
	for (int i = 0; i < NTARGETS; i++) {
		char *copy = path[i] ? strdup(path[i]) : NULL;
		const char *dir = copy ? dirname(copy) : NULL;

		if (dir != NULL && stat(dir, &st) < 0)
			push(&r->pf->errors, "%s: [global] %s: directory %s: %s",
			     r->cfg->path, key[i], dir, strerror(errno));
		else if (dir != NULL && !S_ISDIR(st.st_mode))
			push(&r->pf->errors, "%s: [global] %s: %s is not a "
			     "directory", r->cfg->path, key[i], dir);
		free(copy);
	}
}

static int as_user(void *arg)
{
	static const char *const why[NTARGETS] = {
		"after logrotate, SIGUSR1 reopens the log there",
		"after logrotate, SIGUSR1 reopens the log there",
		"the pidfile is removed there at exit",
	};
	struct run *r = arg;
	const struct config *cfg = r->cfg;
	const char *key[NTARGETS], *path[NTARGETS];

	targets(cfg, key, path);
	for (int i = 0; i < NTARGETS; i++) {
		char *copy = path[i] ? strdup(path[i]) : NULL;
		const char *dir = copy ? dirname(copy) : NULL;

		if (dir != NULL && eaccess(dir, F_OK) == 0 &&
		    eaccess(dir, W_OK | X_OK) < 0)
			push(&r->pf->errors, "%s: [global] %s: directory %s is "
			     "not writable by %s (%s; %s)", cfg->path, key[i],
			     dir, r->who, strerror(errno), why[i]);
		else if (dir != NULL && i < 2 && eaccess(path[i], F_OK) == 0 &&
		         eaccess(path[i], W_OK) < 0)
			push(&r->pf->warnings, "[global] %s: %s is not writable "
			     "by %s (%s): SIGUSR1 cannot reopen it until "
			     "logrotate replaces it", key[i], path[i], r->who,
			     strerror(errno));
		free(copy);
	}
	for (size_t i = 0; i < cfg->nfiles; i++)
		if (eaccess(cfg->files[i], R_OK) < 0)
			push(&r->pf->errors, "%s: cannot be read by %s (%s): "
			     "every reload (SIGHUP) would fail", cfg->files[i],
			     r->who, strerror(errno));
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_cfg *l = &cfg->listeners[i];
		const struct tls_cfg *t = &l->tls;
		const char *files[2 * TLS_MAX_CERTS + 1];
		size_t n = 0;

		for (size_t j = 0; j < t->ncerts; j++)
			files[n++] = t->certs[j];
		for (size_t j = 0; j < t->nkeys; j++)
			files[n++] = t->keys[j];
		if (t->client_ca != NULL)
			files[n++] = t->client_ca;
		for (size_t j = 0; j < n; j++)
			if (eaccess(files[j], R_OK) < 0)
				push(&r->pf->errors, "%s: [listener:%s]: %s cannot "
				     "be read by %s (%s): every reload (SIGHUP) "
				     "would fail", cfg->path, l->name, files[j],
				     r->who, strerror(errno));
	}
	return 0;
}

int preflight_check(const struct config *cfg, struct preflight *pf)
{
	struct run r = { cfg, pf, "" };
	struct passwd *pw;

	check_dirs(&r);
	if (cfg->user == NULL) {
		pw = getpwuid(geteuid());
		snprintf(r.who, sizeof(r.who), "user %s", pw ? pw->pw_name : "?");
		as_user(&r);
	} else if (geteuid() == 0) {
		snprintf(r.who, sizeof(r.who), "user %s", cfg->user);
		if (privdrop_as_user(cfg->user, cfg->group, as_user, &r) < 0)
			push(&pf->errors, "%s: [global] user: cannot check "
			     "access as %s", cfg->path, cfg->user);
	} else if ((pw = getpwnam(cfg->user)) != NULL &&
	           pw->pw_uid == geteuid()) {
		snprintf(r.who, sizeof(r.who), "user %s", cfg->user);
		as_user(&r);
	} else {
		push(&pf->warnings, "[global] user: not running as root: file "
		     "access as user %s is not checked", cfg->user);
	}
	return pf->errors.n == 0 ? 0 : -1;
}

/* Each connection costs two descriptors. */
static void check_nofile(uint64_t max_connections, int raise)
{
	struct rlimit rl;
	rlim_t have;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (raise && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	have = rl.rlim_max;     /* what start raises the soft limit to */
	/* Info, not warn: the default max_connections exceeds what most
	 * hosts allow, and running out only pauses accepting. */
	if (have != RLIM_INFINITY && max_connections * 2 + 64 > have)
		log_info("max_connections = %llu needs about %llu descriptors; "
		         "the limit is %llu: accepting pauses when it runs out",
		         (unsigned long long)max_connections,
		         (unsigned long long)(max_connections * 2 + 64),
		         (unsigned long long)have);
}

static void check_unix_backends(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_cfg *l = &cfg->listeners[i];

		for (size_t j = 0; j < l->nbackends; j++) {
			const struct sockaddr_un *sun =
				(const struct sockaddr_un *)&l->backends[j].ss;
			struct stat st;

			if (sun->sun_family != AF_UNIX)
				continue;
			if (stat(sun->sun_path, &st) < 0)
				log_warn("listener %s: backend unix:%s: %s: "
				         "connections to it fail until it exists",
				         l->name, sun->sun_path, strerror(errno));
			else if (!S_ISSOCK(st.st_mode))
				log_warn("listener %s: backend unix:%s is not a "
				         "socket", l->name, sun->sun_path);
		}
	}
}

void preflight_warn(struct preflight *pf, const struct config *cfg,
                    int raise)
{
	for (size_t i = 0; i < pf->warnings.n; i++)
		log_warn("%s", pf->warnings.msg[i]);
	if (geteuid() == 0 && cfg->user == NULL)
		log_warn("running as root with no user in [global]: the daemon "
		         "keeps every privilege (set user, see "
		         "mptcp-frontd.ini(5))");
	check_nofile(cfg->max_connections, raise);
	check_unix_backends(cfg);
}

void preflight_free(struct preflight *pf)
{
	config_errors_free(&pf->errors);
	config_errors_free(&pf->warnings);
}
