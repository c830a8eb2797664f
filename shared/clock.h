/*
 * clock - the two clocks mxtier reads, in milliseconds
 *
 * Monotonic time for deadlines and ticks, wall time (Unix ms) for the
 * journal; any clock in nanoseconds for the stage timings of make bench. The policy modules never call these: the programs and the I/O
 * modules (resolve, smtp, journal) do, and hand times to the rest.
 */
#ifndef MXTIER_CLOCK_H
#define MXTIER_CLOCK_H

#include <stdint.h>
#include <time.h>

/* mx_clock_mono_ms - CLOCK_MONOTONIC in milliseconds */
int64_t	mx_clock_mono_ms(void);

/* mx_clock_wall_ms - Unix time in milliseconds */
int64_t	mx_clock_wall_ms(void);

/* mx_clock_ns - clock id (CLOCK_PROCESS_CPUTIME_ID, ...) in nanoseconds, 0 on error */
int64_t	mx_clock_ns(clockid_t id);

#endif
