/* The configuration file: inih splits lines into section, key and value;
 * the config module turns them into a struct config with defaults, then
 * validates the whole in one pass at the end.  Every problem becomes one
 * message "FILE:LINE: [section] key: reason"; all of them are collected,
 * sorted by line and handed to the caller, never printed.
 *
 * This file: the lifecycle (defaults, load, free) and the names of modes.
 * config_lex.c reads lines and config_section.c tracks sections;
 * config_keys.c and config_listener.c take the keys; config_validate.c
 * checks the whole; config_errors.c keeps the messages. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "config_internal.h"

#define DEFAULT_MAX_CONNECTIONS 65536
/* Measured (tests/bench, 1 GiB over MPTCP to a TCP backend): 256 KiB pipes
 * take about half the CPU per GiB of the kernel's 64 KiB and move more;
 * 1 MiB gains no more, and 64 of them parked per thread would reach an
 * unprivileged user's fs.pipe-user-pages-soft (64 MiB). */
#define DEFAULT_PIPE_SIZE (256 * 1024)
#define DEFAULT_SHUTDOWN_TIMEOUT_MS (30 * 1000)
#define DEFAULT_CONNECT_TIMEOUT_MS (5 * 1000)
/* nginx's fail_timeout default: what its users expect a dead upstream to
 * be left alone for. */
#define DEFAULT_BACKEND_RETRY_MS (10 * 1000)
#define DEFAULT_IDLE_TIMEOUT_MS (10 * 60 * 1000)
#define DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS (10 * 1000)
#define DEFAULT_ACCEPT_PROXY_TIMEOUT_MS (5 * 1000)

void config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nlisteners; i++) {
		free(cfg->listeners[i].name);
		free(cfg->listeners[i].binds);
		free(cfg->listeners[i].backends);
		free(cfg->listeners[i].proxy_from);
		cfg_tls_free(&cfg->listeners[i]);
	}
	free(cfg->listeners);
	for (i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->path);
	free(cfg->log);
	free(cfg->access_log);
	free(cfg->pidfile);
	free(cfg->user);
	free(cfg->group);
	free(cfg);
}

static struct config *config_new(const char *name)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	cfg->path = strdup(name);
	cfg->log = strdup("stderr");
	if (cfg->path == NULL || cfg->log == NULL) {
		config_free(cfg);
		return NULL;
	}
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->access_log = NULL;
	cfg->pidfile = NULL;
	cfg->max_connections = DEFAULT_MAX_CONNECTIONS;
	cfg->pipe_size = DEFAULT_PIPE_SIZE;
	cfg->shutdown_timeout_ms = DEFAULT_SHUTDOWN_TIMEOUT_MS;
	cfg->splice = 1;
	return cfg;
}

int cfg_listener_add(struct parser *p, const char *name)
{
	struct config *cfg = p->cfg;
	struct listener_cfg *l;

	if (cfg->nlisteners == p->lst_cap) {
		size_t cap = p->lst_cap ? 2 * p->lst_cap : 4;
		struct listener_cfg *nl;
		struct lstate *ns;

		nl = realloc(cfg->listeners, cap * sizeof(*nl));
		if (nl == NULL)
			return -1;
		cfg->listeners = nl;
		ns = realloc(p->lst, cap * sizeof(*ns));
		if (ns == NULL)
			return -1;
		p->lst = ns;
		p->lst_cap = cap;
	}
	l = &cfg->listeners[cfg->nlisteners];
	memset(l, 0, sizeof(*l));
	memset(&p->lst[cfg->nlisteners], 0, sizeof(p->lst[0]));
	l->name = strdup(name);
	if (l->name == NULL)
		return -1;
	l->line = p->lineno;
	l->v6only = -1;
	l->mptcp = MPTCP_MODE_ON;
	l->proxy_protocol = PP_MODE_V2;
	l->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	l->backend_retry_ms = DEFAULT_BACKEND_RETRY_MS;
	l->idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
	l->max_connections = 0;
	l->source_v4_bits = 32;
	l->source_v6_bits = 64;
	l->tls.min_version = TLS_VERSION_1_2;
	l->tls.handshake_timeout_ms = DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
	l->accept_proxy_timeout_ms = DEFAULT_ACCEPT_PROXY_TIMEOUT_MS;
	p->cur = cfg->nlisteners++;
	return 0;
}

/* inih's options are process-wide; set every one we rely on, whatever a
 * distribution's build defaults to. */
static void ini_set_options(void)
{
	static char start_comments[] = ";#";
	/* "log = /var/log/f.log   # main log": nginx and HAProxy users
	 * write '#' comments; either starts one after a blank. */
	static char inline_comments[] = ";#";

	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_start_comment_prefixes = start_comments;
	ini_allow_inline_comments = true;
	ini_inline_comment_prefixes = inline_comments;
	ini_use_stack = true;
	ini_max_line = CONFIG_LINE_MAX + 3; /* + "\r\n" and NUL */
	ini_allow_realloc = false;
	ini_stop_on_first_error = false;
	ini_allow_no_value = false;
}

