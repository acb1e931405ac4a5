/* Messages of the configuration module: each problem becomes one string
 * "FILE:LINE: [section] key: reason", kept with its line; at the end they
 * are sorted by line and handed to the caller, never printed here. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "config_internal.h"

static void err_push(struct parser *p, int line, char *msg)
{
	struct pending_err *e;

	if (msg == NULL) {
		p->oom = true;
		return;
	}
	if (p->nerrs == p->errs_cap) {
		size_t cap = p->errs_cap ? 2 * p->errs_cap : 16;

		e = realloc(p->errs, cap * sizeof(*e));
		if (e == NULL) {
			free(msg);
			p->oom = true;
			return;
		}
		p->errs = e;
		p->errs_cap = cap;
	}
	e = &p->errs[p->nerrs];
	e->line = line;
	e->seq = p->nerrs;
	e->msg = msg;
	p->nerrs++;
}

char *cfg_str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void cfg_err_add(struct parser *p, int line, const char *label,
                 const char *key, const char *fmt, ...)
{
	char reason[REASON_MAX];
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);

	if (line == 0) {
		msg = cfg_str_printf("%s: %s", p->name, reason);
	} else {
		const char *file;
		int fl;

		cfg_pos_locate(p, line, &file, &fl);
		if (label != NULL && key != NULL)
			msg = cfg_str_printf("%s:%d: %s %s: %s", file, fl, label,
			                     key, reason);
		else if (label != NULL || key != NULL)
			msg = cfg_str_printf("%s:%d: %s: %s", file, fl,
			                     label != NULL ? label : key, reason);
		else
			msg = cfg_str_printf("%s:%d: %s", file, fl, reason);
	}
	err_push(p, line == 0 ? INT_MAX : line, msg);
}

bool cfg_err_on_line(const struct parser *p, int line)
{
	size_t i;

	for (i = 0; i < p->nerrs; i++) {
		if (p->errs[i].line == line)
			return true;
	}
	return false;
}

static int err_cmp(const void *a, const void *b)
{
	const struct pending_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cfg_err_flush(struct parser *p, struct config_errors *errs)
{
	size_t i;

	if (p->oom)
		err_push(p, INT_MAX,
		         cfg_str_printf("%s: out of memory", p->name));
	if (p->nerrs > 1)
		qsort(p->errs, p->nerrs, sizeof(*p->errs), err_cmp);
	for (i = 0; i < p->nerrs; i++) {
		if (errs->n == errs->cap) {
			size_t cap = errs->cap ? 2 * errs->cap : 8;
			char **m = realloc(errs->msg, cap * sizeof(*m));

			if (m == NULL)
				break;
			errs->msg = m;
			errs->cap = cap;
		}
		errs->msg[errs->n++] = p->errs[i].msg;
		p->errs[i].msg = NULL;
	}
	for (; i < p->nerrs; i++)
		free(p->errs[i].msg);
	free(p->errs);
	p->errs = NULL;
	p->nerrs = p->errs_cap = 0;
}

void config_errors_free(struct config_errors *errs)
{
	size_t i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = errs->cap = 0;
}
