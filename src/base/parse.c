/* Pure parsers for configuration values: durations, sizes, integers,
 * booleans, comma lists, and the edit distance behind "did you mean".
 * Nothing here allocates or does I/O; every failure writes a reason that
 * quotes the offending text, so the caller only adds file, line and key. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

/* Parse the leading decimal digits of s into *out.  Returns the number of
 * digits consumed (0 when s does not start with a digit), or -1 when the
 * value does not fit in 64 bits. */
static int parse_digits(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		unsigned d = (unsigned)(s[n] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		n++;
	}
	*out = v;
	return n;
}

int parse_duration_ms(const char *s, uint64_t *out_ms, char *err,
                      size_t errlen)
{
	uint64_t v, mult;
	const char *suffix;
	int n;

	if (s[0] == '-') {
		snprintf(err, errlen, "bad duration \"%s\": must not be negative",
		         s);
		return -1;
	}
	n = parse_digits(s, &v);
	if (n < 0) {
		snprintf(err, errlen, "bad duration \"%s\": too large", s);
		return -1;
	}
	suffix = s + n;
	if (n == 0)
		goto bad;
	if (strcmp(suffix, "") == 0 || strcmp(suffix, "s") == 0)
		mult = 1000;
	else if (strcmp(suffix, "ms") == 0)
		mult = 1;
	else if (strcmp(suffix, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(suffix, "h") == 0)
		mult = 60 * 60 * 1000;
	else
		goto bad;
	if (v > UINT64_MAX / mult) {
		snprintf(err, errlen, "bad duration \"%s\": too large", s);
		return -1;
	}
	*out_ms = v * mult;
	return 0;
bad:
	snprintf(err, errlen,
	         "bad duration \"%s\": expected a number with ms, s, m or h", s);
	return -1;
}

int parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	uint64_t v, mult;
	const char *suffix;
	int n;

	if (s[0] == '-') {
		snprintf(err, errlen, "bad size \"%s\": must not be negative", s);
		return -1;
	}
	n = parse_digits(s, &v);
	if (n < 0) {
		snprintf(err, errlen, "bad size \"%s\": too large", s);
		return -1;
	}
	suffix = s + n;
	if (n == 0)
		goto bad;
	if (strcmp(suffix, "") == 0)
		mult = 1;
	else if (strcasecmp(suffix, "k") == 0)
		mult = UINT64_C(1) << 10;
	else if (strcasecmp(suffix, "m") == 0)
		mult = UINT64_C(1) << 20;
	else if (strcasecmp(suffix, "g") == 0)
		mult = UINT64_C(1) << 30;
	else
		goto bad;
	if (v > UINT64_MAX / mult) {
		snprintf(err, errlen, "bad size \"%s\": too large", s);
		return -1;
	}
	*out = v * mult;
	return 0;
bad:
	snprintf(err, errlen,
	         "bad size \"%s\": expected a number with an optional k, m or g "
	         "suffix", s);
	return -1;
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
               char *err, size_t errlen)
{
	uint64_t v;
	int n = parse_digits(s, &v);

	/* One message for junk, sign, overflow and range: it says what fits. */
	if (n <= 0 || s[n] != '\0' || v < min || v > max) {
		snprintf(err, errlen,
		         "bad number \"%s\": expected an integer from %llu to %llu",
		         s, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int parse_bool(const char *s, int *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "on", "yes", "true", "1", NULL };
	static const char *const no[] = { "off", "no", "false", "0", NULL };
	size_t i;

	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
	}
	for (i = 0; no[i] != NULL; i++) {
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	snprintf(err, errlen, "bad value \"%s\": expected on or off", s);
	return -1;
}

/* Distances at or above this are reported as this. */
#define ED_CAP 255u
#define ED_BAND (2 * ED_CAP + 1)

/* Levenshtein distance, computed only on the diagonal band |i - j| <=
 * ED_CAP: every cell outside it is at least ED_CAP + 1 away, so the capped
 * result is exact while memory stays fixed whatever the string lengths.
 * Cells hold min(true value, ED_CAP); clamping commutes with the min and
 * +1 steps of the recurrence, so it never changes a capped answer. */
unsigned parse_edit_distance(const char *a, const char *b)
{
	unsigned char rows[2][ED_BAND];
	unsigned char *prev = rows[0], *cur = rows[1], *tmp;
	size_t la = strlen(a), lb = strlen(b);
	size_t i, k;

	if ((la > lb ? la - lb : lb - la) >= ED_CAP)
		return ED_CAP;

	/* Row 0: D(0, j) = j, with k = j - i + ED_CAP. */
	for (k = 0; k < ED_BAND; k++) {
		long j = (long)k - (long)ED_CAP;

		prev[k] = (j < 0 || (size_t)j > lb) ? ED_CAP : (unsigned char)j;
	}
	for (i = 1; i <= la; i++) {
		for (k = 0; k < ED_BAND; k++) {
			long j = (long)i + (long)k - (long)ED_CAP;
			unsigned best, v;

			if (j < 0 || (size_t)j > lb) {
				cur[k] = ED_CAP;
				continue;
			}
			if (j == 0) {
				cur[k] = i < ED_CAP ? (unsigned char)i : ED_CAP;
				continue;
			}
			/* substitution (or match): D(i-1, j-1) is prev[k] */
			best = prev[k] + (a[i - 1] != b[j - 1] ? 1u : 0u);
			/* deletion: D(i-1, j) is prev[k+1] */
			if (k + 1 < ED_BAND && (v = prev[k + 1] + 1u) < best)
				best = v;
			/* insertion: D(i, j-1) is cur[k-1] */
			if (k > 0 && (v = cur[k - 1] + 1u) < best)
				best = v;
			cur[k] = best < ED_CAP ? (unsigned char)best : ED_CAP;
		}
		tmp = prev;
		prev = cur;
		cur = tmp;
	}
	return prev[lb - la + ED_CAP];
}

const char *parse_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	unsigned best_d = 3; /* accept distance 2 at most */
	size_t i;

	for (i = 0; candidates[i] != NULL; i++) {
		unsigned d = parse_edit_distance(word, candidates[i]);

		if (d < best_d) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int parse_split_list(char *s, char **items, int max)
{
	int n = 0;

	for (;;) {
		char *start = s, *end;
		char *comma = strchr(s, ',');

		end = comma != NULL ? comma : s + strlen(s);
		while (start < end && is_blank(*start))
			start++;
		while (end > start && is_blank(end[-1]))
			end--;
		if (start == end || n >= max)
			return -1;
		items[n++] = start;
		if (comma == NULL) {
			*end = '\0';
			return n;
		}
		*end = '\0';
		s = comma + 1;
	}
}
