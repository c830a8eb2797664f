/*
 * fuzz_smtpreply - libFuzzer target for the incremental SMTP reply parser
 *
 * Input: octet 0 says how many chunk sizes follow (0..7); each of those
 * octets is one chunk size (0 means 1). The rest is what the server sent.
 * The stream is fed in chunks of those sizes, in turn, the way reads from a
 * socket arrive; after a complete reply (DONE) the parser starts the next
 * reply on the octets left over (pipelining), and after an ERROR it starts
 * afresh as well, so one input covers many replies.
 *
 * Rules checked (abort() on any broken one):
 *   - *used never exceeds the chunk; MORE takes the whole chunk; DONE takes
 *     at least the final "\n"
 *   - a DONE reply has a code 200..599 and 1..MX_SMTP_REPLY_LINES lines;
 *     text, enhanced and every line keyword are NUL-terminated inside their
 *     arrays; text holds no control octet but tab; an enhanced code starts
 *     with the class of the reply code; size is -1 or not negative
 *   - an ERROR says why
 *   - chunking does not matter: the sequence of outcomes equals the one
 *     from feeding the whole stream at once
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "smtpreply.h"

#define MAX_OUTCOMES 4096

/* check - abort with a message when a rule is broken */
#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_smtpreply: broken rule: %s\n", #cond); \
		abort(); \
	} \
} while (0)

/* One reply or error, reduced to what must not depend on chunking. */
struct outcome {
	enum mx_smtp_parse rc;
	size_t	end;			/* stream offset after the octets it took */
	int	code;
	int	nlines;
	uint64_t hash;			/* of text, enhanced, lines, size */
};

/* check_reply - the rules of a complete reply; returns its hash */
static uint64_t
check_reply(const struct mx_smtp_reply *r)
{
	uint64_t h = FUZZ_FNV_START;
	size_t	tlen, i;
	int	l;

	check(r->code >= 200 && r->code <= 599);
	check(r->nlines >= 1 && r->nlines <= MX_SMTP_REPLY_LINES);
	check(memchr(r->text, '\0', sizeof(r->text)) != NULL);
	check(memchr(r->enhanced, '\0', sizeof(r->enhanced)) != NULL);
	tlen = strlen(r->text);
	for (i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)r->text[i];

		check(c == '\t' || (c >= 0x20 && c != 0x7f));
	}
	if (r->enhanced[0] != '\0')
		check(r->enhanced[0] == '0' + r->code / 100 && r->enhanced[1] == '.');
	check(r->size >= -1);
	h = fuzz_fnv(h, r->text, tlen + 1);
	h = fuzz_fnv(h, r->enhanced, strlen(r->enhanced) + 1);
	for (l = 0; l < r->nlines; l++) {
		check(memchr(r->lines[l], '\0', sizeof(r->lines[l])) != NULL);
		h = fuzz_fnv(h, r->lines[l], strlen(r->lines[l]) + 1);
	}
	h = fuzz_fnv(h, &r->size, sizeof(r->size));
	/* the accessors must cope with any reply */
	(void)mx_smtp_reply_has(r, "PIPELINING");
	(void)mx_smtp_reply_has(r, "");
	check(mx_smtp_reply_param(r, "SIZE") >= -1);
	check(mx_smtp_reply_param(r, "8BITMIME") == -1);
	return h;
}

/*
 * run - feed buf in chunks (sizes cycling through chunks[], or everything at
 * once when nchunks is 0) and record the outcomes; returns how many
 */
static size_t
run(struct mx_smtp_parser *p, const char *buf, size_t len, const uint8_t *chunks,
    size_t nchunks, struct outcome *out)
{
	size_t	off = 0, k = 0, n = 0;
	char	why[128];

	mx_smtp_parser_init(p);
	while (off < len && n < MAX_OUTCOMES) {
		size_t	want = len - off, used = (size_t)-1;
		enum mx_smtp_parse rc;

		if (nchunks > 0) {
			want = chunks[k++ % nchunks];
			if (want == 0)
				want = 1;
		}
		if (want > len - off)
			want = len - off;
		why[0] = '\0';
		rc = mx_smtp_parser_feed(p, buf + off, want, &used, why, sizeof(why));
		check(used <= want);
		switch (rc) {
		case MX_SMTP_PARSE_MORE:
			check(used == want);
			off += used;
			break;
		case MX_SMTP_PARSE_DONE:
			check(used >= 1 && buf[off + used - 1] == '\n');
			off += used;
			out[n].rc = rc;
			out[n].end = off;
			out[n].code = p->reply.code;
			out[n].nlines = p->reply.nlines;
			out[n].hash = check_reply(&p->reply);
			n++;
			mx_smtp_parser_init(p);
			break;
		case MX_SMTP_PARSE_ERROR:
			check(why[0] != '\0' && memchr(why, '\0', sizeof(why)) != NULL);
			off += used;
			memset(&out[n], 0, sizeof(out[n]));
			out[n].rc = rc;
			out[n].end = off;
			n++;
			mx_smtp_parser_init(p);
			break;
		default:
			check(!"an outcome outside the enum");
		}
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct outcome a[MAX_OUTCOMES], b[MAX_OUTCOMES];
	struct mx_smtp_parser *p;
	size_t	nchunks, na, nb, i;
	const uint8_t *chunks;
	char   *stream;
	size_t	len;

	if (size < 1 || size > 65536)
		return 0;
	nchunks = data[0] % 8;
	if (size < 1 + nchunks)
		return 0;
	chunks = data + 1;
	len = size - 1 - nchunks;
	/* a heap copy of exactly the stream, so reading past it is caught */
	if ((stream = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(stream, data + 1 + nchunks, len);
	if ((p = malloc(sizeof(*p))) == NULL) {
		free(stream);
		return 0;
	}
	na = run(p, stream, len, chunks, nchunks, a);
	nb = run(p, stream, len, NULL, 0, b);
	check(na == nb);
	for (i = 0; i < na; i++)
		check(a[i].rc == b[i].rc && a[i].end == b[i].end && a[i].code == b[i].code &&
		      a[i].nlines == b[i].nlines && a[i].hash == b[i].hash);
	free(p);
	free(stream);
	return 0;
}
