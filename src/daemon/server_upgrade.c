/* Binary upgrade, the old process's side (see server.h).  Runs on the main
 * thread only: the signal events are on worker 0's loop. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "pidfile.h"
#include "server.h"
#include "sockact.h"
#include "stats_http.h"

extern char **environ;

struct upgrade {
	struct server *srv;
	char exe[PATH_MAX];
	struct event *sig_usr2, *sig_chld, *ready_ev;
	pid_t child;            /* the new binary, while it runs */
	int ready_fd;           /* read end of its readiness pipe, or -1 */
	int child_ready;
	char *pidfile_was;      /* FILE while ours is FILE.oldbin */
};

/* What the child needs, all built before fork(): after it, only
 * async-signal-safe calls (fcntl, execve, write, _exit). */
struct plan {
	char *var;              /* SOCKACT_INHERIT_ENV=... */
	char **envp;
	int *fds;               /* to keep across exec */
	size_t nfds;
	size_t nsocks;          /* listening sockets among them */
};

static void plan_free(struct plan *p)
{
	free(p->var);
	free(p->envp);
	free(p->fds);
}

static int plan_fd(struct plan *p, int fd)
{
	p->fds[p->nfds++] = fd;
	return fd;
}

/* Every worker's copy of every listening socket, worker 0's first. */
static int plan_build(struct upgrade *up, struct plan *p, int ready_wr)
{
	struct server *srv = up->srv;
	size_t cap = 2, nenv = 0, len = 0;
	FILE *out;
	int stats_fd = stats_http_fd(srv->stats_http);

	memset(p, 0, sizeof(*p));
	for (unsigned w = 0; w < srv->pool.nworkers; w++)
		for (size_t i = 0; i < srv->latest[w]->gen->cfg->nlisteners; i++)
			cap += srv->latest[w]->listeners[i].nsocks;
	p->fds = calloc(cap, sizeof(*p->fds));
	out = open_memstream(&p->var, &len);
	if (p->fds == NULL || out == NULL) {
		if (out != NULL)
			fclose(out);
		return -1;
	}
	fprintf(out, "%s=pid=%ld ready=%d", SOCKACT_INHERIT_ENV,
	        (long)getpid(), plan_fd(p, ready_wr));
	if (stats_fd >= 0)
		fprintf(out, " stats=%d", plan_fd(p, stats_fd));
	for (unsigned w = 0; w < srv->pool.nworkers; w++) {
		struct listener_set *set = srv->latest[w];
		for (size_t i = 0; i < set->gen->cfg->nlisteners; i++) {
			struct listener *l = &set->listeners[i];
			for (size_t j = 0; j < l->nsocks; j++)
				if (l->socks[j].fd >= 0 && !l->socks[j].moved &&
				    p->nsocks < SOCKACT_MAX_FDS) {
					fprintf(out, " sock=%d:%s:%zu",
					        plan_fd(p, l->socks[j].fd),
					        l->cfg->name, j);
					p->nsocks++;
				}
		}
	}
	if (ferror(out) | fclose(out))
		return -1;
	while (environ[nenv] != NULL)
		nenv++;
	p->envp = calloc(nenv + 2, sizeof(*p->envp));
	if (p->envp == NULL)
		return -1;
	nenv = 0;
	for (char **e = environ; *e != NULL; e++)
		if (strncmp(*e, SOCKACT_INHERIT_ENV "=",
		            sizeof(SOCKACT_INHERIT_ENV)) != 0)
			p->envp[nenv++] = *e;
	p->envp[nenv] = p->var;
	return 0;
}

static void describe_status(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exit status %d%s", WEXITSTATUS(st),
		         WEXITSTATUS(st) == 127 ? ": could not be executed" : "");
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, len, "status 0x%x", (unsigned)st);
}

static void close_ready(struct upgrade *up)
{
	if (up->ready_ev != NULL)
		event_free(up->ready_ev);
	up->ready_ev = NULL;
	if (up->ready_fd >= 0)
		close(up->ready_fd);
	up->ready_fd = -1;
}

static void restore_pidfile(struct upgrade *up)
{
	if (up->pidfile_was == NULL)
		return;
	if (pidfile_rename(up->srv->pidfile, up->pidfile_was) == 0)
		log_info("binary upgrade: pidfile %s restored", up->pidfile_was);
	free(up->pidfile_was);
	up->pidfile_was = NULL;
}

static void child_exited(struct upgrade *up, int st)
{
	char why[96];

	describe_status(st, why, sizeof(why));
	if (up->child_ready)
		log_warn("binary upgrade: new process %ld exited (%s)",
		         (long)up->child, why);
	else
		log_error("binary upgrade failed: new process %ld exited before "
		          "it was ready (%s); this process (pid %ld) keeps "
		          "serving", (long)up->child, why, (long)getpid());
	up->child = 0;
	up->child_ready = 0;
	close_ready(up);
	restore_pidfile(up);
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct upgrade *up = arg;
	int st;

	if (up->child > 0 && waitpid(up->child, &st, WNOHANG) == up->child)
		child_exited(up, st);
}

