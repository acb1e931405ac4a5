/* Detached start (see detach.h).  One pipe carries the daemon's standard
 * error to the starting process; a NUL byte, which no log line contains,
 * says "ready".  End of file without it means the daemon died first. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "detach.h"
#include "log.h"

static int detached;

/* The starting process: relay the daemon's words, exit with its outcome. */
static _Noreturn void wait_for_daemon(int rd, pid_t pid)
{
	char buf[4096];
	ssize_t n;
	int st;

	for (;;) {
		n = read(rd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		char *nul = memchr(buf, '\0', (size_t)n);
		ssize_t w = write(STDERR_FILENO, buf,
		                  nul ? (size_t)(nul - buf) : (size_t)n);
		(void)w;        /* a closed terminal: nowhere to say it */
		if (nul != NULL)
			_exit(0);
	}
	/* It closed its standard error without saying ready: it exited. */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(st) && WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : 1);
}

int detach_start(void)
{
	int p[2], null;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		log_error("pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		wait_for_daemon(p[0], pid);
	}
	close(p[0]);
	if (setsid() < 0)
		log_warn("setsid: %s", strerror(errno));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	/* Not close-on-exec, but nothing is executed before readiness (a
	 * binary upgrade needs the running loop), when fd 2 is /dev/null. */
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	detached = 1;
	return 0;
}

void detach_inherited(void)
{
	detached = 1;
}

void detach_ready(void)
{
	int null;

	if (!detached)
		return;
	if (log_detach()) {
		static const char msg[] = "mptcp-frontd: log = stderr while "
			"detached: logging to syslog from now on (-f keeps "
			"standard error)\n";
		ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)w;
		log_info("detached: logging to syslog (log = stderr)");
	}
	if (write(STDERR_FILENO, "", 1) < 0)
		log_warn("cannot tell the starting process we are ready: %s",
		         strerror(errno));
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDERR_FILENO);
		close(null);
	}
	detached = 2;
}
