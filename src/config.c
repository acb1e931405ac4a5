/* The configuration file: inih splits lines into section, key and value;
 * this file turns them into a struct config with defaults, then validates
 * the whole in one pass at the end.
 *
 * inih's handler gets no line number and inih reports only the first bad
 * line, so every line goes through our own reader first.  The reader
 * counts lines, sees the raw text, tracks sections itself (with the line of
 * each header), and reports what inih would drop or truncate: over-long
 * lines, lines that are not "key = value", continuation lines, junk after
 * a section header.  Such lines reach inih as blank lines.  Every problem
 * becomes one message "FILE:LINE: [section] key: reason"; all of them are
 * collected, sorted by line and handed to the caller, never printed. */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <ini.h>

#include "addr.h"
#include "config.h"
#include "parse.h"

#define DEFAULT_MAX_CONNECTIONS 65536
#define DEFAULT_SHUTDOWN_TIMEOUT_MS (30 * 1000)
#define DEFAULT_CONNECT_TIMEOUT_MS (5 * 1000)
#define DEFAULT_IDLE_TIMEOUT_MS (10 * 60 * 1000)
#define MAX_CONNECTIONS_LIMIT 1000000
#define LISTENER_NAME_MAX 32
#define REASON_MAX 512

enum gkey {
	G_LOG_LEVEL,
	G_LOG,
	G_ACCESS_LOG,
	G_PIDFILE,
	G_MAX_CONNECTIONS,
	G_SHUTDOWN_TIMEOUT,
	G_NKEYS
};

static const char *const global_keys[G_NKEYS + 1] = {
	"log_level", "log", "access_log", "pidfile", "max_connections",
	"shutdown_timeout", NULL
};

enum lkey {
	L_BIND,
	L_V6ONLY,
	L_MPTCP,
	L_BACKEND,
	L_PROXY_PROTOCOL,
	L_CONNECT_TIMEOUT,
	L_IDLE_TIMEOUT,
	L_MAX_CONNECTIONS,
	L_NKEYS
};

static const char *const listener_keys[L_NKEYS + 1] = {
	"bind", "v6only", "mptcp", "backend", "proxy_protocol",
	"connect_timeout", "idle_timeout", "max_connections", NULL
};

enum sec_kind {
	SEC_NONE,       /* before the first header */
	SEC_GLOBAL,
	SEC_LISTENER,
	SEC_BAD,        /* unusable header, already reported: skip its keys */
};

struct pending_err {
	int line;       /* INT_MAX for file-level messages: they sort last */
	size_t seq;     /* keeps messages of one line in the order found */
	char *msg;
};

/* Per-listener parse state, parallel to cfg->listeners. */
struct lstate {
	int key_line[L_NKEYS];  /* 0 = not set yet */
};

struct parser {
	struct config *cfg;
	const char *name;       /* file name for messages */

	/* Input: a FILE or the rest of a string. */
	FILE *fp;
	const char *str;
	char *raw;              /* the current line, as read */
	size_t rawcap;
	int lineno;
	int read_errno;

	/* Current section. */
	enum sec_kind sec;
	char *sec_label;        /* "[global]", "[listener:web]" as written */
	size_t cur;             /* listener index when SEC_LISTENER */
	char *prev_key;         /* last key of this section (continuations) */
	int global_line;        /* first [global] header, 0 = none */
	int global_key_line[G_NKEYS];
	struct lstate *lst;
	size_t lst_cap;

	struct pending_err *errs;
	size_t nerrs, errs_cap;
	bool oom;
};

/* ------------------------------------------------------------------ */
/* Messages */

static void err_push(struct parser *p, int line, char *msg)
{
	struct pending_err *e;

	if (msg == NULL) {
		p->oom = true;
		return;
	}
	if (p->nerrs == p->errs_cap) {
		size_t cap = p->errs_cap ? 2 * p->errs_cap : 16;

		e = realloc(p->errs, cap * sizeof(*e));
		if (e == NULL) {
			free(msg);
			p->oom = true;
			return;
		}
		p->errs = e;
		p->errs_cap = cap;
	}
	e = &p->errs[p->nerrs];
	e->line = line;
	e->seq = p->nerrs;
	e->msg = msg;
	p->nerrs++;
}

static char *str_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* One message: "NAME: reason" when line is 0, else "NAME:LINE: " then
 * "LABEL KEY: ", "LABEL: ", "KEY: " or nothing, then the reason. */
