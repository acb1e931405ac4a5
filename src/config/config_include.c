/* "include = PATTERN" and the file names and positions it brings.
 *
 * An include line is replaced by the files its pattern matches, read in
 * place of it: glob(3), sorted by name, relative to the directory of the
 * file that says it.  Each included file starts in the section of the
 * include line (its keys without a header go there) and that section
 * continues after it, whatever headers the file opened.  A pattern
 * without wildcards names a file that must exist; one with wildcards may
 * match nothing (an empty conf.d).  Includes nest up to INCLUDE_DEPTH_MAX
 * deep; a file that is already being read is a cycle; at most
 * INCLUDE_FILES_MAX files are read in one load.
 *
 * The reader (config_lex.c) asks here for the next line while an include
 * is open; everything that goes wrong is reported at the include line. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_internal.h"

int cfg_file_add(struct parser *p, const char *name)
{
	if (p->nfiles == p->files_cap) {
		size_t cap = p->files_cap ? 2 * p->files_cap : 4;
		char **f = realloc(p->files, cap * sizeof(*f));

		if (f == NULL)
			return -1;
		p->files = f;
		p->files_cap = cap;
	}
	p->files[p->nfiles] = strdup(name);
	if (p->files[p->nfiles] == NULL)
		return -1;
	return (int)p->nfiles++;
}

void cfg_pos_note(struct parser *p)
{
	struct pos_seg *s = p->nsegs ? &p->segs[p->nsegs - 1] : NULL;

	if (s != NULL && s->file == p->cur_file &&
	    s->line + (p->lineno - s->pos) == p->cur_line)
		return;
	if (p->nsegs == p->segs_cap) {
		size_t cap = p->segs_cap ? 2 * p->segs_cap : 8;

		s = realloc(p->segs, cap * sizeof(*s));
		if (s == NULL) {
			p->oom = true;
			return;
		}
		p->segs = s;
		p->segs_cap = cap;
	}
	p->segs[p->nsegs++] = (struct pos_seg){ p->lineno, p->cur_file,
	                                        p->cur_line };
}

void cfg_pos_locate(const struct parser *p, int pos, const char **file,
                    int *line)
{
	size_t i = p->nsegs;

	while (i > 0 && p->segs[i - 1].pos > pos)
		i--;
	if (i == 0 || p->nfiles == 0) {
		*file = p->name;
		*line = pos;
		return;
	}
	*file = p->files[p->segs[i - 1].file];
	*line = p->segs[i - 1].line + (pos - p->segs[i - 1].pos);
}

const char *cfg_where(const struct parser *p, int pos, int here, char *buf,
                      size_t len)
{
	const char *f, *hf;
	int line, hline;

	cfg_pos_locate(p, pos, &f, &line);
	cfg_pos_locate(p, here, &hf, &hline);
	if (strcmp(f, hf) == 0)
		snprintf(buf, len, "line %d", line);
	else
		snprintf(buf, len, "%s:%d", f, line);
	return buf;
}

/* At the include line: `at` and the section it was in. */
#define INC_ERR(p, at, label, ...) \
	cfg_err_add((p), (at), (label), "include", __VA_ARGS__)

static void sec_save(const struct parser *p, struct sec_state *s, bool *oom)
{
	s->sec = p->sec;
	s->cur = p->cur;
	s->sec_label = p->sec_label ? strdup(p->sec_label) : NULL;
	s->prev_key = p->prev_key ? strdup(p->prev_key) : NULL;
	if ((p->sec_label && !s->sec_label) || (p->prev_key && !s->prev_key))
		*oom = true;
}

static void sec_restore(struct parser *p, const struct sec_state *s)
{
	free(p->sec_label);
	free(p->prev_key);
	p->sec = s->sec;
	p->cur = s->cur;
	p->sec_label = s->sec_label ? strdup(s->sec_label) : NULL;
	p->prev_key = s->prev_key ? strdup(s->prev_key) : NULL;
	if ((s->sec_label && !p->sec_label) || (s->prev_key && !p->prev_key))
		p->oom = true;
}

/* The directory of the file being read, with its '/' ("" for none). */
static char *current_dir(const struct parser *p)
{
	const char *name = p->files[p->cur_file];
	const char *slash = strrchr(name, '/');

	return strndup(name, slash != NULL ? (size_t)(slash - name) + 1 : 0);
}

