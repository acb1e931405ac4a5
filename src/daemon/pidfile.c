/* Locked pidfile (see pidfile.h).  flock(2), not fcntl(2) record locks:
 * an flock lock belongs to the open file description, so it cannot be
 * lost by closing another descriptor of the same file somewhere in the
 * process, and nothing of it passes through exec (the descriptor is
 * close-on-exec). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pidfile.h"

#define TAKE_TRIES 3

struct pidfile {
	int fd;
	char *path;
};

/* The PID the holder wrote, or 0 when the file is empty or garbage (it
 * may be between taking the lock and writing). */
static long read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;
	char *end;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return end != buf && (*end == '\n' || *end == '\0') && pid > 0 ? pid : 0;
}

/* Does `path` still name the file open on fd?  A holder that exits
 * unlinks the file between our open and our lock: the lock we got is
 * then on a file nobody can see. */
static int same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int lock_once(const char *path, int *fd_out)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);

	if (fd < 0) {
		log_error("pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		long pid = read_pid(fd);
		close(fd);
		if (err != EWOULDBLOCK) {
			log_error("pidfile %s: lock: %s", path, strerror(err));
			return -1;
		}
		if (pid > 0)
			log_error("already running (pid %ld, %s)", pid, path);
		else
			log_error("already running (pid not written yet, %s)",
			          path);
		return -1;
	}
	if (!same_file(fd, path)) {
		close(fd);
		return 0;       /* removed under us: try again */
	}
	*fd_out = fd;
	return 1;
}

struct pidfile *pidfile_take(const char *path)
{
	struct pidfile *pf = NULL;
	int fd = -1, rc = 0;

	for (int i = 0; i < TAKE_TRIES && rc == 0; i++)
		rc = lock_once(path, &fd);
	if (rc == 0)
		log_error("pidfile %s: keeps being removed while we lock it",
		          path);
	if (rc <= 0)
		return NULL;
	pf = calloc(1, sizeof(*pf));
	if (pf == NULL || (pf->path = strdup(path)) == NULL) {
		log_error("out of memory");
		free(pf);
		close(fd);
		return NULL;
	}
	pf->fd = fd;
	if (pidfile_write(pf) < 0) {
		pidfile_release(pf);
		return NULL;
	}
	return pf;
}

int pidfile_write(struct pidfile *pf)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(pf->fd, 0) < 0 ||
	    pwrite(pf->fd, buf, (size_t)n, 0) != n) {
		log_error("pidfile %s: %s", pf->path, strerror(errno));
		return -1;
	}
	return 0;
}

const char *pidfile_path(const struct pidfile *pf)
{
	return pf->path;
}

int pidfile_rename(struct pidfile *pf, const char *to)
{
	char *copy = strdup(to);

	if (copy == NULL) {
		log_error("out of memory");
		return -1;
	}
	if (rename(pf->path, to) < 0) {
		log_error("pidfile: rename %s to %s: %s", pf->path, to,
		          strerror(errno));
		free(copy);
		return -1;
	}
	free(pf->path);
	pf->path = copy;
	return 0;
}

void pidfile_release(struct pidfile *pf)
{
	if (pf == NULL)
		return;
	/* After a privilege drop only a directory the user may write lets
	 * this succeed. */
	if (same_file(pf->fd, pf->path) && unlink(pf->path) < 0 &&
	    errno != ENOENT)
		log_warn("pidfile %s: cannot remove: %s", pf->path,
		         strerror(errno));
	close(pf->fd);
	free(pf->path);
	free(pf);
}
