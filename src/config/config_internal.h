/* Private to the configuration module (src/config*.c); include/config.h
 * is its public face.
 *
 * One struct parser lives for one load.  The reader (config_lex.c) owns
 * the input and, with config_section.c, the current section; the key
 * handlers (config_keys.c, config_listener.c, config_tls.c) fill p->cfg; the validation pass (config_validate.c)
 * checks the whole; every problem goes through config_errors.c into
 * p->errs and, at the end, to the caller (config.c). */
#ifndef FRONTD_CONFIG_INTERNAL_H
#define FRONTD_CONFIG_INTERNAL_H

#include <glob.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"

#define MAX_CONNECTIONS_LIMIT 1000000
#define BACKEND_RETRY_MIN_MS 100        /* "100ms" in messages */
#define BACKEND_RETRY_MAX_MS (60 * 60 * 1000)   /* "1h" */
#define WORKERS_MAX 64
#define PIPE_SIZE_MIN 4096              /* "4k" in messages */
#define PIPE_SIZE_MAX (1024 * 1024)     /* "1m": fs.pipe-max-size's default */
#define LISTENER_NAME_MAX 32
#define REASON_MAX 512
#define INCLUDE_DEPTH_MAX 8     /* include inside include inside ... */
#define INCLUDE_FILES_MAX 256   /* files read in one load, the main one too */

enum gkey {
	G_LOG_LEVEL,
	G_LOG,
	G_ACCESS_LOG,
	G_ACCESS_LOG_FORMAT,
	G_PIDFILE,
	G_MAX_CONNECTIONS,
	G_SHUTDOWN_TIMEOUT,
	G_WORKERS,
	G_SPLICE,
	G_PIPE_SIZE,
	G_STATS,
	G_USER,
	G_GROUP,
	G_ANNOUNCE,
	G_NKEYS
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
	L_PROXY_PROTOCOL_TLVS,
	L_TLS_CERT,
	L_TLS_KEY,
	L_TLS_MIN_VERSION,
	L_TLS_CIPHERS,
	L_TLS_CIPHERSUITES,
	L_TLS_ALPN,
	L_TLS_VERIFY,
	L_TLS_CLIENT_CA,
	L_TLS_HANDSHAKE_TIMEOUT,
	L_ACCEPT_PROXY,
	L_ACCEPT_PROXY_FROM,
	L_ACCEPT_PROXY_TIMEOUT,
	L_BACKEND_RETRY,
	L_MAX_PER_SOURCE,
	L_SOURCE_PREFIX,
	L_NKEYS
};

/* Key names by enum value, NULL-terminated (config_keys.c). */
extern const char *const cfg_global_keys[G_NKEYS + 1];
extern const char *const cfg_listener_keys[L_NKEYS + 1];

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

/* The section a line belongs to: the reader's, saved by an include line
 * and given back to each file it includes and to the lines after it. */
struct sec_state {
	enum sec_kind sec;
	char *sec_label;        /* "[global]", "[listener:web]" as written */
	size_t cur;             /* listener index when SEC_LISTENER */
	char *prev_key;         /* last key of this section (continuations) */
};

/* One include line being read (config_include.c): its sorted matches,
 * read one after the other, each from the section of the include line. */
struct include_frame {
	glob_t matches;
	size_t next;            /* next match to open */
	FILE *fp;               /* the match being read, or NULL */
	int file;               /* its index in parser.files */
	int lineno;             /* its line */
	dev_t dev;              /* its identity, for cycles */
	ino_t ino;
	int at;                 /* position of the include line */
	struct sec_state saved;
};

/* Positions: every line read gets the next position (p->lineno), across
 * files in reading order, so that messages sort in that order.  A run of
 * consecutive lines of one file is one segment. */
struct pos_seg {
	int pos;                /* first position of the run */
	int file;               /* index in parser.files */
	int line;               /* line of that file at `pos` */
};

/* Per-listener parse state, parallel to cfg->listeners. */
struct lstate {
	int key_line[L_NKEYS];  /* 0 = not set yet */
};

struct parser {
	struct config *cfg;
	const char *name;       /* file name for messages */

	/* Input: a FILE or the rest of a string, then what it includes. */
	FILE *fp;
	const char *str;
	dev_t dev;              /* of fp, for include cycles */
	ino_t ino;
	int main_line;          /* line of the main input */
	struct include_frame frames[INCLUDE_DEPTH_MAX];
	int depth;              /* frames in use */
	char *raw;              /* the current line, as read */
	size_t rawcap;
	int lineno;             /* position of the current line (see pos_seg) */
	int cur_file;           /* file and line of the current line */
	int cur_line;
	int read_errno;

	/* Every file read, the main one first (names for messages). */
	char **files;
	size_t nfiles, files_cap;
	struct pos_seg *segs;
	size_t nsegs, segs_cap;

