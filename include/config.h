/* The configuration: inih handler -> struct config, defaults, one
 * validation pass.  Errors are collected, never printed here: the caller
 * decides where they go (stderr for -t, the log on reload). */
#ifndef FRONTD_CONFIG_H
#define FRONTD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "log.h"

#define CONFIG_MAX_BINDS 16
#define CONFIG_MAX_BACKENDS 16
/* Longest line accepted, not counting the line ending; longer lines are
 * errors, never truncated. */
#define CONFIG_LINE_MAX 4096

enum mptcp_mode { MPTCP_MODE_OFF, MPTCP_MODE_ON, MPTCP_MODE_REQUIRED };
enum pp_mode { PP_MODE_OFF, PP_MODE_V1, PP_MODE_V2 };

struct bind_cfg {
	struct addr addr;
	int v6only;             /* resolved 0/1; only meaningful for IPv6 */
	int line;               /* line of the bind key */
};

struct listener_cfg {
	char *name;             /* NAME from [listener:NAME] */
	int line;               /* line of the section header */
	struct bind_cfg *binds;
	size_t nbinds;
	int v6only;             /* as configured: -1 = auto, 0, 1 */
	enum mptcp_mode mptcp;
	struct addr *backends;  /* failover order */
	size_t nbackends;
	enum pp_mode proxy_protocol;
	uint64_t connect_timeout_ms;
	uint64_t idle_timeout_ms;
	uint64_t max_connections;       /* 0 = bounded only by the global limit */
};

struct config {
	char *path;             /* file name used in messages */
	enum log_level log_level;
	char *log;              /* "stderr", "syslog" or a path */
	char *access_log;       /* NULL when off; "stderr" or a path */
	char *pidfile;          /* NULL when unset */
	uint64_t max_connections;
	uint64_t shutdown_timeout_ms;
	unsigned workers;       /* event-loop threads; 0 = one per CPU */
	int splice;             /* 1: zero-copy relay; 0: read/write */
	unsigned pipe_size;     /* splice pipe size in bytes; 0 = kernel's */
	int stats_enabled;      /* stats = ADDR given (not off) */
	struct addr stats;      /* where /metrics is served */
	char *user;             /* drop privileges to it; NULL when unset */
	char *group;            /* NULL: the user's groups */
	struct listener_cfg *listeners;
	size_t nlisteners;
};

/* Every problem found, each formatted "FILE:LINE: [section] key: reason"
 * (or "FILE: reason" when no line applies). */
struct config_errors {
	char **msg;
	size_t n;
	size_t cap;
};

/* Load and validate `path`.  Returns 0 and a config in *out, or -1 with
 * *out NULL and at least one message in errs.  Messages are appended to
 * errs, which must be zeroed or hold earlier messages; they come in line
 * order, file-level ones last.  Uses inih's global options: call from one
 * thread at a time. */
int config_load(const char *path, struct config **out,
                struct config_errors *errs);

/* Same from a string; `name` stands for the file name in messages. */
int config_load_string(const char *text, const char *name,
                       struct config **out, struct config_errors *errs);

void config_free(struct config *cfg);           /* NULL is a no-op */
void config_errors_free(struct config_errors *errs);

const char *config_mptcp_mode_name(enum mptcp_mode m);  /* "on", ... */
const char *config_pp_mode_name(enum pp_mode m);        /* "v1", ... */

#endif
