/* Diagnostics and access log.  Lines are formatted whole into a stack
 * buffer and written with a single write(2) on an O_APPEND descriptor, so
 * concurrent writers never interleave within a line.  Worker threads
 * write while the main thread may switch targets (reload) or reopen them
 * (SIGUSR1): writers share a read lock, changes take it exclusively. */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 2048

enum sink_kind { SINK_NONE, SINK_STDERR, SINK_SYSLOG, SINK_FILE };

struct sink {
	enum sink_kind kind;
	int fd;                 /* SINK_FILE only */
	char *path;             /* SINK_FILE only; kept for reopen */
};

static struct sink diag = { SINK_STDERR, -1, NULL };
static struct sink access_sink = { SINK_NONE, -1, NULL };
static _Atomic int access_json;  /* log_access_set_format() */
static _Atomic int cur_level = LOG_LEVEL_INFO;
static _Atomic int echo_stderr;  /* log_set_echo() */
static int detached;            /* log_detach(); under sinks_lock */
static pthread_rwlock_t sinks_lock = PTHREAD_RWLOCK_INITIALIZER;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *log_level_name(enum log_level l)
{
	if ((unsigned)l < sizeof(level_names) / sizeof(level_names[0]))
		return level_names[l];
	return "?";
}

void log_set_level(enum log_level l) { atomic_store(&cur_level, (int)l); }
enum log_level log_get_level(void) { return (enum log_level)atomic_load(&cur_level); }

