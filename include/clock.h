/* The clock every layer reads: coarse monotonic milliseconds (cheap enough
 * to read per event) and their conversion for libevent timeouts. */
#ifndef FRONTD_CLOCK_H
#define FRONTD_CLOCK_H

#include <stdint.h>
#include <sys/time.h>

uint64_t clock_now_ms(void);

/* Precise monotonic microseconds, for what the coarse clock's ticks
 * (several ms) would hide: how long a backend connect took. */
uint64_t clock_now_us(void);

struct timeval clock_tv(uint64_t ms);

#endif
