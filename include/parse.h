/* Pure parsers for configuration values.  No I/O, no allocation. */
#ifndef FRONTD_PARSE_H
#define FRONTD_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* "250ms", "5s", "10m", "2h"; a bare number means seconds (as in nginx).
 * Returns 0 and stores milliseconds, or -1 and writes a reason to err. */
int parse_duration_ms(const char *s, uint64_t *out_ms, char *err, size_t errlen);

/* "512", "16k", "4m", "1g" (powers of 1024).  Returns 0 or -1 + reason. */
int parse_size(const char *s, uint64_t *out, char *err, size_t errlen);

/* Unsigned decimal integer in [min, max].  Returns 0 or -1 + reason. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
               char *err, size_t errlen);

/* "on"/"off" (also yes/no, true/false, 1/0).  Returns 0 or -1 + reason. */
int parse_bool(const char *s, int *out, char *err, size_t errlen);

/* Levenshtein distance between two short ASCII strings, capped at 255. */
unsigned parse_edit_distance(const char *a, const char *b);

/* The candidate closest to `word` within edit distance 2, or NULL.
 * `candidates` is a NULL-terminated array. */
const char *parse_suggest(const char *word, const char *const *candidates);

/* Split a comma-separated list in place: trims blanks around items, stores
 * up to `max` pointers into `s`.  Returns the item count, or -1 if an item
 * is empty or there are more than `max`. */
int parse_split_list(char *s, char **items, int max);

#endif
