/* Runs a fuzz target over saved inputs without libFuzzer, so that `make
 * check` (with gcc, and under ASan + UBSan in the sanitizer run) replays
 * every seed and every regression on each build:
 *
 *   replay_NAME                 tests/fuzz/corpus/NAME/ and
 *                               tests/fuzz/regressions/NAME/ under
 *                               $top_srcdir (default: .)
 *   replay_NAME FILE|DIR...     those instead (a crash file to reproduce)
 *
 * TAP on stdout, one test point per input.  Each input runs in a child of
 * its own, so a crash or a broken invariant fails that point only.  Inputs
 * are read into buffers of exactly their size, as libFuzzer does, so an
 * ASan build sees any read past the end. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "build with -DFUZZ_NAME=\"target\""
#endif

static int ntests, nfailed;

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return -1;
	}
	/* malloc(0) may return NULL: keep one byte, pass the true size. */
	*buf = malloc(n > 0 ? (size_t)n : 1);
	if (*buf == NULL || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
		free(*buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

static void run_one(const char *path, const char *label)
{
	uint8_t *buf;
	size_t len;
	pid_t pid;
	int status;

	ntests++;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (read_file(path, &buf, &len) < 0) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			_exit(2);
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		/* exit, not _exit: LeakSanitizer checks at exit.  stdout
		 * was flushed before the fork, so nothing prints twice. */
		exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		printf("not ok %d - %s: cannot run: %s\n", ntests, label,
		       strerror(errno));
		nfailed++;
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok %d - %s %s\n", ntests, FUZZ_NAME, label);
		return;
	}
	nfailed++;
	if (WIFSIGNALED(status))
		printf("not ok %d - %s %s: signal %d\n", ntests, FUZZ_NAME,
		       label, WTERMSIG(status));
	else
		printf("not ok %d - %s %s: exit %d\n", ntests, FUZZ_NAME, label,
		       WEXITSTATUS(status));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_name(const struct dirent *d)
{
	/* Dot files (.gitignore and the like) and notes are not inputs. */
	return d->d_name[0] != '.' && strcmp(d->d_name, "README.md") != 0;
}

/* Every regular file in dir, in name order; `tag` prefixes the labels.
 * A missing directory is fine when `optional`. */
static void run_dir(const char *dir, const char *tag, int optional)
{
	struct dirent **names;
	char path[4096], label[512];
	int n, i;

	n = scandir(dir, &names, skip_name, by_name);
	if (n < 0) {
		if (optional && errno == ENOENT)
			return;
		ntests++;
		nfailed++;
		printf("not ok %d - %s: %s\n", ntests, dir, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		snprintf(label, sizeof(label), "%s/%s", tag, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			run_one(path, label);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int i;

	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			struct stat st;

			if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
				run_dir(argv[i], argv[i], 0);
			else
				run_one(argv[i], argv[i]);
		}
	} else {
		const char *top = getenv("top_srcdir");
		char dir[4096];

		if (top == NULL || top[0] == '\0')
			top = ".";
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top,
		         FUZZ_NAME);
		run_dir(dir, "corpus", 0);
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/regressions/%s", top,
		         FUZZ_NAME);
		run_dir(dir, "regressions", 1);
	}
	printf("1..%d\n", ntests);
	return nfailed == 0 ? 0 : 1;
}
