/*
 * rng - a small deterministic random number generator (splitmix64)
 *
 * The policy modules never call rand() or read the clock: they take a
 * struct mx_rng. A seed makes every shuffle reproducible (--seed N); the
 * programs seed it from getrandom() when no seed is given.
 */
#ifndef MXTIER_RNG_H
#define MXTIER_RNG_H

#include <stdint.h>

struct mx_rng {
	uint64_t state;
};

/* mx_rng_seed - start the generator at seed */
void	mx_rng_seed(struct mx_rng *rng, uint64_t seed);

/* mx_rng_next - next 64 random bits */
uint64_t mx_rng_next(struct mx_rng *rng);

/* mx_rng_seed_fresh - seed from getrandom() (the time and pid if it fails) */
void	mx_rng_seed_fresh(struct mx_rng *rng);

/* mx_rng_below - uniform integer in [0, n), n > 0, without modulo bias */
uint32_t mx_rng_below(struct mx_rng *rng, uint32_t n);

#endif