/* Parse from p->fp or p->str; fills p->errs. */
static void parse_all(struct parser *p)
{
	int rc;

	ini_set_options();
	rc = ini_parse_stream(cfg_reader, p, cfg_handler, p);
	if (p->read_errno != 0)
		cfg_err_add(p, 0, NULL, NULL, "cannot read: %s",
		            strerror(p->read_errno));
	if (rc == -2)
		p->oom = true;
	else if (rc > 0 && !cfg_err_on_line(p, rc))
		cfg_err_add(p, rc, NULL, NULL, "syntax error"); /* safety net */
	if (p->read_errno == 0)
		cfg_validate(p);
}

static int finish(struct parser *p, struct config **out,
                  struct config_errors *errs)
{
	bool ok = p->nerrs == 0 && !p->oom && p->cfg != NULL;

	/* Never fail without a word (here: the config itself not allocated). */
	if (!ok && p->nerrs == 0)
		p->oom = true;
	cfg_err_flush(p, errs);
	cfg_include_free(p);
	free(p->raw);
	free(p->sec_label);
	free(p->prev_key);
	free(p->lst);
	free(p->segs);
	if (ok) {
		/* The names of every file read go with the configuration. */
		p->cfg->files = p->files;
		p->cfg->nfiles = p->nfiles;
	} else {
		for (size_t i = 0; i < p->nfiles; i++)
			free(p->files[i]);
		free(p->files);
	}
	if (!ok) {
		config_free(p->cfg);
		*out = NULL;
		return -1;
	}
	*out = p->cfg;
	return 0;
}

/* The file says which user the daemon becomes and where it connects:
 * whoever may write it may do both.  Refuse a file any user can write;
 * as root, also one that root does not own.  An included file is held to
 * the same rule, reported at its include line. */
int cfg_file_access(struct parser *p, FILE *fp, const char *name, int at)
{
	const char *key = at != 0 ? "include" : NULL;
	const char *label = at != 0 ? p->sec_label : NULL;
	const char *pre = at != 0 ? name : "";
	const char *sep = at != 0 ? ": " : "";
	struct stat st;

	if (fstat(fileno(fp), &st) < 0) {
		cfg_err_add(p, at, label, key, "%s%scannot stat: %s", pre, sep,
		            strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return 0;       /* a directory, a pipe: reading tells */
	if (st.st_mode & S_IWOTH) {
		cfg_err_add(p, at, label, key, "%s%swritable by other users "
		            "(mode %04o); fix with chmod o-w %s", pre, sep,
		            (unsigned)(st.st_mode & 07777), name);
		return -1;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		cfg_err_add(p, at, label, key, "%s%sowned by uid %ld, not root, "
		            "while running as root; fix with chown root %s", pre,
		            sep, (long)st.st_uid, name);
		return -1;
	}
	return 0;
}

int config_load(const char *path, struct config **out,
                struct config_errors *errs)
{
	struct parser p;
	struct stat st;
	int rc;

	memset(&p, 0, sizeof(p));
	p.name = path;
	if (cfg_file_add(&p, path) < 0) {
		p.oom = true;
		return finish(&p, out, errs);
	}
	p.fp = fopen(path, "re");
	if (p.fp == NULL) {
		cfg_err_add(&p, 0, NULL, NULL, "cannot open: "
		                               "%s", strerror(errno));
		return finish(&p, out, errs);
	}
	if (cfg_file_access(&p, p.fp, path, 0) < 0) {
		fclose(p.fp);
		return finish(&p, out, errs);
	}
	if (fstat(fileno(p.fp), &st) == 0) {
		p.dev = st.st_dev;
		p.ino = st.st_ino;
	}
	p.cfg = config_new(path);
	if (p.cfg != NULL)
		parse_all(&p);
	fclose(p.fp);
	rc = finish(&p, out, errs);
	return rc;
}

int config_load_string(const char *text, const char *name,
                       struct config **out, struct config_errors *errs)
{
	struct parser p;

	memset(&p, 0, sizeof(p));
	p.name = name != NULL ? name : "<string>";
	p.str = text;
	if (cfg_file_add(&p, p.name) < 0)
		p.oom = true;
	else
		p.cfg = config_new(p.name);
	if (p.cfg != NULL)
		parse_all(&p);
	return finish(&p, out, errs);
}

const char *config_mptcp_mode_name(enum mptcp_mode m)
{
	switch (m) {
	case MPTCP_MODE_OFF:
		return "off";
	case MPTCP_MODE_ON:
		return "on";
	case MPTCP_MODE_REQUIRED:
		return "required";
	}
	return "unknown";
}

const char *config_pp_mode_name(enum pp_mode m)
{
	switch (m) {
	case PP_MODE_OFF:
		return "off";
	case PP_MODE_V1:
		return "v1";
	case PP_MODE_V2:
		return "v2";
	}
	return "unknown";
}
