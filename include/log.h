/* Diagnostics (levels; stderr, syslog or a file) and the access log.
 * Each line is formatted in full and written with one write(2), so lines
 * from several threads never interleave. */
#ifndef FRONTD_LOG_H
#define FRONTD_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* "error", "warn", "info", "debug" <-> enum.  Returns -1 when unknown. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level l);

/* target: "stderr", "syslog" or a file path (opened O_APPEND).
 * Returns 0, or -1 with errno set; the previous target stays in use. */
int log_open(const char *target);
void log_set_level(enum log_level l);
enum log_level log_get_level(void);

void log_msg(enum log_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Access log: NULL or "off" disables it. */
int log_access_open(const char *target);
int log_access_enabled(void);
void log_access(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What the access log's lines are (access_log_format): "TIME key=value
 * ..." (the default), or one JSON object per line whose first member is
 * "time".  Set with the target, at start and on each reload. */
enum log_access_format { LOG_ACCESS_KV, LOG_ACCESS_JSON };
void log_access_set_format(enum log_access_format f);
enum log_access_format log_access_get_format(void);

/* Write {"time":"...",FIELDS} as one line: fields are the members after
 * the time, already JSON, at most LOG_ACCESS_JSON_MAX bytes (a longer
 * line is not written: the caller leaves whole members out instead, so a
 * line is never a cut object). */
#define LOG_ACCESS_JSON_MAX 16384
void log_access_json(const char *fields, size_t len);

/* While on (start-up), warnings and errors also go to standard error as
 * "mptcp-frontd: LEVEL: message" when the log itself does not: a start
 * that fails says why on the terminal whatever `log` names. */
void log_set_echo(int on);

/* A detached daemon has no terminal: from now on a "stderr" target (log,
 * access_log, now and after reloads) means syslog.  Returns 1 when `log`
 * was stderr. */
int log_detach(void);

/* Reopen file targets (SIGUSR1, logrotate).  Returns 0 or -1. */
int log_reopen(void);
void log_close(void);

#endif
