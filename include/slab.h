/* Fixed-size objects carved from page-aligned slabs that are mapped for
 * them alone, for one thread.  Why not malloc: objects that live as long
 * as a connection would share heap pages with allocations that live as
 * long as the process (libevent's per-descriptor entries, made on a
 * descriptor's first use), so after a burst of connections has ended
 * every page still holds something live and no page goes back to the
 * system, whatever malloc_trim does.  A slab is unmapped as soon as it is
 * empty (one empty slab is kept while others are in use, so a count that
 * swings around a slab's size does not map and unmap every time).
 *
 * In AddressSanitizer builds each object is a calloc of its own, so the
 * sanitizer still sees every use after free. */
#ifndef FRONTD_SLAB_H
#define FRONTD_SLAB_H

#include <stddef.h>

struct slab;

/* One per thread and object type; zero it, then set size. */
struct slab_cache {
	size_t size;            /* object size, set before the first alloc */
	struct slab *slabs;     /* all mapped slabs; with free slots first */
	struct slab *spare;     /* an empty slab kept, or NULL */
	size_t live;            /* objects handed out */
};

/* A zeroed object, or NULL (errno set) when no memory could be mapped. */
void *slab_alloc(struct slab_cache *sc);

/* Give p (from slab_alloc on the same cache) back; NULL is a no-op. */
void slab_free(struct slab_cache *sc, void *p);

#endif
