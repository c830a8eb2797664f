/*
 * rng - splitmix64, a small deterministic generator (see rng.h)
 */
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "rng.h"

/* mx_rng_seed - start the generator at seed */
void
mx_rng_seed(struct mx_rng *rng, uint64_t seed)
{
	rng->state = seed;
}

/* mx_rng_seed_fresh - a seed nobody can guess twice (R2: each run differs) */
void
mx_rng_seed_fresh(struct mx_rng *rng)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	mx_rng_seed(rng, seed);
}

/* mx_rng_next - next 64 random bits (splitmix64) */
uint64_t
mx_rng_next(struct mx_rng *rng)
{
	uint64_t z = (rng->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* mx_rng_below - uniform integer in [0, n) by rejection sampling */
uint32_t
mx_rng_below(struct mx_rng *rng, uint32_t n)
{
	uint32_t limit, x;

	if (n <= 1)
		return 0;
	limit = (uint32_t)(0x100000000ULL - (0x100000000ULL % n));	/* multiple of n */
	do {
		x = (uint32_t)(mx_rng_next(rng) >> 32);
	} while (limit != 0 && x >= limit);
	return x % n;
}
