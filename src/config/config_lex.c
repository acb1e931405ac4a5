/* The line reader in front of inih.
 *
 * inih's handler gets no line number and inih reports only the first bad
 * line, so every line goes through this reader first.  It counts lines,
 * sees the raw text, tracks sections itself (with the line of each
 * header, through config_section.c), and reports what inih would drop or
 * truncate: over-long lines, lines that are not "key = value",
 * continuation lines, junk after a section header.  Such lines reach inih
 * as blank lines. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "config_internal.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* Next raw line into p->raw (with its '\n' if any), from the innermost
 * include being read, else from the main input; p->cur_file and
 * p->cur_line say whose.  Returns its length, or -1 at the end or on a
 * read error of the main input (p->read_errno). */
static ssize_t next_line(struct parser *p)
{
	const char *nl;
	size_t n;
	ssize_t r;

	r = cfg_include_read(p);
	if (r >= 0 || p->oom)
		return r;
	p->cur_file = 0;
	p->cur_line = p->main_line + 1;
	if (p->fp != NULL) {
		errno = 0;
		r = getline(&p->raw, &p->rawcap, p->fp);
		if (r < 0 && ferror(p->fp))
			p->read_errno = errno ? errno : EIO;
		if (r >= 0)
			p->main_line++;
		return r;
	}
	if (p->str == NULL || *p->str == '\0')
		return -1;
	nl = strchr(p->str, '\n');
	n = nl != NULL ? (size_t)(nl - p->str) + 1 : strlen(p->str);
	if (n + 1 > p->rawcap) {
		char *grown = realloc(p->raw, n + 1);

		if (grown == NULL) {
			p->oom = true;
			return -1;
		}
		p->raw = grown;
		p->rawcap = n + 1;
	}
	memcpy(p->raw, p->str, n);
	p->raw[n] = '\0';
	p->str += n;
	p->main_line++;
	return (ssize_t)n;
}

/* Where inih's splitting stops: the first char of `stop`, or an inline
 * comment (';' or '#' after a blank), or the end. */
static const char *find_stop(const char *s, const char *stop)
{
	bool was_space = false;

	for (; *s != '\0'; s++) {
		if (stop != NULL && strchr(stop, *s) != NULL)
			return s;
		if (was_space && (*s == ';' || *s == '#'))
			return s;
		was_space = is_space(*s);
	}
	return s;
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* An indented line after a key, as inih would read it with multi-line
 * values on.  We turn that off, so say so rather than misread the line:
 * "    127.0.0.1:8081" would otherwise become key "127.0.0.1". */
static bool looks_continued(const char *t)
{
	const char *sep;

	if (*t == '[') {
		const char *n = t + 1;

		while (is_space(*n))
			n++;
		return strncmp(n, "global", 6) != 0 &&
		       strncmp(n, "listener:", 9) != 0;
	}
	sep = find_stop(t, "=:");
	if (*sep != '=')
		return true;
	for (; t < sep && is_key_char(*t); t++)
		;
	while (t < sep && is_space(*t))
		t++;
	return t != sep;
}

static bool lex_section(struct parser *p, const char *t)
{
	const char *close = find_stop(t + 1, "]");
	const char *rest, *a, *b;
	char *name;

	if (*close != ']') {
		cfg_err_add(p, p->lineno, NULL, NULL,
		            "section header without closing \"]\": %s", t);
		cfg_section_lost(p);
		return false;
	}
	a = t + 1;
	b = close;
	while (a < b && is_space(*a))
		a++;
	while (b > a && is_space(b[-1]))
		b--;
	name = strndup(a, (size_t)(b - a));
	if (name == NULL) {
		p->oom = true;
		p->sec = SEC_BAD;
		return false;
	}
	cfg_section_open(p, name);
	free(name);

	for (rest = close + 1; is_space(*rest); rest++)
		;
	if (*rest != '\0' && *rest != ';' && *rest != '#')
		cfg_err_add(p, p->lineno, p->sec_label, NULL,
		            "unexpected text after \"]\"");
	return true;
}

/* Check one line (NUL-terminated, no line ending) the way inih will split
 * it.  Returns true to pass it to inih, false when it was reported. */
static bool lex_line(struct parser *p)
{
	const char *s = p->raw, *t, *sep, *k;

	for (t = s; is_space(*t); t++)
		;
	if (*t == '\0' || *t == ';' || *t == '#')
		return true;
	if (t > s && p->prev_key != NULL && looks_continued(t)) {
		cfg_err_add(p, p->lineno, p->sec_label, p->prev_key,
		            "continuation lines are not supported; write the "
		            "value on one line");
		return false;
	}
	if (*t == '[')
		return lex_section(p, t);

	sep = find_stop(t, "=:");
	for (k = sep; k > t && is_space(k[-1]); k--)
		;
	if (*sep == '=' || *sep == ':') {
		if (k == t) {
			cfg_err_add(p, p->lineno, p->sec_label, NULL,
			            "missing key name before \"%c\"", *sep);
			return false;
		}
		while (t < k && !is_space(*t))
			t++;
		if (t == k)
			return true;
	}
	/* No separator, or a blank inside the key. */
	cfg_err_add(p, p->lineno, p->sec_label, NULL,
	            "expected \"key = value\", a [section] header or a "
	            "comment");
	return false;
}

static char *blank_line(char *buf)
{
	buf[0] = '\0';
	return buf;
}

char *cfg_reader(char *buf, int num, void *stream)
{
	struct parser *p = stream;
	ssize_t r = next_line(p);
	size_t len;

	if (r < 0)
		return NULL;
	p->lineno++;
	cfg_pos_note(p);
	len = (size_t)r;
	/* A byte order mark may start every file, included ones too. */
	if (p->cur_line == 1 && len >= 3 && memcmp(p->raw, "\xEF\xBB\xBF", 3) == 0) {
		memmove(p->raw, p->raw + 3, len - 2);
		len -= 3;
	}
	if (len > 0 && p->raw[len - 1] == '\n')
		len--;
	if (len > 0 && p->raw[len - 1] == '\r')
		len--;

	if (memchr(p->raw, '\0', len) != NULL) {
		cfg_err_add(p, p->lineno, NULL, NULL,
		            "line contains a NUL byte");
		return blank_line(buf);
	}
	p->raw[len] = '\0';
	if (len > CONFIG_LINE_MAX || len + 1 > (size_t)num) {
		const char *t = p->raw;

		cfg_err_add(p, p->lineno, NULL, NULL,
		            "line too long (%zu characters, at most %d)", len,
		            CONFIG_LINE_MAX);
		/* A lost section header must not pass its keys to the
		 * previous section. */
		while (is_space(*t))
			t++;
		if (*t == '[')
			cfg_section_lost(p);
		return blank_line(buf);
	}
	if (!lex_line(p))
		return blank_line(buf);
	memcpy(buf, p->raw, len + 1);
	return buf;
}
