/* mptcp-frontd: options, configuration, start, signals.  Nothing else. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fleet.h"
#include "log.h"
#include "mptcp_check.h"
#include "notify.h"
#include "privdrop.h"
#include "relay.h"
#include "server.h"
#include "sockact.h"

#define EX_OK_ 0
#define EX_USAGE_ 64
#define EX_CONFIG_ 78

static const char usage_line[] =
	"usage: mptcp-frontd [-c FILE] [-t] [-f] [-l LEVEL] [--check] [-V] [-h]";

enum { OPT_CHECK = 256 };       /* long-only options */

struct options {
	const char *config_path;
	int test_only;
	int check;              /* --check: diagnose the host, no config */
	int foreground;
	int log_level;          /* -1: from the configuration */
};

static void print_help(void)
{
	printf("%s\n\n"
	       "Multipath TCP front end for nginx: accepts MPTCP connections and\n"
	       "relays them to a backend with a PROXY protocol header.\n\n"
	       "  -c, --config FILE     configuration (default %s)\n"
	       "  -t, --test            check the configuration and exit\n"
	       "  -f, --foreground      do not detach (default under systemd and\n"
	       "                        as PID 1 in a container)\n"
	       "  -l, --log-level LEVEL error, warn, info or debug\n"
	       "      --check           diagnose this host's MPTCP set-up and exit\n"
	       "                        (0: it can serve MPTCP, 1: it cannot)\n"
	       "  -V, --version         print the version and exit\n"
	       "  -h, --help            print this help and exit\n\n"
	       "See mptcp-frontd(8) and mptcp-frontd.ini(5).\n",
	       usage_line, SYSCONFDIR "/mptcp-frontd.ini");
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "mptcp-frontd: %s \"%s\"\n%s (see -h)\n", what, arg,
	        usage_line);
	return EX_USAGE_;
}

/* Returns -1 to go on, or an exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->config_path = SYSCONFDIR "/mptcp-frontd.ini";
	o->log_level = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:tfl:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config_path = optarg;
			break;
		case 't':
			o->test_only = 1;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'l':
			o->log_level = log_level_parse(optarg);
			if (o->log_level < 0)
				return usage_error("bad log level (expected error, "
				                   "warn, info or debug):", optarg);
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		case 'V':
			printf("mptcp-frontd %s\n", PACKAGE_VERSION);
			return EX_OK_;
		case 'h':
			print_help();
			return EX_OK_;
		case ':':
			return usage_error("option needs an argument:",
			                   argv[optind - 1]);
		default: {
			/* optopt names a bad short option; long ones are
			 * only in argv. */
			char shortopt[3] = { '-', (char)optopt, '\0' };
			return usage_error("unknown option",
			                   optopt ? shortopt : argv[optind - 1]);
		}
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	return -1;
}

/* Foreground by default where a supervisor expects it. */
static int supervised(void)
{
	return getenv("INVOCATION_ID") != NULL ||
	       getenv("NOTIFY_SOCKET") != NULL || getpid() == 1;
}

/* Detach.  The parent exits only when the child reports readiness (0) or
 * dies, so "mptcp-frontd && curl ..." works and start-up errors reach the
 * caller's exit status.  Returns the write end of the readiness pipe in
 * the child, or -1 on error. */
static int daemonize(void)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		log_error("pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		char status = 1;
		close(p[1]);
		while (read(p[0], &status, 1) < 0 && errno == EINTR)
			;
		_exit(status == 0 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0)
		log_warn("setsid: %s", strerror(errno));
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	return p[1];
}

struct run_state {
	int ready_fd;           /* daemonize() pipe, or -1 */
	const char *pidfile;
};

