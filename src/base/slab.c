/* Slabs of fixed-size objects (include/slab.h).  A slab is SLAB_BYTES
 * mapped at a SLAB_BYTES boundary: its header first, then the objects, so
 * an object's slab is its address rounded down.  Free objects of a slab
 * are a list threaded through themselves. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "slab.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_USE_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_USE_MALLOC 1
#endif
#endif

#ifdef SLAB_USE_MALLOC
void *slab_alloc(struct slab_cache *sc)
{
	void *p = calloc(1, sc->size);

	if (p != NULL)
		sc->live++;
	return p;
}

void slab_free(struct slab_cache *sc, void *p)
{
	if (p == NULL)
		return;
	sc->live--;
	free(p);
}
#else

#define SLAB_BYTES ((size_t)32 * 1024)

struct slab {
	struct slab *prev, *next;       /* the cache's list */
	void *free;                     /* free objects of this slab */
	size_t used;                    /* objects handed out */
	size_t carved;                  /* objects ever carved off the end */
};

#define SLAB_HEAD ((sizeof(struct slab) + 63) & ~(size_t)63)

static size_t obj_size(const struct slab_cache *sc)
{
	size_t s = sc->size < sizeof(void *) ? sizeof(void *) : sc->size;

	return (s + 15) & ~(size_t)15;
}

static size_t capacity(const struct slab_cache *sc)
{
	return (SLAB_BYTES - SLAB_HEAD) / obj_size(sc);
}

static void list_remove(struct slab_cache *sc, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		sc->slabs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

static void list_push(struct slab_cache *sc, struct slab *s)
{
	s->prev = NULL;
	s->next = sc->slabs;
	if (sc->slabs)
		sc->slabs->prev = s;
	sc->slabs = s;
}

static int has_room(const struct slab_cache *sc, const struct slab *s)
{
	return s->free != NULL || s->carved < capacity(sc);
}

/* A fresh slab aligned to SLAB_BYTES: map twice the size, unmap what is
 * around the aligned part. */
static struct slab *slab_map(void)
{
	uint8_t *p = mmap(NULL, 2 * SLAB_BYTES, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;
	size_t lead;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + SLAB_BYTES - 1) & ~(uintptr_t)(SLAB_BYTES - 1);
	lead = a - (uintptr_t)p;
	if (lead > 0)
		munmap(p, lead);
	munmap((uint8_t *)a + SLAB_BYTES, SLAB_BYTES - lead);
	return (struct slab *)a;        /* zero-filled by the kernel */
}

void *slab_alloc(struct slab_cache *sc)
{
	struct slab *s = sc->slabs;
	void *p;

	/* Slabs with room are kept at the head. */
	if (s == NULL || !has_room(sc, s)) {
		s = sc->spare;
		sc->spare = NULL;
		if (s == NULL && (s = slab_map()) == NULL)
			return NULL;
		list_push(sc, s);
	}
	if (s->free != NULL) {
		p = s->free;
		s->free = *(void **)p;
		memset(p, 0, obj_size(sc));
	} else {
		p = (uint8_t *)s + SLAB_HEAD + s->carved * obj_size(sc);
		s->carved++;
	}
	s->used++;
	sc->live++;
	/* A full slab goes to the tail, out of the way of the search. */
	if (!has_room(sc, s) && s->next != NULL) {
		struct slab *t = s->next;
		list_remove(sc, s);
		while (t->next != NULL)
			t = t->next;
		t->next = s;
		s->prev = t;
	}
	return p;
}

void slab_free(struct slab_cache *sc, void *p)
{
	struct slab *s;

	if (p == NULL)
		return;
	sc->live--;
	s = (struct slab *)((uintptr_t)p & ~(uintptr_t)(SLAB_BYTES - 1));
	*(void **)p = s->free;
	s->free = p;
	s->used--;
	list_remove(sc, s);
	if (s->used > 0) {
		list_push(sc, s);       /* it has room now */
		return;
	}
	/* Empty: kept as the spare while other objects are live, else
	 * given back (and so is a spare kept earlier). */
	if (sc->live > 0 && sc->spare == NULL) {
		sc->spare = s;
		return;
	}
	munmap(s, SLAB_BYTES);
	if (sc->live == 0 && sc->spare != NULL) {
		munmap(sc->spare, SLAB_BYTES);
		sc->spare = NULL;
	}
}
#endif
