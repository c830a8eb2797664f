/*
 * clock - monotonic and wall time in milliseconds (see clock.h)
 */
#include <time.h>

#include "clock.h"

/* read_ms - one clock in milliseconds */
static int64_t
read_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* mx_clock_mono_ms - CLOCK_MONOTONIC in milliseconds */
int64_t
mx_clock_mono_ms(void)
{
	return read_ms(CLOCK_MONOTONIC);
}

/* mx_clock_wall_ms - Unix time in milliseconds */
int64_t
mx_clock_wall_ms(void)
{
	return read_ms(CLOCK_REALTIME);
}

/* mx_clock_ns - any clock in nanoseconds */
int64_t
mx_clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
