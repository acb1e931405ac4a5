/* Environment references in values, for containers and configuration
 * management: ${NAME} is the variable's value, ${NAME:-default} the
 * default when it is unset or empty (as in sh), "$${" a literal "${".  A
 * '$' not followed by '{' is itself.  NAME is letters, digits and '_',
 * not starting with a digit; a default is literal text up to the first
 * '}'.  Expansion happens after comments are stripped, so a value from
 * the environment may hold '#' and ';'.  An unset variable without a
 * default is an error at its line: a missing variable must not quietly
 * become an empty or partial address. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

struct buf {
	char *s;
	size_t len, cap;
};

static bool put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *r;

		while (cap < b->len + n + 1)
			cap *= 2;
		r = realloc(b->s, cap);
		if (r == NULL)
			return false;
		b->s = r;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return true;
}

static bool is_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* One reference at s (s[0..1] == "${").  Appends its value to b and
 * returns the text after it, or NULL after reporting. */
static const char *reference(struct parser *p, const char *key, const char *s,
                             struct buf *b)
{
	const char *name = s + 2, *end = name, *close, *val;
	size_t nlen;
	char var[256];

	while (is_name_char(*end, end == name))
		end++;
	nlen = (size_t)(end - name);
	close = strchr(end, '}');
	if (close == NULL) {
		KEY_ERR(p, key, "unterminated \"${\": expected ${NAME} or "
		        "${NAME:-default} (write $${ for a literal ${)");
		return NULL;
	}
	if (nlen == 0 || nlen >= sizeof(var) ||
	    (end != close && strncmp(end, ":-", 2) != 0)) {
		KEY_ERR(p, key, "bad reference \"%.*s\": expected ${NAME} or "
		        "${NAME:-default}", (int)(close - s + 1), s);
		return NULL;
	}
	memcpy(var, name, nlen);
	var[nlen] = '\0';
	val = getenv(var);
	if (end != close && (val == NULL || val[0] == '\0')) {
		if (!put(b, end + 2, (size_t)(close - end - 2)))
			goto oom;
		return close + 1;
	}
	if (val == NULL) {
		KEY_ERR(p, key, "environment variable %s is not set (write "
		        "${%s:-default} to give a default)", var, var);
		return NULL;
	}
	if (strpbrk(val, "\r\n") != NULL) {
		KEY_ERR(p, key, "environment variable %s holds a line break",
		        var);
		return NULL;
	}
	if (!put(b, val, strlen(val)))
		goto oom;
	return close + 1;
oom:
	p->oom = true;
	return NULL;
}

char *cfg_expand(struct parser *p, const char *key, const char *value)
{
	struct buf b = { NULL, 0, 0 };
	const char *s = value;

	if (!put(&b, "", 0))
		goto oom;
	while (*s != '\0') {
		const char *d = strchr(s, '$');

		if (d == NULL) {
			if (!put(&b, s, strlen(s)))
				goto oom;
			break;
		}
		if (!put(&b, s, (size_t)(d - s)))
			goto oom;
		if (strncmp(d, "$${", 3) == 0) {
			if (!put(&b, "${", 2))
				goto oom;
			s = d + 3;
		} else if (d[1] == '{') {
			s = reference(p, key, d, &b);
			if (s == NULL) {
				free(b.s);
				return NULL;
			}
		} else {
			if (!put(&b, "$", 1))
				goto oom;
			s = d + 1;
		}
	}
	if (b.len > CONFIG_LINE_MAX) {
		KEY_ERR(p, key, "value too long once expanded (%zu characters, "
		        "at most %d)", b.len, CONFIG_LINE_MAX);
		free(b.s);
		return NULL;
	}
	return b.s;
oom:
	p->oom = true;
	free(b.s);
	return NULL;
}