	/* The value of the current key could not be expanded (reported):
	 * the key counts as set, its value is not used. */
	bool value_failed;

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

/* config_errors.c */

/* A formatted string in new memory, or NULL when out of memory. */
char *cfg_str_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* One message: "NAME: reason" when line is 0, else "FILE:LINE: " (the
 * file and line of that position) then "LABEL KEY: ", "LABEL: ", "KEY: "
 * or nothing, then the reason. */
void cfg_err_add(struct parser *p, int line, const char *label,
                 const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A key-level error on the line being parsed. */
#define KEY_ERR(p, key, ...) \
	cfg_err_add((p), (p)->lineno, (p)->sec_label, (key), __VA_ARGS__)

bool cfg_err_on_line(const struct parser *p, int line);

/* Hand the sorted messages to the caller's list; ownership moves. */
void cfg_err_flush(struct parser *p, struct config_errors *errs);

/* config.c: a new listener with its defaults, made current.  Returns -1
 * when out of memory. */
int cfg_listener_add(struct parser *p, const char *name);

/* config_lex.c: inih's reader over p->fp or p->str and the files they
 * include (stream is p). */
char *cfg_reader(char *buf, int num, void *stream);

/* config_include.c: the file names and positions. */
int cfg_file_add(struct parser *p, const char *name);   /* index or -1 */
void cfg_pos_note(struct parser *p);    /* p->lineno is cur_file:cur_line */
void cfg_pos_locate(const struct parser *p, int pos, const char **file,
                    int *line);
/* Where position `pos` is, as seen from a message at position `here`:
 * "line N" in the same file, else "FILE:N".  Returns buf. */
const char *cfg_where(const struct parser *p, int pos, int here, char *buf,
                      size_t len);

/* config_include.c: an "include = PATTERN" line (value expanded).  Its
 * files are read by cfg_include_read, from the next line on. */
void cfg_include(struct parser *p, const char *pattern);
/* The next line of the innermost included file into p->raw (opening the
 * next match, or closing the include when it has none left).  Returns
 * its length, or -1 when no include is being read. */
ssize_t cfg_include_read(struct parser *p);
void cfg_include_free(struct parser *p);        /* closes what is open */

/* config.c: refuse a file that other users may write (see there).
 * Reported at position `at` (0: file-level).  Returns 0 or -1. */
int cfg_file_access(struct parser *p, FILE *fp, const char *name, int at);

/* config_expand.c: ${NAME} and ${NAME:-default} in a value.  Returns the
 * expanded value in new memory, or NULL after reporting the error at the
 * current line (or setting p->oom). */
char *cfg_expand(struct parser *p, const char *key, const char *value);

/* config_tls.c: the TLV set's names, "mptcp, alpn" or "none". */
const char *cfg_tlv_text(unsigned set, char *buf, size_t len);

/* config_section.c: a "[name]" header (name trimmed) opens a section; a
 * header that could not be read loses it, so that its keys are skipped
 * rather than given to the section before. */
void cfg_section_open(struct parser *p, const char *name);
void cfg_section_lost(struct parser *p);

/* config_keys.c: inih's handler (user is p). */
int cfg_handler(void *user, const char *section, const char *name,
                const char *value);

/* Look up `name` in `keys` and claim it for this line: an unknown key
 * (`other_keys`: those of the other kind of section, named `other`), a
 * repeat (key_line[k] != 0) or an empty value is reported.  Returns the
 * key's index, or -1 when the line is done with. */
int cfg_key_claim(struct parser *p, const char *name, const char *value,
                  const char *const *keys, int *key_line,
                  const char *const *other_keys, const char *other);

/* config_keys.c: a boolean key's value into *out, or its error. */
void cfg_set_bool(struct parser *p, const char *key, const char *value,
                  int *out);

/* config_listener.c: split a list value into items pointing into *copy,
 * a copy of value that the caller frees.  Returns the item count, or 0
 * when the list is malformed (reported as "too many WHAT" or an empty
 * item) or memory ran out. */
int cfg_split_value(struct parser *p, const char *key, const char *value,
                    char **copy, char **items, int max, const char *what);

/* config_listener.c: one key of the current [listener:NAME]. */
void cfg_listener_key(struct parser *p, const char *name, const char *value);

/* config_tls.c: the keys proxy_protocol_tlvs and tls_* of the current
 * listener (k is their enum lkey). */
void cfg_tls_key(struct parser *p, struct listener_cfg *l, int k,
                 const char *name, const char *value);

/* config_tls.c: listener i's TLS settings as a whole: which keys need
 * which, the TLV set's default, and the certificates, keys and lists
 * actually loaded into a TLS context (l->tls_ctx). */
void cfg_tls_validate(struct parser *p, size_t i, const char *label);

/* config_tls.c: what a listener's TLS settings own. */
void cfg_tls_free(struct listener_cfg *l);

/* config_validate.c: the checks that need the whole file. */
void cfg_validate(struct parser *p);

#endif
