/* mptcp-frontd: options, configuration, start, signals.  Nothing else. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buildinfo.h"
#include "config.h"
#include "detach.h"
#include "fleet.h"
#include "healthcheck.h"
#include "log.h"
#include "mptcp_check.h"
#include "notify.h"
#include "pidfile.h"
#include "preflight.h"
#include "privdrop.h"
#include "relay.h"
#include "server.h"
#include "sockact.h"
#include "tls.h"

#define EX_OK_ 0
#define EX_USAGE_ 64
#define EX_CONFIG_ 78

static const char usage_line[] =
	"usage: mptcp-frontd [-c FILE] [-t | -T] [-f] [-l LEVEL] [--check]"
	" [--health-check ADDR] [-V] [-h]";

enum { OPT_CHECK = 256, OPT_HEALTH_CHECK };      /* long-only options */

struct options {
	const char *config_path;
	int test_only;          /* -t: 1; -T: 2 (and print the configuration) */
	int check;              /* --check: diagnose the host, no config */
	const char *health_check;       /* --health-check ADDR, no config */
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
	       "  -T, --test-dump       check it and print it with every default\n"
	       "                        filled in (ini text)\n"
	       "  -f, --foreground      do not detach (default under systemd and\n"
	       "                        as PID 1 in a container)\n"
	       "  -l, --log-level LEVEL error, warn, info or debug\n"
	       "      --check           diagnose this host's MPTCP set-up and exit\n"
	       "                        (0: it can serve MPTCP, 1: it cannot)\n"
	       "      --health-check ADDR\n"
	       "                        ask a running daemon's stats address for\n"
	       "                        /metrics; exit 0 if healthy, 1 if not\n"
	       "  -V, --version         print the version, the library versions\n"
	       "                        and the configure options, and exit\n"
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
		{ "test-dump", no_argument, NULL, 'T' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "health-check", required_argument, NULL, OPT_HEALTH_CHECK },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->config_path = SYSCONFDIR "/mptcp-frontd.ini";
	o->log_level = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:tTfl:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config_path = optarg;
			break;
		case 't':
			o->test_only = 1;
			break;
		case 'T':
			o->test_only = 2;
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
		case OPT_HEALTH_CHECK:
			o->health_check = optarg;
			break;
		case 'V':
			buildinfo_print(stdout);
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

static void on_ready(void *arg)
{
	(void)arg;
	log_info("mptcp-frontd %s ready (pid %ld)", PACKAGE_VERSION,
	         (long)getpid());
	log_set_echo(0);
	notify_ready();
	sockact_upgrade_ready();
	detach_ready();
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

/* -t and -T: what start would say about this file, then the verdict
 * (naming the file) or, for -T, the configuration on stdout. */
static int test_config(const struct options *o, struct config *cfg,
                       struct preflight *pf)
{
	char warning[512];
	int rc = EX_OK_;

	log_set_level(o->log_level >= 0 ? (enum log_level)o->log_level
	                                : cfg->log_level);
	preflight_warn(pf, cfg, 0);
	config_announce(cfg);
	/* Valid, but worth a second look: still exit 0. */
	if (config_stats_exposed(cfg, warning, sizeof(warning)))
		log_warn("%s", warning);
	/* -T keeps stdout for the configuration alone. */
	fprintf(o->test_only == 2 ? stderr : stdout, "%s: configuration OK%s\n",
	        cfg->path, cfg->nfiles > 1 ? " (with the files it includes)" : "");
	if (o->test_only == 2 && config_dump(stdout, cfg) < 0) {
		fprintf(stderr, "mptcp-frontd: writing the configuration: %s\n",
		        strerror(errno));
		rc = EXIT_FAILURE;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct config_errors errs = { 0 };
	struct preflight pf = { 0 };
	struct config *cfg = NULL;
	struct server *srv = NULL;
	struct pidfile *pidfile = NULL;
	int rc, detached;

	rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (o.check)
		return mptcp_check_run(stdout);
	if (o.health_check != NULL)
		return healthcheck_run(o.health_check, HEALTHCHECK_TIMEOUT_MS,
		                       stdout, stderr);
	if (config_load(o.config_path, &cfg, &errs) < 0) {
		rc = print_errors(&errs);
		config_errors_free(&errs);
		return rc;
	}
	/* What start needs beyond the file, for -t as for start. */
	if (preflight_check(cfg, &pf) < 0) {
		rc = print_errors(&pf.errors);
		preflight_free(&pf);
		config_free(cfg);
		return rc;
	}
	if (o.test_only) {
		rc = test_config(&o, cfg, &pf);
		preflight_free(&pf);
		config_free(cfg);
		return rc;
	}

	log_set_level(o.log_level >= 0 ? (enum log_level)o.log_level
	                               : cfg->log_level);
	/* Until ready, warnings and errors reach the terminal whatever the
	 * log target. */
	log_set_echo(1);
	if (log_open(cfg->log) < 0) {
		fprintf(stderr, "mptcp-frontd: log %s: %s\n", cfg->log,
		        strerror(errno));
		preflight_free(&pf);
		config_free(cfg);
		return EXIT_FAILURE;
	}
	if (log_access_open(cfg->access_log) < 0) {
		log_error("access_log %s: %s", cfg->access_log, strerror(errno));
		config_free(cfg);
		rc = EXIT_FAILURE;
		goto out;
	}
	log_access_set_format(cfg->access_log_json ? LOG_ACCESS_JSON
	                                           : LOG_ACCESS_KV);
	/* Writes to a vanished peer must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	preflight_warn(&pf, cfg, 1);

	relay_set_splice(cfg->splice);
	relay_set_pipe_size(cfg->pipe_size);
	/* Before binding: sockets the service manager (or the old binary of
	 * an upgrade) passed replace binds; while privileged: the notify
	 * socket's path may not be ours later; before detaching: LISTEN_PID
	 * names this process. */
	notify_init();
	if (sockact_init(cfg) < 0) {
		config_free(cfg);
		rc = EXIT_FAILURE;
		goto out;
	}
	/* Detach before the pidfile and the sockets, so that both belong to
	 * the daemon from the start and its start-up errors reach the
	 * terminal through detach_start's pipe.  The new process of an
	 * upgrade is detached already if the old one was. */
	detached = !o.foreground && !supervised();
	if (detached && sockact_upgrading())
		detach_inherited();
	else if (detached && detach_start() < 0) {
		config_free(cfg);
		rc = EXIT_FAILURE;
		goto out;
	}
	/* Locked before any socket is bound: a second instance stops here. */
	if (cfg->pidfile != NULL &&
	    (pidfile = pidfile_take(cfg->pidfile)) == NULL) {
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
	srv->argv = argv;
	srv->pidfile = pidfile;
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
	rc = server_run(srv, on_ready, NULL) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	log_info("stopped");
out:
	sockact_done();
	sockact_stats_done();
	server_free(srv);
	fleet_restore();
	pidfile_release(pidfile);       /* only ours is removed */
	notify_close();
	log_close();
	preflight_free(&pf);
	return rc;
}
