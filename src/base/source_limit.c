/* The per-source connection table (include/source_limit.h): STRIPES
 * mutexes, each guarding a chained hash of its own that doubles when it
 * fills.  The hash is keyed with a random seed so that clients cannot
 * choose addresses that pile up in one chain. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "source_limit.h"

#define STRIPES 64
#define FIRST_BUCKETS 16

struct entry {
	struct entry *next;
	struct source_key key;
	uint64_t count;
};

struct stripe {
	pthread_mutex_t mu;
	struct entry **buckets;
	size_t nbuckets, n;
};

struct source_table {
	uint64_t seed;
	struct stripe s[STRIPES];
};

static void mask(uint8_t *a, unsigned len, unsigned bits)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
		a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int source_key_make(const struct sockaddr *sa, unsigned v4_bits,
                    unsigned v6_bits, struct source_key *k)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	                                    0xff, 0xff };

	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		memcpy(k->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			memcpy(k->addr, a + 12, 4);
		} else {
			k->family = 6;
			k->bits = (uint8_t)(v6_bits > 128 ? 128 : v6_bits);
			memcpy(k->addr, a, 16);
			mask(k->addr, 16, k->bits);
			return 0;
		}
	} else {
		return -1;
	}
	k->family = 4;
	k->bits = (uint8_t)(v4_bits > 32 ? 32 : v4_bits);
	mask(k->addr, 4, k->bits);
	return 0;
}

static uint64_t hash(const struct source_table *t, const struct source_key *k)
{
	uint64_t h = t->seed ^ ((uint64_t)k->family << 8 | k->bits), w;

	for (size_t i = 0; i < sizeof(k->addr); i += 8) {
		memcpy(&w, k->addr + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 31);
}

struct source_table *source_table_new(void)
{
	struct source_table *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		log_error("out of memory for the per-source connection table");
		return NULL;
	}
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t * 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&t->s[i].mu, NULL);
	return t;
}

void source_table_free(struct source_table *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < STRIPES; i++) {
		struct stripe *s = &t->s[i];
		for (size_t b = 0; b < s->nbuckets; b++)
			while (s->buckets[b] != NULL) {
				struct entry *e = s->buckets[b];
				s->buckets[b] = e->next;
				free(e);
			}
		free(s->buckets);
		pthread_mutex_destroy(&s->mu);
	}
	free(t);
}

/* The stripe and the link that points at k's entry (or at the NULL that
 * ends its chain); the stripe's mutex is held on return. */
static struct entry **find(struct source_table *t, const struct source_key *k,
                           struct stripe **sp, uint64_t *hp)
{
	uint64_t h = hash(t, k);
	struct stripe *s = &t->s[h % STRIPES];
	struct entry **pp;

	pthread_mutex_lock(&s->mu);
	*sp = s;
	*hp = h;
	if (s->nbuckets == 0)
		return NULL;
	pp = &s->buckets[(h / STRIPES) & (s->nbuckets - 1)];
	while (*pp != NULL && memcmp(&(*pp)->key, k, sizeof(*k)) != 0)
		pp = &(*pp)->next;
	return pp;
}

/* Double s's buckets (or make the first ones); 0, or -1 when out of
 * memory, in which case s keeps the ones it had. */
static int grow(struct source_table *t, struct stripe *s)
{
	size_t n = s->nbuckets ? 2 * s->nbuckets : FIRST_BUCKETS;
	struct entry **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return -1;
	for (size_t i = 0; i < s->nbuckets; i++)
		while (s->buckets[i] != NULL) {
			struct entry *e = s->buckets[i];
			size_t j = (hash(t, &e->key) / STRIPES) & (n - 1);
			s->buckets[i] = e->next;
			e->next = b[j];
			b[j] = e;
		}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
	return 0;
}

int source_acquire(struct source_table *t, const struct source_key *k,
                   uint64_t limit)
{
	struct stripe *s;
	struct entry **pp, *e;
	uint64_t h;
	int rc = 1;

	pp = find(t, k, &s, &h);
	if (pp != NULL && *pp != NULL) {
		if ((*pp)->count >= limit)
			rc = 0;
		else
			(*pp)->count++;
		goto out;
	}
	if (limit == 0) {
		rc = 0;
		goto out;
	}
	if ((s->n >= s->nbuckets && grow(t, s) < 0 && s->nbuckets == 0) ||
	    (e = malloc(sizeof(*e))) == NULL) {
		rc = -1;
		goto out;
	}
	e->key = *k;
	e->count = 1;
	pp = &s->buckets[(h / STRIPES) & (s->nbuckets - 1)];
	e->next = *pp;
	*pp = e;
	s->n++;
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void source_release(struct source_table *t, const struct source_key *k)
{
	struct stripe *s;
	struct entry **pp, *e;
	uint64_t h;

	pp = find(t, k, &s, &h);
	if (pp != NULL && (e = *pp) != NULL && --e->count == 0) {
		*pp = e->next;
		free(e);
		s->n--;
	}
	pthread_mutex_unlock(&s->mu);
}

uint64_t source_count(struct source_table *t, const struct source_key *k)
{
	struct stripe *s;
	struct entry **pp;
	uint64_t h, n = 0;

	pp = find(t, k, &s, &h);
	if (pp != NULL && *pp != NULL)
		n = (*pp)->count;
	pthread_mutex_unlock(&s->mu);
	return n;
}