void cfg_include(struct parser *p, const char *pattern)
{
	struct include_frame *f;
	char *dir = NULL, *full = NULL;
	int rc;

	if (p->fp == NULL) {
		/* Strings (tests, the fuzzer) have no directory and must not
		 * reach into the file system. */
		INC_ERR(p, p->lineno, p->sec_label, "not available here: the "
		        "configuration is not read from a file");
		return;
	}
	if (p->depth == INCLUDE_DEPTH_MAX) {
		INC_ERR(p, p->lineno, p->sec_label, "too deeply nested (at most "
		        "%d levels of include)", INCLUDE_DEPTH_MAX);
		return;
	}
	if (pattern[0] != '/') {
		dir = current_dir(p);
		full = dir ? cfg_str_printf("%s%s", dir, pattern) : NULL;
		free(dir);
		if (full == NULL) {
			p->oom = true;
			return;
		}
		pattern = full;
	}
	f = &p->frames[p->depth];
	memset(f, 0, sizeof(*f));
	errno = 0;
	rc = glob(pattern, GLOB_ERR, NULL, &f->matches);
	if (rc == 0) {
		f->at = p->lineno;
		sec_save(p, &f->saved, &p->oom);
		p->depth++;     /* the frame lives on */
	} else {
		if (rc == GLOB_NOMATCH && strpbrk(pattern, "*?[") == NULL)
			INC_ERR(p, p->lineno, p->sec_label, "%s: cannot open: %s",
			        pattern, strerror(ENOENT));
		else if (rc == GLOB_ABORTED)
			INC_ERR(p, p->lineno, p->sec_label, "%s: cannot read its "
			        "directory: %s", pattern, strerror(errno ? errno : EIO));
		else if (rc == GLOB_NOSPACE)
			p->oom = true;
		globfree(&f->matches);
	}
	free(full);
}

/* Is (dev, ino) the main file or a file an enclosing include reads? */
static bool being_read(const struct parser *p, dev_t dev, ino_t ino)
{
	if (p->fp != NULL && p->dev == dev && p->ino == ino)
		return true;
	for (int i = 0; i < p->depth - 1; i++)
		if (p->frames[i].fp != NULL && p->frames[i].dev == dev &&
		    p->frames[i].ino == ino)
			return true;
	return false;
}

/* Open the next usable match of the innermost include.  Returns 0, or -1
 * when it has none left. */
static int open_next(struct parser *p, struct include_frame *f)
{
	const char *at_label = f->saved.sec_label;

	while (f->next < f->matches.gl_pathc) {
		const char *path = f->matches.gl_pathv[f->next++];
		struct stat st;
		FILE *fp;

		fp = fopen(path, "re");
		if (fp == NULL) {
			INC_ERR(p, f->at, at_label, "%s: cannot open: %s", path,
			        strerror(errno));
			continue;
		}
		if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode)) {
			INC_ERR(p, f->at, at_label, "%s: not a regular file", path);
			fclose(fp);
			continue;
		}
		if (being_read(p, st.st_dev, st.st_ino)) {
			INC_ERR(p, f->at, at_label, "%s: include cycle: this file "
			        "is already being read", path);
			fclose(fp);
			continue;
		}
		if (p->nfiles >= INCLUDE_FILES_MAX) {
			INC_ERR(p, f->at, at_label, "%s: too many files (at most %d "
			        "in one configuration)", path, INCLUDE_FILES_MAX);
			fclose(fp);
			continue;
		}
		if (cfg_file_access(p, fp, path, f->at) < 0) {
			fclose(fp);
			continue;
		}
		f->file = cfg_file_add(p, path);
		if (f->file < 0) {
			p->oom = true;
			fclose(fp);
			return -1;
		}
		f->fp = fp;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->lineno = 0;
		sec_restore(p, &f->saved);
		return 0;
	}
	return -1;
}

static void frame_close(struct include_frame *f)
{
	if (f->fp != NULL)
		fclose(f->fp);
	f->fp = NULL;
	globfree(&f->matches);
	free(f->saved.sec_label);
	free(f->saved.prev_key);
	memset(f, 0, sizeof(*f));
}

ssize_t cfg_include_read(struct parser *p)
{
	while (p->depth > 0 && !p->oom) {
		struct include_frame *f = &p->frames[p->depth - 1];
		ssize_t r;

		if (f->fp == NULL && open_next(p, f) < 0) {
			sec_restore(p, &f->saved);
			frame_close(f);
			p->depth--;
			continue;
		}
		errno = 0;
		r = getline(&p->raw, &p->rawcap, f->fp);
		if (r >= 0) {
			p->cur_file = f->file;
			p->cur_line = ++f->lineno;
			return r;
		}
		if (ferror(f->fp))
			INC_ERR(p, f->at, f->saved.sec_label, "%s: cannot read: "
			        "%s", p->files[f->file], strerror(errno ? errno : EIO));
		fclose(f->fp);
		f->fp = NULL;
	}
	return -1;
}

void cfg_include_free(struct parser *p)
{
	while (p->depth > 0)
		frame_close(&p->frames[--p->depth]);
}
