/*
 * fuzz_input - take typed values from a fuzzer's byte string
 *
 * A small cursor over the input: integers, bounded lengths, choices and
 * NUL-terminated strings. Reading past the end yields zeros and empty
 * strings, so every byte string decodes to some value and a shorter input
 * is a simpler case. Also FNV-1a, with which targets compare the results of
 * two runs over the same input. Header-only; each fuzz target includes it
 * once.
 */
#ifndef MXTIER_FUZZ_INPUT_H
#define MXTIER_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fuzz_input {
	const uint8_t *p;
	size_t	left;
};

/* fuzz_u8 - next octet, 0 at the end */
static inline uint8_t
fuzz_u8(struct fuzz_input *in)
{
	uint8_t	b;

	if (in->left == 0)
		return 0;
	b = *in->p++;
	in->left--;
	return b;
}

/* fuzz_u16 - next two octets, big-endian */
static inline uint16_t
fuzz_u16(struct fuzz_input *in)
{
	uint16_t hi = fuzz_u8(in);

	return (uint16_t)((hi << 8) | fuzz_u8(in));
}

/* fuzz_u32 - next four octets, big-endian */
static inline uint32_t
fuzz_u32(struct fuzz_input *in)
{
	uint32_t hi = fuzz_u16(in);

	return (hi << 16) | fuzz_u16(in);
}

/* fuzz_u64 - next eight octets, big-endian */
static inline uint64_t
fuzz_u64(struct fuzz_input *in)
{
	uint64_t hi = fuzz_u32(in);

	return (hi << 32) | fuzz_u32(in);
}

/* fuzz_below - a value in [0, n), n > 0 */
static inline unsigned
fuzz_below(struct fuzz_input *in, unsigned n)
{
	return n <= 256 ? fuzz_u8(in) % n : fuzz_u16(in) % n;
}

/* fuzz_bool - one octet's low bit */
static inline int
fuzz_bool(struct fuzz_input *in)
{
	return fuzz_u8(in) & 1;
}

/* fuzz_bytes - copy up to n octets into out (zero-filled past the end) */
static inline void
fuzz_bytes(struct fuzz_input *in, void *out, size_t n)
{
	size_t	k = n < in->left ? n : in->left;

	memcpy(out, in->p, k);
	memset((uint8_t *)out + k, 0, n - k);
	in->p += k;
	in->left -= k;
}

/*
 * fuzz_string - a length octet (capped at max) then that many octets, into
 * out (at least max + 1 bytes), NUL-terminated; an embedded NUL ends it early
 */
static inline const char *
fuzz_string(struct fuzz_input *in, char *out, size_t max)
{
	size_t	n = fuzz_u8(in), i;

	if (n > max)
		n = max;
	for (i = 0; i < n && in->left > 0; i++)
		out[i] = (char)fuzz_u8(in);
	out[i] = '\0';
	return out;
}

/* FUZZ_FNV_START - the FNV-1a offset basis, where a hash starts */
#define FUZZ_FNV_START 0xcbf29ce484222325ULL

/* fuzz_fnv - FNV-1a over n octets, continuing from h */
static inline uint64_t
fuzz_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n-- > 0)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return h;
}

#endif