static void on_ready(void *arg)
{
	struct run_state *rs = arg;

	log_info("mptcp-frontd %s ready (pid %ld)", PACKAGE_VERSION,
	         (long)getpid());
	notify_ready();
	if (rs->ready_fd >= 0) {
		char ok = 0;
		if (write(rs->ready_fd, &ok, 1) < 0)
			log_warn("readiness pipe: %s", strerror(errno));
		close(rs->ready_fd);
		rs->ready_fd = -1;
	}
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");

	if (f == NULL) {
		log_error("pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0) {
		log_error("pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Each connection costs two descriptors: use what the hard limit allows. */
static void raise_nofile(uint64_t max_connections)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Info, not warn: the default max_connections exceeds what most
	 * hosts allow, and running out only pauses accepting. */
	if (rl.rlim_cur != RLIM_INFINITY &&
	    max_connections * 2 + 64 > rl.rlim_cur)
		log_info("max_connections = %llu needs about %llu descriptors; "
		         "the limit is %llu: accepting pauses when it runs out",
		         (unsigned long long)max_connections,
		         (unsigned long long)(max_connections * 2 + 64),
		         (unsigned long long)rl.rlim_cur);
}

static unsigned worker_count(const struct config *cfg)
{
	long n;

	if (cfg->workers > 0)
		return cfg->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

static int print_errors(const struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
	return EX_CONFIG_;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	struct server *srv = NULL;
	struct run_state rs = { -1, NULL };
	char *pidfile = NULL;
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (o.check)
		return mptcp_check_run(stdout);
	if (config_load(o.config_path, &cfg, &errs) < 0) {
		rc = print_errors(&errs);
		config_errors_free(&errs);
		return rc;
	}
	if (o.test_only) {
		printf("configuration OK\n");
		config_free(cfg);
		return EX_OK_;
	}

	log_set_level(o.log_level >= 0 ? (enum log_level)o.log_level
	                               : cfg->log_level);
	if (log_open(cfg->log) < 0) {
		fprintf(stderr, "mptcp-frontd: log %s: %s\n", cfg->log,
		        strerror(errno));
		config_free(cfg);
		return EXIT_FAILURE;
	}
	if (log_access_open(cfg->access_log) < 0) {
		log_error("access_log %s: %s", cfg->access_log, strerror(errno));
		config_free(cfg);
		rc = EXIT_FAILURE;
		goto out;
	}
	/* Writes to a vanished peer must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(cfg->max_connections);

	relay_set_splice(cfg->splice);
	relay_set_pipe_size(cfg->pipe_size);
	/* A reload may free this configuration: keep our own copy of what
	 * outlives it. */
	if (cfg->pidfile != NULL && (pidfile = strdup(cfg->pidfile)) == NULL) {
		log_error("out of memory");
		config_free(cfg);
		rc = EXIT_FAILURE;
		goto out;
	}
	/* Before binding: sockets the service manager passed replace binds;
	 * while privileged: the notify socket's path may not be ours later. */
	notify_init();
	if (sockact_init(cfg) < 0) {
		config_free(cfg);
		rc = EXIT_FAILURE;
		goto out;
	}
	srv = server_create(cfg, worker_count(cfg));   /* owns cfg now */
	sockact_done();
	if (srv == NULL) {
		rc = EXIT_FAILURE;
		goto out;
	}
	srv->config_path = o.config_path;
	srv->log_level_override = o.log_level;
	if (!o.foreground && !supervised()) {
		rs.ready_fd = daemonize();
		if (rs.ready_fd < 0) {
			rc = EXIT_FAILURE;
			goto out;
		}
	}
	if (pidfile != NULL) {
		if (write_pidfile(pidfile) < 0) {
			rc = EXIT_FAILURE;
			goto out;
		}
		rs.pidfile = pidfile;
	}
	/* The path manager announces this node's addresses (`announce`)
	 * before the first client arrives; fleet_restore() puts it back. */
	if (fleet_apply(srv->gen->cfg) < 0) {
		rc = EXIT_FAILURE;
		goto out;
	}
	/* Everything privileged is done (sockets bound, logs and pidfile
	 * open); no thread runs yet, no connection is accepted yet. */
	if (privdrop_apply(srv->gen->cfg->user, srv->gen->cfg->group,
	                   fleet_needs_net_admin(srv->gen->cfg)) < 0) {
		rc = EXIT_FAILURE;
		goto out;
	}
	rc = server_run(srv, on_ready, &rs) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	log_info("stopped");
out:
	sockact_done();
	server_free(srv);
	fleet_restore();
	/* After a privilege drop only a directory the user may write lets
	 * this succeed. */
	if (rs.pidfile != NULL && unlink(rs.pidfile) < 0 && errno != ENOENT)
		log_warn("pidfile %s: cannot remove: %s", rs.pidfile,
		         strerror(errno));
	if (rs.ready_fd >= 0)
		close(rs.ready_fd);
	notify_close();
	log_close();
	free(pidfile);
	return rc;
}
