/* The configuration: inih handler -> struct config, defaults, one
 * validation pass.  Errors are collected, never printed here: the caller
 * decides where they go (stderr for -t, the log on reload). */
#ifndef FRONTD_CONFIG_H
#define FRONTD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "addr.h"
#include "cidr.h"
#include "log.h"
#include "pp_build.h"
#include "tls.h"

#define CONFIG_MAX_BINDS 16
#define CONFIG_MAX_BACKENDS 16
#define CONFIG_MAX_PROXY_FROM 64 /* prefixes in accept_proxy_from */
#define CONFIG_MAX_ANNOUNCE 8    /* addresses in announce */
/* Longest line accepted, not counting the line ending; longer lines are
 * errors, never truncated. */
#define CONFIG_LINE_MAX 4096

enum mptcp_mode { MPTCP_MODE_OFF, MPTCP_MODE_ON, MPTCP_MODE_REQUIRED };

struct tls_ctx;

struct bind_cfg {
	struct addr addr;
	int v6only;             /* resolved 0/1; only meaningful for IPv6 */
	int line;               /* line of the bind key */
};

/* Lines (`line` fields) are positions in reading order: the line number
 * while no file is included, then counting on through included files. */
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
	/* A backend whose connect failed is skipped for this long (passive
	 * health, backend_health.h); 0 = never skipped. */
	uint64_t backend_retry_ms;
	uint64_t idle_timeout_ms;
	uint64_t max_connections;       /* 0 = bounded only by the global limit */
	/* Open connections per client source, 0 = no limit; a source is
	 * the address cut to source_v4_bits / source_v6_bits (with
	 * accept_proxy: the address a trusted header gives). */
	uint64_t max_per_source;
	unsigned source_v4_bits, source_v6_bits;
	unsigned pp_tlvs;               /* enum pp_tlv_bit set */
	/* accept_proxy: the first bytes of every connection must be a PROXY
	 * header from one of proxy_from; its addresses replace the peer's. */
	int accept_proxy;
	struct cidr *proxy_from;
	size_t nproxy_from;
	uint64_t accept_proxy_timeout_ms;       /* whole header within */
	struct tls_cfg tls;
	/* Built from `tls` when the file is loaded (certificates and keys
	 * read then), freed with the configuration; NULL: plain listener. */
	struct tls_ctx *tls_ctx;
};

struct config {
	char *path;             /* file name used in messages */
	char **files;           /* every file read: path, then what it included */
	size_t nfiles;
	enum log_level log_level;
	char *log;              /* "stderr", "syslog" or a path */
	char *access_log;       /* NULL when off; "stderr" or a path */
	int access_log_json;    /* access_log_format = json (else kv) */
	char *pidfile;          /* NULL when unset */
	uint64_t max_connections;
	uint64_t shutdown_timeout_ms;
	unsigned workers;       /* event-loop threads; 0 = one per CPU */
	int splice;             /* 1: zero-copy relay; 0: read/write */
	unsigned pipe_size;     /* splice pipe size in bytes; 0 = kernel's */
	int stats_enabled;      /* stats = ADDR given (not off) */
	struct addr stats;      /* where /metrics is served */
	int stats_line;         /* its line in the file, for warnings */
	char *user;             /* drop privileges to it; NULL when unset */
	char *group;            /* NULL: the user's groups */
	/* announce: this node's own unicast addresses, for the kernel path
	 * manager to announce (ADD_ADDR) behind an L4 balancer (fleet.c).
	 * Each is a whole address (prefix 32 or 128). */
	struct cidr announce[CONFIG_MAX_ANNOUNCE];
	size_t nannounce;
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

/* Write cfg as ini text with every default filled in (-T), text that
 * config_load() reads back to the same configuration.  Returns 0, or -1
 * when writing failed. */
int config_dump(FILE *out, const struct config *cfg);

void config_free(struct config *cfg);           /* NULL is a no-op */

/* /metrics has no authentication: when `stats` binds anything but a
 * loopback address, write "FILE:LINE: [global] stats: ..." (the warning
 * and how to restrict it) into buf and return 1; otherwise return 0.
 * Shown by -t and logged whenever the endpoint starts. */
int config_stats_exposed(const struct config *cfg, char *buf, size_t cap);
void config_errors_free(struct config_errors *errs);

/* Log, for every listener of cfg (at start and after each reload), what
 * its TLS context serves, and warn when its PROXY v2 header can grow past
 * PP_NGINX_OLD_MAX. */
void config_announce(const struct config *cfg);

/* The longest PROXY v2 header listener l can send (pp_build_max_len with
 * its TLV set and TLS settings). */
size_t config_pp_header_max(const struct listener_cfg *l);

const char *config_mptcp_mode_name(enum mptcp_mode m);  /* "on", ... */
const char *config_pp_mode_name(enum pp_mode m);        /* "v1", ... */

#endif