static int open_append(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/* Point `s` at `target`; on failure `s` is left unchanged. */
static int sink_open(struct sink *s, const char *target)
{
	struct sink n = { SINK_NONE, -1, NULL };

	if (target == NULL || strcmp(target, "off") == 0) {
		n.kind = SINK_NONE;
	} else if (strcmp(target, "stderr") == 0 && !detached) {
		n.kind = SINK_STDERR;
	} else if (strcmp(target, "syslog") == 0 ||
	           strcmp(target, "stderr") == 0) {
		n.kind = SINK_SYSLOG;
		openlog("mptcp-frontd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	} else {
		n.kind = SINK_FILE;
		n.fd = open_append(target);
		if (n.fd < 0)
			return -1;
		n.path = strdup(target);
		if (n.path == NULL) {
			close(n.fd);
			errno = ENOMEM;
			return -1;
		}
	}
	pthread_rwlock_wrlock(&sinks_lock);
	if (s->kind == SINK_FILE) {
		close(s->fd);
		free(s->path);
	}
	*s = n;
	pthread_rwlock_unlock(&sinks_lock);
	return 0;
}

static int sink_reopen(struct sink *s)
{
	int fd;

	if (s->kind != SINK_FILE)
		return 0;
	fd = open_append(s->path);
	if (fd < 0)
		return -1;
	/* dup2 keeps the descriptor number, so a writer racing with the
	 * reopen writes to either the old or the new file, never to a
	 * closed or reused descriptor. */
	if (dup2(fd, s->fd) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

static void sink_close(struct sink *s)
{
	pthread_rwlock_wrlock(&sinks_lock);
	if (s->kind == SINK_FILE) {
		close(s->fd);
		free(s->path);
	}
	s->kind = SINK_NONE;
	s->fd = -1;
	s->path = NULL;
	pthread_rwlock_unlock(&sinks_lock);
}

/* "2026-11-25T10:31:00.123Z " */
static size_t format_time(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, cap - n, ".%03ldZ ",
	                      ts.tv_nsec / 1000000);
	return n;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;         /* nowhere left to report it */
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Append a newline and write the line to `s`; line has room for one
 * more byte. */
static void sink_put(const struct sink *s, char *line, size_t len,
                     size_t msg_off, int prio)
{
	pthread_rwlock_rdlock(&sinks_lock);
	switch (s->kind) {
	case SINK_NONE:
		break;
	case SINK_SYSLOG:
		line[len] = '\0';
		syslog(prio, "%s", line + msg_off);
		break;
	case SINK_STDERR:
	case SINK_FILE:
		line[len] = '\n';
		write_all(s->kind == SINK_FILE ? s->fd : STDERR_FILENO, line,
		          len + 1);
		break;
	}
	pthread_rwlock_unlock(&sinks_lock);
}

/* sink_put, truncating to LOG_LINE_MAX. */
static void sink_write(const struct sink *s, char *line, size_t len,
                       size_t msg_off, int prio)
{
	if (len > LOG_LINE_MAX - 2)
		len = LOG_LINE_MAX - 2;
	sink_put(s, line, len, msg_off, prio);
}

static size_t vformat(char *buf, size_t off, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf + off, LOG_LINE_MAX - off, fmt, ap);

	if (n < 0)
		return off;
	off += (size_t)n;
	return off < LOG_LINE_MAX ? off : LOG_LINE_MAX - 1;
}

/* "mptcp-frontd: LEVEL: message" on standard error, unless the log
 * already goes there. */
static void echo_line(const char *level_and_msg, size_t len)
{
	char buf[LOG_LINE_MAX + 16];
	int n;

	pthread_rwlock_rdlock(&sinks_lock);
	if (diag.kind != SINK_STDERR) {
		n = snprintf(buf, sizeof(buf), "mptcp-frontd: %.*s\n", (int)len,
		             level_and_msg);
		if (n > 0)
			write_all(STDERR_FILENO, buf,
			          (size_t)n < sizeof(buf) ? (size_t)n
			                                  : sizeof(buf) - 1);
	}
	pthread_rwlock_unlock(&sinks_lock);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[LOG_LINE_MAX];
	size_t off, msg_off, level_off;
	va_list ap;

	if ((int)l > atomic_load_explicit(&cur_level, memory_order_relaxed))
		return;
	off = level_off = format_time(line, sizeof(line));
	off += (size_t)snprintf(line + off, sizeof(line) - off, "%s: ",
	                        log_level_name(l));
	/* syslog adds its own time stamp: hand it the bare message. */
	msg_off = off;
	va_start(ap, fmt);
	off = vformat(line, off, fmt, ap);
	va_end(ap);
	if (l <= LOG_LEVEL_WARN && atomic_load(&echo_stderr))
		echo_line(line + level_off, off - level_off);
	sink_write(&diag, line, off, msg_off, prio[l]);
}

void log_set_echo(int on)
{
	atomic_store(&echo_stderr, on);
}

int log_detach(void)
{
	struct sink *sinks[] = { &diag, &access_sink };
	int was_stderr = diag.kind == SINK_STDERR;

	pthread_rwlock_wrlock(&sinks_lock);
	detached = 1;
	for (size_t i = 0; i < sizeof(sinks) / sizeof(sinks[0]); i++)
		if (sinks[i]->kind == SINK_STDERR) {
			openlog("mptcp-frontd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
			sinks[i]->kind = SINK_SYSLOG;
		}
	pthread_rwlock_unlock(&sinks_lock);
	return was_stderr;
}

int log_open(const char *target)
{
	return sink_open(&diag, target);
}

int log_access_open(const char *target)
{
	return sink_open(&access_sink, target);
}

int log_access_enabled(void)
{
	/* A racy peek is fine: it only saves formatting a line. */
	return __atomic_load_n(&access_sink.kind, __ATOMIC_RELAXED) != SINK_NONE;
}

void log_access(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t off, msg_off;
	va_list ap;

	off = format_time(line, sizeof(line));
	msg_off = off;
	va_start(ap, fmt);
	off = vformat(line, off, fmt, ap);
	va_end(ap);
	sink_write(&access_sink, line, off, msg_off, LOG_INFO);
}

void log_access_set_format(enum log_access_format f)
{
	atomic_store(&access_json, f == LOG_ACCESS_JSON);
}

enum log_access_format log_access_get_format(void)
{
	return atomic_load_explicit(&access_json, memory_order_relaxed)
	       ? LOG_ACCESS_JSON : LOG_ACCESS_KV;
}

void log_access_json(const char *fields, size_t len)
{
	char line[LOG_ACCESS_JSON_MAX + 64];
	size_t off;

	if (len > LOG_ACCESS_JSON_MAX)
		return;         /* the caller bounds it: never a cut object */
	/* The same time as the key=value line's, without its space. */
	off = (size_t)snprintf(line, sizeof(line), "{\"time\":\"");
	off += format_time(line + off, sizeof(line) - off) - 1;
	off += (size_t)snprintf(line + off, sizeof(line) - off, "\"%s",
	                        len > 0 ? "," : "");
	memcpy(line + off, fields, len);
	off += len;
	line[off++] = '}';
	sink_put(&access_sink, line, off, 0, LOG_INFO);
}

int log_reopen(void)
{
	int rc = 0;

	if (sink_reopen(&diag) < 0)
		rc = -1;
	if (sink_reopen(&access_sink) < 0)
		rc = -1;
	return rc;
}

void log_close(void)
{
	sink_close(&access_sink);
	sink_close(&diag);
	diag.kind = SINK_STDERR;
}