static void err_add(struct parser *p, int line, const char *label,
                    const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void err_add(struct parser *p, int line, const char *label,
                    const char *key, const char *fmt, ...)
{
	char reason[REASON_MAX];
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);

	if (line == 0)
		msg = str_printf("%s: %s", p->name, reason);
	else if (label != NULL && key != NULL)
		msg = str_printf("%s:%d: %s %s: %s", p->name, line, label, key,
		                 reason);
	else if (label != NULL || key != NULL)
		msg = str_printf("%s:%d: %s: %s", p->name, line,
		                 label != NULL ? label : key, reason);
	else
		msg = str_printf("%s:%d: %s", p->name, line, reason);
	err_push(p, line == 0 ? INT_MAX : line, msg);
}

/* A key-level error on the line being parsed. */
#define KEY_ERR(p, key, ...) \
	err_add((p), (p)->lineno, (p)->sec_label, (key), __VA_ARGS__)

static bool err_on_line(const struct parser *p, int line)
{
	size_t i;

	for (i = 0; i < p->nerrs; i++) {
		if (p->errs[i].line == line)
			return true;
	}
	return false;
}

static int err_cmp(const void *a, const void *b)
{
	const struct pending_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hand the sorted messages to the caller's list; ownership moves. */
static void err_flush(struct parser *p, struct config_errors *errs)
{
	size_t i;

	if (p->oom)
		err_push(p, INT_MAX, str_printf("%s: out of memory", p->name));
	if (p->nerrs > 1)
		qsort(p->errs, p->nerrs, sizeof(*p->errs), err_cmp);
	for (i = 0; i < p->nerrs; i++) {
		if (errs->n == errs->cap) {
			size_t cap = errs->cap ? 2 * errs->cap : 8;
			char **m = realloc(errs->msg, cap * sizeof(*m));

			if (m == NULL)
				break;
			errs->msg = m;
			errs->cap = cap;
		}
		errs->msg[errs->n++] = p->errs[i].msg;
		p->errs[i].msg = NULL;
	}
	for (; i < p->nerrs; i++)
		free(p->errs[i].msg);
	free(p->errs);
	p->errs = NULL;
	p->nerrs = p->errs_cap = 0;
}

void config_errors_free(struct config_errors *errs)
{
	size_t i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = errs->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Sections */

static bool listener_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > LISTENER_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

static int listener_add(struct parser *p, const char *name)
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
	l->idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
	l->max_connections = 0;
	p->cur = cfg->nlisteners++;
	return 0;
}

static void unknown_section(struct parser *p, const char *name)
{
	const char *colon = strchr(name, ':');
	char prefix[64];
	size_t n = colon != NULL ? (size_t)(colon - name) : strlen(name);

	if (n >= sizeof(prefix))
		n = sizeof(prefix) - 1;
	memcpy(prefix, name, n);
	prefix[n] = '\0';
	if (parse_edit_distance(prefix, "listener") <= 2) {
		if (colon != NULL)
			err_add(p, p->lineno, p->sec_label, NULL,
			        "unknown section; did you mean [listener:%s]?",
			        colon + 1);
		else
			err_add(p, p->lineno, p->sec_label, NULL,
			        "unknown section; did you mean [listener:NAME]?");
	} else if (parse_edit_distance(name, "global") <= 2) {
		err_add(p, p->lineno, p->sec_label, NULL,
		        "unknown section; did you mean [global]?");
	} else {
		err_add(p, p->lineno, p->sec_label, NULL,
		        "unknown section; expected [global] or [listener:NAME]");
	}
}

/* A header we could not read: skip keys until the next one. */
static void section_lost(struct parser *p)
{
	free(p->sec_label);
	p->sec_label = NULL;
	free(p->prev_key);
	p->prev_key = NULL;
	p->sec = SEC_BAD;
}

/* A "[name]" header; name is trimmed and NUL-terminated. */
static void section_open(struct parser *p, const char *name)
{
	size_t i;

	free(p->prev_key);
	p->prev_key = NULL;
	free(p->sec_label);
	p->sec_label = str_printf("[%s]", name);
	if (p->sec_label == NULL) {
		p->oom = true;
		p->sec = SEC_BAD;
		return;
	}

	if (strcmp(name, "global") == 0) {
		if (p->global_line != 0)
			err_add(p, p->lineno, p->sec_label, NULL,
			        "duplicate section, first on line %d",
			        p->global_line);
		else
			p->global_line = p->lineno;
		p->sec = SEC_GLOBAL;
		return;
	}
	if (strncmp(name, "listener:", 9) != 0) {
		unknown_section(p, name);
		p->sec = SEC_BAD;
		return;
	}

	name += 9;
	if (!listener_name_ok(name))
		err_add(p, p->lineno, p->sec_label, NULL,
		        "bad listener name: use 1 to %d characters of A-Z, a-z, "
		        "0-9, '_', '.' and '-'", LISTENER_NAME_MAX);
	for (i = 0; i < p->cfg->nlisteners; i++) {
		if (strcmp(p->cfg->listeners[i].name, name) == 0) {
			err_add(p, p->lineno, p->sec_label, NULL,
			        "duplicate listener name, first defined on line %d",
			        p->cfg->listeners[i].line);
			break;
		}
	}
	/* Even a misnamed or duplicate listener gets its keys checked. */
	if (listener_add(p, name) < 0) {
		p->oom = true;
		p->sec = SEC_BAD;
		return;
	}
	p->sec = SEC_LISTENER;
}

/* ------------------------------------------------------------------ */
/* The reader: raw lines in, checked lines out to inih */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* Next raw line into p->raw (with its '\n' if any).  Returns its length,
 * or -1 at the end or on a read error (p->read_errno). */
static ssize_t next_line(struct parser *p)
{
	const char *nl;
	size_t n;

	if (p->fp != NULL) {
		ssize_t r;

		errno = 0;
		r = getline(&p->raw, &p->rawcap, p->fp);
		if (r < 0 && ferror(p->fp))
			p->read_errno = errno ? errno : EIO;
		return r;
	}
	if (p->str == NULL || *p->str == '\0')
		return -1;
	nl = strchr(p->str, '\n');
	n = nl != NULL ? (size_t)(nl - p->str) + 1 : strlen(p->str);
	if (n + 1 > p->rawcap) {
		char *r = realloc(p->raw, n + 1);

		if (r == NULL) {
			p->oom = true;
			return -1;
		}
		p->raw = r;
		p->rawcap = n + 1;
	}
	memcpy(p->raw, p->str, n);
	p->raw[n] = '\0';
	p->str += n;
	return (ssize_t)n;
}

/* Where inih's splitting stops: the first char of `stop`, or an inline
 * comment (';' after a blank), or the end. */
static const char *find_stop(const char *s, const char *stop)
{
	bool was_space = false;

	for (; *s != '\0'; s++) {
		if (stop != NULL && strchr(stop, *s) != NULL)
			return s;
		if (was_space && *s == ';')
			return s;
		was_space = is_space(*s);
	}
	return s;
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* An indented line after a key, as inih would read it with multi-line
 * values on.  We turn that off, so say so rather than misread the line:
 * "    127.0.0.1:8081" would otherwise become key "127.0.0.1". */
static bool looks_continued(const char *t)
{
	const char *sep;

	if (*t == '[') {
		const char *n = t + 1;

		while (is_space(*n))
			n++;
		return strncmp(n, "global", 6) != 0 &&
		       strncmp(n, "listener:", 9) != 0;
	}
	sep = find_stop(t, "=:");
	if (*sep != '=')
		return true;
	for (; t < sep && is_key_char(*t); t++)
		;
	while (t < sep && is_space(*t))
		t++;
	return t != sep;
}

static bool lex_section(struct parser *p, const char *t)
{
	const char *close = find_stop(t + 1, "]");
	const char *rest, *a, *b;
	char *name;

	if (*close != ']') {
		err_add(p, p->lineno, NULL, NULL,
		        "section header without closing \"]\": %s", t);
		section_lost(p);
		return false;
	}
	a = t + 1;
	b = close;
	while (a < b && is_space(*a))
		a++;
	while (b > a && is_space(b[-1]))
		b--;
	name = strndup(a, (size_t)(b - a));
	if (name == NULL) {
		p->oom = true;
		p->sec = SEC_BAD;
		return false;
	}
	section_open(p, name);
	free(name);

	for (rest = close + 1; is_space(*rest); rest++)
		;
	if (*rest != '\0' && *rest != ';')
		err_add(p, p->lineno, p->sec_label, NULL,
		        "unexpected text after \"]\"");
	return true;
}

/* Check one line (NUL-terminated, no line ending) the way inih will split
 * it.  Returns true to pass it to inih, false when it was reported. */
static bool lex_line(struct parser *p)
{
	const char *s = p->raw, *t, *sep, *k;

	if (p->lineno == 1 && (unsigned char)s[0] == 0xEF &&
	    (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
		s += 3;
	for (t = s; is_space(*t); t++)
		;
	if (*t == '\0' || *t == ';' || *t == '#')
		return true;
	if (t > s && p->prev_key != NULL && looks_continued(t)) {
		err_add(p, p->lineno, p->sec_label, p->prev_key,
		        "continuation lines are not supported; write the value "
		        "on one line");
		return false;
	}
	if (*t == '[')
		return lex_section(p, t);

	sep = find_stop(t, "=:");
	if (*sep != '=' && *sep != ':') {
		err_add(p, p->lineno, p->sec_label, NULL,
		        "expected \"key = value\", a [section] header or a "
		        "comment");
		return false;
	}
	for (k = sep; k > t && is_space(k[-1]); k--)
		;
	if (k == t) {
		err_add(p, p->lineno, p->sec_label, NULL,
		        "missing key name before \"%c\"", *sep);
		return false;
	}
	for (; t < k; t++) {
		if (is_space(*t)) {
			err_add(p, p->lineno, p->sec_label, NULL,
			        "expected \"key = value\", a [section] header or "
			        "a comment");
			return false;
		}
	}
	return true;
}

static char *blank_line(char *buf)
{
	buf[0] = '\0';
	return buf;
}

static char *cfg_reader(char *buf, int num, void *stream)
{
	struct parser *p = stream;
	ssize_t r = next_line(p);
	size_t len;

	if (r < 0)
		return NULL;
	p->lineno++;
	len = (size_t)r;
	if (len > 0 && p->raw[len - 1] == '\n')
		len--;
	if (len > 0 && p->raw[len - 1] == '\r')
		len--;

	if (memchr(p->raw, '\0', len) != NULL) {
		err_add(p, p->lineno, NULL, NULL, "line contains a NUL byte");
		return blank_line(buf);
	}
	p->raw[len] = '\0';
	if (len > CONFIG_LINE_MAX || len + 1 > (size_t)num) {
		const char *t = p->raw;

		err_add(p, p->lineno, NULL, NULL,
		        "line too long (%zu characters, at most %d)", len,
		        CONFIG_LINE_MAX);
		/* A lost section header must not pass its keys to the
		 * previous section. */
		while (is_space(*t))
			t++;
		if (*t == '[')
			section_lost(p);
		return blank_line(buf);
	}
	if (!lex_line(p))
		return blank_line(buf);
	memcpy(buf, p->raw, len + 1);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Values */

static int key_index(const char *const *keys, const char *name)
{
	int i;

	for (i = 0; keys[i] != NULL; i++) {
		if (strcmp(keys[i], name) == 0)
			return i;
	}
	return -1;
}

static void unknown_key(struct parser *p, const char *name,
                        const char *const *keys,
                        const char *const *other_keys, const char *other)
{
	const char *s;

	if (key_index(other_keys, name) >= 0) {
		KEY_ERR(p, name, "unknown key here; it belongs in %s", other);
		return;
	}
	s = parse_suggest(name, keys);
	if (s != NULL)
		KEY_ERR(p, name, "unknown key; did you mean \"%s\"?", s);
	else
		KEY_ERR(p, name, "unknown key");
}

/* "stderr" / "syslog" / "off" or an absolute path; NULL for "off". */
static int set_target(struct parser *p, const char *key, const char *value,
                      bool allow_syslog, bool allow_off, char **out)
{
	const char *keyword = NULL;

	if (strcasecmp(value, "stderr") == 0)
		keyword = "stderr";
	else if (allow_syslog && strcasecmp(value, "syslog") == 0)
		keyword = "syslog";
	else if (allow_off && strcasecmp(value, "off") == 0) {
		free(*out);
		*out = NULL;
		return 0;
	} else if (value[0] != '/') {
		KEY_ERR(p, key, "bad value \"%s\": expected %s", value,
		        allow_syslog ? "stderr, syslog or an absolute path"
		        : allow_off ? "off, stderr or an absolute path"
		                    : "stderr or an absolute path");
		return -1;
	}
	free(*out);
	*out = strdup(keyword != NULL ? keyword : value);
	if (*out == NULL)
		p->oom = true;
	return 0;
}

static void global_key(struct parser *p, const char *name, const char *value)
{
	struct config *cfg = p->cfg;
	char err[REASON_MAX];
	int k = key_index(global_keys, name);
	int lvl;

	if (k < 0) {
		unknown_key(p, name, global_keys, listener_keys,
		            "a [listener:NAME] section");
		return;
	}
	if (p->global_key_line[k] != 0) {
		KEY_ERR(p, name, "duplicate key, first set on line %d",
		        p->global_key_line[k]);
		return;
	}
	p->global_key_line[k] = p->lineno;
	if (value[0] == '\0') {
		KEY_ERR(p, name, "empty value");
		return;
	}

	switch ((enum gkey)k) {
	case G_LOG_LEVEL:
		lvl = log_level_parse(value);
		if (lvl < 0)
			KEY_ERR(p, name, "bad value \"%s\": expected error, warn, "
			        "info or debug", value);
		else
			cfg->log_level = (enum log_level)lvl;
		break;
	case G_LOG:
		set_target(p, name, value, true, false, &cfg->log);
		break;
	case G_ACCESS_LOG:
		set_target(p, name, value, false, true, &cfg->access_log);
		break;
	case G_PIDFILE:
		if (value[0] != '/') {
			KEY_ERR(p, name, "bad value \"%s\": expected an absolute "
			        "path", value);
			break;
		}
		free(cfg->pidfile);
		cfg->pidfile = strdup(value);
		if (cfg->pidfile == NULL)
			p->oom = true;
		break;
	case G_MAX_CONNECTIONS:
		if (parse_uint(value, 1, MAX_CONNECTIONS_LIMIT,
		               &cfg->max_connections, err, sizeof(err)) < 0)
			KEY_ERR(p, name, "%s", err);
		break;
	case G_SHUTDOWN_TIMEOUT:
		if (parse_duration_ms(value, &cfg->shutdown_timeout_ms, err,
		                      sizeof(err)) < 0)
			KEY_ERR(p, name, "%s", err);
		break;
	case G_NKEYS:
		break;
	}
}

/* Split a list value (copy is a copy of value, split in place); reports
 * and returns -1 when it is malformed. */
static int split_value(struct parser *p, const char *key, const char *value,
                       char *copy, char **items, int max)
{
	int n = parse_split_list(copy, items, max);
	const char *c;
	int count = 1;

	if (n >= 0)
		return n;
	for (c = value; *c != '\0'; c++)
		count += *c == ',';
	if (count > max)
		KEY_ERR(p, key, "too many addresses (at most %d)", max);
	else
		KEY_ERR(p, key, "empty item in list");
	return -1;
}

static void set_binds(struct parser *p, struct listener_cfg *l,
                      const char *key, const char *value)
{
	char *items[CONFIG_MAX_BINDS];
	char err[REASON_MAX];
	char *copy = strdup(value);
	int i, n;

	if (copy == NULL) {
		p->oom = true;
		return;
	}
	n = split_value(p, key, value, copy, items, CONFIG_MAX_BINDS);
	if (n > 0) {
		l->binds = calloc((size_t)n, sizeof(*l->binds));
		if (l->binds == NULL) {
			p->oom = true;
			n = 0;
		}
	}
	for (i = 0; i < n; i++) {
		struct bind_cfg *b = &l->binds[l->nbinds];

		if (addr_parse(items[i], ADDR_ALLOW_INET, &b->addr, err,
		               sizeof(err)) < 0) {
			KEY_ERR(p, key, "bad address \"%s\": %s", items[i], err);
			continue;
		}
		b->line = p->lineno;
		l->nbinds++;
	}
	free(copy);
}

#define ERR_TOO_MANY_RESOLVED \
	"too many addresses (at most %d) once host names are resolved"

/* Append the addresses `host` resolves to.  Returns -1 when they do not
 * all fit (reported). */
static int resolve_backend(struct parser *p, struct listener_cfg *l,
                           const char *key, const char *host, int port)
{
	struct addrinfo hints, *res = NULL, *ai;
	char service[8];
	size_t first = l->nbackends;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		KEY_ERR(p, key, "cannot resolve \"%s\": %s", host,
		        rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return 0;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct addr a;
		size_t j;
		bool dup = false;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(a.ss))
			continue;
		memset(&a, 0, sizeof(a));
		memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
		a.len = ai->ai_addrlen;
		for (j = first; j < l->nbackends; j++)
			dup = dup || addr_equal(&l->backends[j], &a);
		if (dup)
			continue;
		if (l->nbackends == CONFIG_MAX_BACKENDS) {
			KEY_ERR(p, key, ERR_TOO_MANY_RESOLVED, CONFIG_MAX_BACKENDS);
			freeaddrinfo(res);
			return -1;
		}
		l->backends[l->nbackends++] = a;
	}
	freeaddrinfo(res);
	return 0;
}

static void set_backends(struct parser *p, struct listener_cfg *l,
                         const char *key, const char *value)
{
	char *items[CONFIG_MAX_BACKENDS];
	char err[REASON_MAX], err2[REASON_MAX];
	char host[256];
	char *copy = strdup(value);
	int i, n, port;

	if (copy == NULL) {
		p->oom = true;
		return;
	}
	n = split_value(p, key, value, copy, items, CONFIG_MAX_BACKENDS);
	if (n > 0) {
		l->backends = calloc(CONFIG_MAX_BACKENDS, sizeof(*l->backends));
		if (l->backends == NULL) {
			p->oom = true;
			n = 0;
		}
	}
	for (i = 0; i < n; i++) {
		struct addr *a = &l->backends[l->nbackends];

		if (l->nbackends == CONFIG_MAX_BACKENDS) {
			KEY_ERR(p, key, ERR_TOO_MANY_RESOLVED, CONFIG_MAX_BACKENDS);
			break;
		}
		if (addr_parse(items[i], ADDR_ALLOW_INET | ADDR_ALLOW_UNIX, a,
		               err, sizeof(err)) == 0) {
			if (addr_port(a) == 0)
				KEY_ERR(p, key, "bad address \"%s\": port 0 is not "
				        "allowed for a backend", items[i]);
			else
				l->nbackends++;
			continue;
		}
		if (addr_split_hostname(items[i], host, sizeof(host), &port,
		                        err2, sizeof(err2)) < 0) {
			KEY_ERR(p, key, "bad address \"%s\": %s", items[i], err);
			continue;
		}
		if (port == 0) {
			KEY_ERR(p, key, "bad address \"%s\": port 0 is not "
			        "allowed for a backend", items[i]);
			continue;
		}
		if (resolve_backend(p, l, key, host, port) < 0)
			break;
	}
	free(copy);
}

static void listener_key(struct parser *p, const char *name,
                         const char *value)
{
	struct listener_cfg *l = &p->cfg->listeners[p->cur];
	struct lstate *st = &p->lst[p->cur];
	char err[REASON_MAX];
	int k = key_index(listener_keys, name);
	uint64_t ms;
	int b;

	if (k < 0) {
		unknown_key(p, name, listener_keys, global_keys, "[global]");
		return;
	}
	if (st->key_line[k] != 0) {
		KEY_ERR(p, name, "duplicate key, first set on line %d",
		        st->key_line[k]);
		return;
	}
	st->key_line[k] = p->lineno;
	if (value[0] == '\0') {
		KEY_ERR(p, name, "empty value");
		return;
	}

	switch ((enum lkey)k) {
	case L_BIND:
		set_binds(p, l, name, value);
		break;
	case L_V6ONLY:
		if (parse_bool(value, &b, err, sizeof(err)) < 0)
			KEY_ERR(p, name, "%s", err);
		else
			l->v6only = b;
		break;
	case L_MPTCP:
		if (strcasecmp(value, "required") == 0)
			l->mptcp = MPTCP_MODE_REQUIRED;
		else if (parse_bool(value, &b, err, sizeof(err)) == 0)
			l->mptcp = b ? MPTCP_MODE_ON : MPTCP_MODE_OFF;
		else
			KEY_ERR(p, name, "bad value \"%s\": expected on, off or "
			        "required", value);
		break;
	case L_BACKEND:
		set_backends(p, l, name, value);
		break;
	case L_PROXY_PROTOCOL:
		if (strcasecmp(value, "v1") == 0)
			l->proxy_protocol = PP_MODE_V1;
		else if (strcasecmp(value, "v2") == 0)
			l->proxy_protocol = PP_MODE_V2;
		else if (strcasecmp(value, "off") == 0)
			l->proxy_protocol = PP_MODE_OFF;
		else
			KEY_ERR(p, name, "bad value \"%s\": expected v1, v2 or "
			        "off", value);
		break;
	case L_CONNECT_TIMEOUT:
	case L_IDLE_TIMEOUT:
		if (parse_duration_ms(value, &ms, err, sizeof(err)) < 0) {
			KEY_ERR(p, name, "%s", err);
			break;
		}
		if (ms == 0) {
			KEY_ERR(p, name, "bad duration \"%s\": must be greater "
			        "than 0", value);
			break;
		}
		if (k == L_CONNECT_TIMEOUT)
			l->connect_timeout_ms = ms;
		else
			l->idle_timeout_ms = ms;
		break;
	case L_MAX_CONNECTIONS:
		if (parse_uint(value, 0, MAX_CONNECTIONS_LIMIT,
		               &l->max_connections, err, sizeof(err)) < 0)
			KEY_ERR(p, name, "%s", err);
		break;
	case L_NKEYS:
		break;
	}
}

static int cfg_handler(void *user, const char *section, const char *name,
                       const char *value)
{
	struct parser *p = user;

	(void)section; /* ours is tracked by the reader, with line numbers */
	switch (p->sec) {
	case SEC_NONE:
		err_add(p, p->lineno, NULL, name, "key outside any section; put "
		        "it under [global] or [listener:NAME]");
		break;
	case SEC_BAD:
		break;
	case SEC_GLOBAL:
		global_key(p, name, value);
		break;
	case SEC_LISTENER:
		listener_key(p, name, value);
		break;
	}
	free(p->prev_key);
	p->prev_key = strdup(name);
	if (p->prev_key == NULL)
		p->oom = true;
	return 1; /* errors are ours to collect; keep inih going */
}

/* ------------------------------------------------------------------ */
/* Validation */

static char *listener_label(const struct listener_cfg *l)
{
	return str_printf("[listener:%s]", l->name);
}

static void resolve_v6only(struct listener_cfg *l)
{
	size_t i, j;

	for (i = 0; i < l->nbinds; i++) {
		struct bind_cfg *b = &l->binds[i];

		b->v6only = 0;
		if (b->addr.ss.ss_family != AF_INET6)
			continue;
		if (l->v6only >= 0) {
			b->v6only = l->v6only;
			continue;
		}
		for (j = 0; j < l->nbinds; j++) {
			if (l->binds[j].addr.ss.ss_family == AF_INET &&
			    addr_port(&l->binds[j].addr) == addr_port(&b->addr))
				b->v6only = 1;
		}
	}
}

enum overlap { OV_NONE, OV_SAME, OV_WILDCARD, OV_DUALSTACK };

/* Would binding both fail, or (with SO_REUSEPORT) split one port's
 * traffic between two sockets? */
static enum overlap bind_overlap(const struct bind_cfg *x,
                                 const struct bind_cfg *y)
{
	int fx = x->addr.ss.ss_family, fy = y->addr.ss.ss_family;

	if (addr_port(&x->addr) != addr_port(&y->addr) ||
	    addr_port(&x->addr) == 0)
		return OV_NONE;
	if (fx == fy) {
		if (addr_equal(&x->addr, &y->addr))
			return OV_SAME;
		if (addr_is_wildcard(&x->addr) || addr_is_wildcard(&y->addr))
			return OV_WILDCARD;
		return OV_NONE;
	}
	/* One IPv4, one IPv6: only a dual-stack [::] takes IPv4 too. */
	if (fx == AF_INET6 && addr_is_wildcard(&x->addr) && !x->v6only)
		return OV_DUALSTACK;
	if (fy == AF_INET6 && addr_is_wildcard(&y->addr) && !y->v6only)
		return OV_DUALSTACK;
	return OV_NONE;
}

/* Report y, the later of two overlapping binds (xl, yl: their listeners). */
static void report_overlap(struct parser *p, enum overlap ov,
                           const struct listener_cfg *xl,
                           const struct bind_cfg *x,
                           const struct listener_cfg *yl,
                           const struct bind_cfg *y)
{
	char xs[ADDR_STRLEN], ys[ADDR_STRLEN];
	char *xlabel = listener_label(xl), *ylabel = listener_label(yl);

	if (xlabel == NULL || ylabel == NULL) {
		p->oom = true;
		goto out;
	}
	addr_format((const struct sockaddr *)&x->addr.ss, x->addr.len, xs,
	            sizeof(xs));
	addr_format((const struct sockaddr *)&y->addr.ss, y->addr.len, ys,
	            sizeof(ys));
	/* IPv6 formatting always brackets; a v4-mapped address would print
	 * as IPv4, which binds cannot hold as a wildcard, so this is exact. */
	if (xl == yl) {
		if (ov == OV_SAME)
			err_add(p, y->line, ylabel, "bind", "%s is listed twice",
			        ys);
		else if (ov == OV_WILDCARD)
			err_add(p, y->line, ylabel, "bind",
			        "%s overlaps %s in the same listener", ys, xs);
		else
			err_add(p, y->line, ylabel, "bind",
			        "%s is dual-stack (v6only = off) and overlaps %s "
			        "in the same listener; set v6only = on",
			        x->addr.ss.ss_family == AF_INET6 ? xs : ys,
			        x->addr.ss.ss_family == AF_INET6 ? ys : xs);
		goto out;
	}
	switch (ov) {
	case OV_SAME:
		err_add(p, y->line, ylabel, "bind",
		        "%s is already bound by %s on line %d", ys, xlabel,
		        x->line);
		break;
	case OV_WILDCARD:
		err_add(p, y->line, ylabel, "bind",
		        "%s overlaps %s bound by %s on line %d", ys, xs, xlabel,
		        x->line);
		break;
	case OV_DUALSTACK:
		if (y->addr.ss.ss_family == AF_INET6)
			err_add(p, y->line, ylabel, "bind",
			        "%s is dual-stack and overlaps %s bound by %s on "
			        "line %d; set v6only = on", ys, xs, xlabel,
			        x->line);
		else
			err_add(p, y->line, ylabel, "bind",
			        "%s overlaps dual-stack %s bound by %s on line %d; "
			        "set v6only = on in %s", ys, xs, xlabel, x->line,
			        xlabel);
		break;
	case OV_NONE:
		break;
	}
out:
	free(xlabel);
	free(ylabel);
}

static void check_overlaps(struct parser *p)
{
	const struct config *cfg = p->cfg;
	size_t li, bi, lj, bj;

	for (lj = 0; lj < cfg->nlisteners; lj++) {
		const struct listener_cfg *yl = &cfg->listeners[lj];

		for (bj = 0; bj < yl->nbinds; bj++) {
			const struct bind_cfg *y = &yl->binds[bj];
			bool found = false;

			/* Against every earlier bind; report the first only. */
			for (li = 0; li <= lj && !found; li++) {
				const struct listener_cfg *xl = &cfg->listeners[li];
				size_t end = li == lj ? bj : xl->nbinds;

				for (bi = 0; bi < end && !found; bi++) {
					enum overlap ov;

					ov = bind_overlap(&xl->binds[bi], y);
					if (ov == OV_NONE)
						continue;
					report_overlap(p, ov, xl, &xl->binds[bi], yl,
					               y);
					found = true;
				}
			}
		}
	}
}

static void validate(struct parser *p)
{
	struct config *cfg = p->cfg;
	size_t i, j;

	for (i = 0; i < cfg->nlisteners; i++) {
		struct listener_cfg *l = &cfg->listeners[i];
		const struct lstate *st = &p->lst[i];
		char *label = listener_label(l);
		bool any_v6 = false;

		if (label == NULL) {
			p->oom = true;
			continue;
		}
		/* A key that was present but bad is already reported. */
		if (st->key_line[L_BIND] == 0)
			err_add(p, l->line, label, NULL,
			        "missing required key \"bind\"");
		if (st->key_line[L_BACKEND] == 0)
			err_add(p, l->line, label, NULL,
			        "missing required key \"backend\"");
		resolve_v6only(l);
		for (j = 0; j < l->nbinds; j++)
			any_v6 = any_v6 || l->binds[j].addr.ss.ss_family == AF_INET6;
		if (l->v6only >= 0 && l->nbinds > 0 && !any_v6)
			err_add(p, st->key_line[L_V6ONLY], label, "v6only",
			        "has no effect: this listener binds no IPv6 "
			        "address");
		free(label);
	}
	check_overlaps(p);
	if (cfg->nlisteners == 0)
		err_add(p, 0, NULL, NULL,
		        "no [listener:NAME] section: nothing to do");
}

/* ------------------------------------------------------------------ */

void config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nlisteners; i++) {
		free(cfg->listeners[i].name);
		free(cfg->listeners[i].binds);
		free(cfg->listeners[i].backends);
	}
	free(cfg->listeners);
	free(cfg->path);
	free(cfg->log);
	free(cfg->access_log);
	free(cfg->pidfile);
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
	cfg->shutdown_timeout_ms = DEFAULT_SHUTDOWN_TIMEOUT_MS;
	cfg->splice = 1;
	return cfg;
}

/* inih's options are process-wide; set every one we rely on, whatever a
 * distribution's build defaults to. */
static void ini_set_options(void)
{
	static char start_comments[] = ";#";
	static char inline_comments[] = ";";

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
		err_add(p, 0, NULL, NULL, "cannot read: %s",
		        strerror(p->read_errno));
	if (rc == -2)
		p->oom = true;
	else if (rc > 0 && !err_on_line(p, rc))
		err_add(p, rc, NULL, NULL, "syntax error"); /* safety net */
	if (p->read_errno == 0)
		validate(p);
}

static int finish(struct parser *p, struct config **out,
                  struct config_errors *errs)
{
	bool ok = p->nerrs == 0 && !p->oom && p->cfg != NULL;

	/* Never fail without a word (here: the config itself not allocated). */
	if (!ok && p->nerrs == 0)
		p->oom = true;
	err_flush(p, errs);
	free(p->raw);
	free(p->sec_label);
	free(p->prev_key);
	free(p->lst);
	if (!ok) {
		config_free(p->cfg);
		*out = NULL;
		return -1;
	}
	*out = p->cfg;
	return 0;
}

int config_load(const char *path, struct config **out,
                struct config_errors *errs)
{
	struct parser p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.name = path;
	p.fp = fopen(path, "r");
	if (p.fp == NULL) {
		err_add(&p, 0, NULL, NULL, "cannot open: %s", strerror(errno));
		return finish(&p, out, errs);
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