static void on_child_ready(evutil_socket_t fd, short what, void *arg)
{
	struct upgrade *up = arg;
	char c;
	ssize_t n = read(fd, &c, 1);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	close_ready(up);
	if (n == 1) {
		up->child_ready = 1;
		log_info("binary upgrade: new process %ld is ready; send SIGQUIT "
		         "to %ld (this process) to let it finish its "
		         "connections and exit", (long)up->child,
		         (long)getpid());
	}
	/* Otherwise it is exiting: SIGCHLD says how. */
}

/* Rename FILE to FILE.oldbin, remembering FILE. */
static int pidfile_to_oldbin(struct upgrade *up)
{
	struct pidfile *pf = up->srv->pidfile;
	char *to;

	if (pf == NULL)
		return 0;
	up->pidfile_was = strdup(pidfile_path(pf));
	if (up->pidfile_was == NULL ||
	    asprintf(&to, "%s.oldbin", up->pidfile_was) < 0) {
		log_error("out of memory");
		free(up->pidfile_was);
		up->pidfile_was = NULL;
		return -1;
	}
	if (pidfile_rename(pf, to) < 0) {
		free(to);
		free(up->pidfile_was);
		up->pidfile_was = NULL;
		return -1;
	}
	free(to);
	return 0;
}

static void start_new_binary(struct upgrade *up)
{
	struct server *srv = up->srv;
	struct plan plan;
	int p[2] = { -1, -1 };
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		log_error("SIGUSR2: pipe: %s", strerror(errno));
		return;
	}
	if (plan_build(up, &plan, p[1]) < 0) {
		log_error("SIGUSR2: out of memory");
		goto out;
	}
	if (pidfile_to_oldbin(up) < 0)
		goto out;
	pid = fork();
	if (pid == 0) {
		static const char msg[] = "mptcp-frontd: binary upgrade: "
		                          "execve failed\n";
		for (size_t i = 0; i < plan.nfds; i++)
			fcntl(plan.fds[i], F_SETFD, 0);
		execve(up->exe, srv->argv, plan.envp);
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
			_exit(127);
		_exit(127);
	}
	if (pid < 0) {
		log_error("SIGUSR2: fork: %s", strerror(errno));
		restore_pidfile(up);
		goto out;
	}
	up->child = pid;
	up->ready_fd = p[0];
	p[0] = -1;
	up->ready_ev = event_new(srv->pool.workers[0].base, up->ready_fd,
	                         EV_READ | EV_PERSIST, on_child_ready, up);
	if (up->ready_ev == NULL || event_add(up->ready_ev, NULL) < 0)
		log_warn("binary upgrade: cannot watch the new process's "
		         "readiness; its exit is still noticed");
	log_info("SIGUSR2: binary upgrade: started %s as pid %ld with %zu "
	         "inherited sockets%s%s", up->exe, (long)pid,
	         plan.nsocks, up->pidfile_was ? "; pidfile renamed to " : "",
	         up->pidfile_was ? pidfile_path(srv->pidfile) : "");
out:
	plan_free(&plan);
	if (p[0] >= 0)
		close(p[0]);
	close(p[1]);
}

static void on_usr2(evutil_socket_t sig, short what, void *arg)
{
	struct upgrade *up = arg;
	struct server *srv = up->srv;

	if (srv->stopping)
		log_warn("SIGUSR2 while stopping: no binary upgrade");
	else if (up->child > 0)
		log_warn("SIGUSR2: a binary upgrade is already running (new "
		         "process %ld): ignored", (long)up->child);
	else if (atomic_load(&srv->pool.swapped) != srv->pool.nworkers)
		log_warn("SIGUSR2: a reload is still being applied: ignored; "
		         "send it again");
	else
		start_new_binary(up);
}

int server_upgrade_init(struct server *srv)
{
	struct upgrade *up = calloc(1, sizeof(*up));
	struct event_base *base = srv->pool.workers[0].base;
	ssize_t n;

	if (up == NULL) {
		log_error("out of memory");
		return -1;
	}
	srv->upgrade = up;
	up->srv = srv;
	up->ready_fd = -1;
	n = readlink("/proc/self/exe", up->exe, sizeof(up->exe) - 1);
	if (n < 0) {
		log_error("readlink /proc/self/exe: %s", strerror(errno));
		return -1;
	}
	up->exe[n] = '\0';
	up->sig_usr2 = evsignal_new(base, SIGUSR2, on_usr2, up);
	up->sig_chld = evsignal_new(base, SIGCHLD, on_sigchld, up);
	if (up->sig_usr2 == NULL || up->sig_chld == NULL ||
	    evsignal_add(up->sig_usr2, NULL) < 0 ||
	    evsignal_add(up->sig_chld, NULL) < 0) {
		log_error("cannot create signal events");
		return -1;
	}
	return 0;
}

void server_upgrade_free(struct server *srv)
{
	struct upgrade *up = srv->upgrade;

	if (up == NULL)
		return;
	close_ready(up);
	if (up->sig_usr2 != NULL)
		event_free(up->sig_usr2);
	if (up->sig_chld != NULL)
		event_free(up->sig_chld);
	free(up->pidfile_was);
	free(up);
	srv->upgrade = NULL;
}
