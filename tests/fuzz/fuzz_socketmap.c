/*
 * fuzz_socketmap - libFuzzer target for the route oracle's request loops
 * and framing: what an MTA (or anything else) may send to mxtier-pipe
 * --socketmap and --route-lines
 *
 * Input: octet 0 picks the request limit (max_request 1 + 8 * octet, or
 * 10000, mxtier-pipe's own, for 255), so that small limits split requests
 * across reads; the rest is the client's stream. It is fed three ways:
 *   1. through mx_netstring_take in a loop (the reference);
 *   2. through the real mx_serve_socketmap on a pipe (all of it written
 *      first, then the write side closed), with a callback that answers
 *      each request with a reply computed from it (a few of them 64 KiB);
 *   3. through the real mx_serve_lines the same way.
 * Then every request the reference found (up to 8) is also taken as a
 * transport or tls key: its words become the hosts and relays of a plan
 * made by hand, formatted by mx_oracle_format_transport, _route_line,
 * _host_tls and _level_tls into exact-sized buffers (ASan sees an overrun).
 *
 * Rules checked (abort() on any broken one):
 *   - socketmap: the loop answers exactly the requests the reference takes,
 *     in order, each reply framed as a netstring; it ends with EOF when the
 *     stream ends between requests, else with ERROR and a reason
 *   - lines: one reply line per request; requests hold no "\n" and are at
 *     most max_request + 32 octets; when no line is longer than
 *     max_request they are exactly the stream's lines ("\r" before "\n"
 *     dropped, the last one answered without its "\n")
 *   - formatting: NUL-terminated inside the buffer, no control octet, an
 *     answer cut by a small buffer is a prefix of the full one that ends
 *     at a host boundary, a route line is "" or ends in " byname"
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "netstring.h"
#include "oracle.h"
#include "serve.h"

#define STREAM_MAX	60000	/* under a pipe's capacity: written before serving */
#define MAX_REQS	20000
#define BIG_REPLIES	3	/* 64 KiB replies per input */
#define FORMAT_KEYS	8

/* check - abort with a message when a rule is broken */
#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_socketmap: broken rule: %s\n", #cond); \
		abort(); \
	} \
} while (0)

/* One request as the answer callback saw it. */
struct seen {
	size_t	len;
	uint64_t hash;
};

struct echo {
	struct seen reqs[MAX_REQS];
	size_t	n;
	int	big;			/* big replies given so far */
};

/* reply_of - the reply for a request; the same function for server and checker */
static void
reply_of(const char *req, size_t len, int *big, char *reply, size_t replylen)
{
	if (len >= 2 && req[0] == 'B' && req[1] == '!' && *big < BIG_REPLIES) {
		(*big)++;
		memset(reply, 'x', replylen - 1);
		reply[replylen - 1] = '\0';
		return;
	}
	snprintf(reply, replylen, "OK %zu %016llx", len,
		 (unsigned long long)fuzz_fnv(FUZZ_FNV_START, req, len));
}

/* answer - the serve callback: record, then reply */
static void
answer(void *arg, const char *req, size_t len, char *reply, size_t replylen)
{
	struct echo *e = arg;

	check(replylen > 0);
	if (e->n < MAX_REQS) {
		e->reqs[e->n].len = len;
		e->reqs[e->n].hash = fuzz_fnv(FUZZ_FNV_START, req, len);
	}
	e->n++;
	reply_of(req, len, &e->big, reply, replylen);
}

/* serve - run one loop over stream; the replies are left in *out (malloc'd) */
static enum mx_serve_end
serve(bool lines, const uint8_t *stream, size_t len, size_t max, struct echo *e, char **out,
      size_t *outlen, char *why, size_t whylen)
{
	int	p[2], mfd;
	struct mx_serve_opts o;
	enum mx_serve_end end;
	off_t	size;

	check(pipe(p) == 0);
	check(write(p[1], stream, len) == (ssize_t)len);
	close(p[1]);
	mfd = memfd_create("fuzz_socketmap", 0);
	check(mfd >= 0);
	memset(&o, 0, sizeof(o));
	o.in_fd = p[0];
	o.out_fd = mfd;
	o.idle_ms = 2000;
	o.request_ms = 2000;
	o.write_ms = 2000;
	o.max_request = max;
	why[0] = '\0';
	end = lines ? mx_serve_lines(&o, answer, e, why, whylen) :
	    mx_serve_socketmap(&o, answer, e, why, whylen);
	close(p[0]);
	size = lseek(mfd, 0, SEEK_END);
	check(size >= 0);
	*outlen = (size_t)size;
	*out = malloc(*outlen + 1);
	check(*out != NULL);
	check(pread(mfd, *out, *outlen, 0) == (ssize_t)*outlen);
	(*out)[*outlen] = '\0';
	close(mfd);
	return end;
}

/* check_socketmap - the netstring loop against the reference */
static void
check_socketmap(const uint8_t *stream, size_t len, size_t max)
{
	static struct echo e;
	static char expect[MX_SERVE_REPLY_MAX];
	const char *buf = (const char *)stream, *data;
	size_t	off = 0, n = 0, dlen, used, outlen, ooff = 0, i;
	enum mx_netstring_status st = MX_NETSTRING_MORE;
	enum mx_serve_end end;
	char	why[256], *out;
	int	big = 0;

	/* the reference: requests until the stream ends or breaks */
	while (off < len) {
		st = mx_netstring_take(buf + off, len - off, max, &data, &dlen, &used, why,
				       sizeof(why));
		if (st != MX_NETSTRING_OK)
			break;
		check(used == dlen + (size_t)(data - (buf + off)) + 1 && used <= len - off);
		off += used;
		n++;
	}
	memset(&e, 0, sizeof(e));
	end = serve(false, stream, len, max, &e, &out, &outlen, why, sizeof(why));
	check(e.n == n);
	if (off == len) {
		check(end == MX_SERVE_EOF);
	} else {
		check(end == MX_SERVE_ERROR);
		check(why[0] != '\0');
	}
	/* the replies, in order, each a netstring of reply_of(request) */
	off = 0;
	for (i = 0; i < n; i++) {
		const char *reply;
		size_t	rlen;

		st = mx_netstring_take(buf + off, len - off, max, &data, &dlen, &used, why,
				       sizeof(why));
		check(st == MX_NETSTRING_OK);
		off += used;
		reply_of(data, dlen, &big, expect, sizeof(expect));
		st = mx_netstring_take(out + ooff, outlen - ooff, MX_SERVE_REPLY_MAX, &reply,
				       &rlen, &used, why, sizeof(why));
		check(st == MX_NETSTRING_OK);
		check(rlen == strlen(expect) && memcmp(reply, expect, rlen) == 0);
		ooff += used;
	}
	check(ooff == outlen);
	free(out);
}

/* check_lines - the line loop: one reply per request; exact when no line is too long */
static void
check_lines(const uint8_t *stream, size_t len, size_t max)
{
	static struct echo e;
	static char expect[MX_SERVE_REPLY_MAX];
	const char *buf = (const char *)stream;
	size_t	outlen, ooff = 0, i, start, nlines = 0;
	bool	long_line = false;
	enum mx_serve_end end;
	char	why[256], *out;
	int	big = 0;

	memset(&e, 0, sizeof(e));
	end = serve(true, stream, len, max, &e, &out, &outlen, why, sizeof(why));
	check(end == MX_SERVE_EOF || end == MX_SERVE_ERROR);
	if (e.n > MAX_REQS) {
		free(out);
		return;
	}
	/* every reply line is the reply of the request in the same place */
	for (i = 0; i < e.n; i++) {
		const char *nl = memchr(out + ooff, '\n', outlen - ooff);
		size_t	l;

		check(nl != NULL);
		l = (size_t)(nl - (out + ooff));
		check(e.reqs[i].len <= max + 32);
		if (l != 0 && out[ooff] == 'x') {
			check(l == sizeof(expect) - 2);
		} else {
			check(out[ooff + l] == '\n');
			out[ooff + l] = '\0';
			check(strncmp(out + ooff, "OK ", 3) == 0);
			check(strtoull(out + ooff + 3, NULL, 10) == e.reqs[i].len);
		}
		ooff += l + 1;
	}
	check(ooff == outlen);
	/* the stream's lines, when none is over the limit */
	for (start = 0; start < len; nlines++) {
		const char *nl = memchr(buf + start, '\n', len - start);
		size_t	end_ = nl ? (size_t)(nl - buf) : len;

		if (end_ - start > max)
			long_line = true;
		start = end_ + 1;
	}
	if (!long_line) {
		check(e.n == nlines);
		for (i = 0, start = 0; i < nlines; i++) {
			const char *nl = memchr(buf + start, '\n', len - start);
			size_t	end_ = nl ? (size_t)(nl - buf) : len, l = end_ - start;

			if (l > 0 && buf[start + l - 1] == '\r')
				l--;
			check(e.reqs[i].len == l);
			check(e.reqs[i].hash == fuzz_fnv(FUZZ_FNV_START, buf + start, l));
			start = end_ + 1;
		}
		check(end == MX_SERVE_EOF);
	}
	(void)expect;
	(void)big;
	free(out);
}

/* --- the pure formatters on key-shaped input -------------------------------- */

#define FP_HOSTS 6
#define FP_RELAYS 4

/* no_controls - a reply holds no control octet */
static void
no_controls(const char *s)
{
	for (; *s != '\0'; s++)
		check((unsigned char)*s >= 0x20 && *s != 0x7f);
}

/* guarded - an exact-sized heap buffer (ASan reports a write past it) */
static char *
guarded(size_t len)
{
	char   *b = malloc(len);

	check(b != NULL);
	memset(b, 0x5a, len);
	return b;
}

/* check_format - a plan made from key's words through every formatter */
static void
check_format(const char *key, size_t klen, uint64_t h)
{
	static const char *const statuses[] = { "", "5.1.10", "5.1.2", "4.4.3", "4.7.5", "5.4.6" };
	struct mx_plan plan;
	struct mx_plan_tier tiers[3];
	struct mx_plan_host hosts[FP_HOSTS];
	struct mx_plan_addr addrs[FP_HOSTS];
	struct mx_oracle_relay relays[FP_RELAYS];
	struct mx_oracle_hop hops[FP_HOSTS];
	size_t	nwords = 0, nhosts = 0, nrelays = 0, nhops, i, k, small, glen;
	char	word[MX_DOMAIN_MAX + 1], *full, *cut, *tls;
	int	port = (h & 1) ? 25 : (int)(h >> 8) % 65535 + 1;
	bool	last_space = true;

	memset(&plan, 0, sizeof(plan));
	memset(tiers, 0, sizeof(tiers));
	memset(hosts, 0, sizeof(hosts));
	memset(addrs, 0, sizeof(addrs));
	snprintf(plan.domain, sizeof(plan.domain), "example.test");
	plan.result = (enum mx_plan_result)((h >> 4) % 6);
	snprintf(plan.status, sizeof(plan.status), "%s", statuses[(h >> 12) % 6]);
	/* the message: the key's own octets, control characters and all */
	k = klen < sizeof(plan.message) - 1 ? klen : sizeof(plan.message) - 1;
	memcpy(plan.message, key, k);
	plan.message[k] = '\0';
	/* words of [a-z0-9.-:] become hosts (names) and relays (the rest) */
	for (i = 0, k = 0; i <= klen; i++) {
		char	c = i < klen ? key[i] : ' ';
		bool	keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		    c == '-' || c == ':';

		if (keep && k < MX_DOMAIN_MAX) {
			word[k++] = c;
			last_space = false;
			continue;
		}
		if (keep || last_space || k == 0)
			continue;
		word[k] = '\0';
		k = 0;
		last_space = true;
		if (nhosts < FP_HOSTS && strchr(word, ':') == NULL) {
			struct mx_plan_host *ho = &hosts[nhosts];

			snprintf(ho->name, sizeof(ho->name), "%s", word);
			ho->usable = ((h >> (16 + nhosts)) & 3) != 0;
			ho->tls = (enum mx_host_tls)((h >> (24 + nhosts)) % 7);
			ho->sts_check = ((h >> (32 + nhosts)) & 7) == 0;
			ho->tls_blocked = !ho->usable && ((h >> (40 + nhosts)) & 1);
			ho->addrs = &addrs[nhosts];
			ho->naddrs = 1;
			addrs[nhosts].usable = ((h >> (44 + nhosts)) & 3) != 0;
			snprintf(addrs[nhosts].text, sizeof(addrs[nhosts].text), "192.0.2.%zu", nhosts);
			nhosts++;
		} else if (nrelays < FP_RELAYS) {
			snprintf(relays[nrelays].host, sizeof(relays[nrelays].host), "%s", word);
			relays[nrelays].port = ((h >> (50 + nrelays)) & 1) ? 25 : 2525;
			nrelays++;
		}
		nwords++;
	}
	/* hosts into up to three tiers, in order */
	for (i = 0; i < nhosts; i++) {
		size_t	t = plan.ntiers == 0 ? 0 : plan.ntiers - 1;

		if (plan.ntiers == 0 || ((h >> (56 + i)) & 1)) {
			if (plan.ntiers < 3) {
				t = plan.ntiers++;
				tiers[t].hosts = &hosts[i];
				tiers[t].pref = (uint16_t)(10 * (t + 1));
			}
		}
		if (tiers[t].hosts + tiers[t].nhosts == &hosts[i])
			tiers[t].nhosts++;
	}
	plan.tiers = tiers;
	nhops = mx_oracle_order(&plan, NULL, NULL, hops, FP_HOSTS);
	check(nhops <= nhosts);
	for (i = 0; i < nhops; i++)
		check(hops[i].host->usable && !hops[i].backed_off);

	/* transport: full, then cut */
	full = guarded(70000);
	mx_oracle_format_transport(&plan, hops, nhops, relays, nrelays, port, "smtp", full, 70000);
	check(memchr(full, '\0', 70000) != NULL);
	no_controls(full);
	small = 1 + (size_t)((h >> 20) % (strlen(full) + 8));
	cut = guarded(small);
	mx_oracle_format_transport(&plan, hops, nhops, relays, nrelays, port, "smtp", cut, small);
	check(memchr(cut, '\0', small) != NULL);
	glen = strlen(cut);
	if (strncmp(full, cut, glen) != 0)
		fprintf(stderr, "full \"%s\"\ncut  \"%s\" (%zu)\n", full, cut, small);
	check(strncmp(full, cut, glen) == 0);
	if (plan.result == MX_PLAN_OK && nhops + nrelays > 0 && glen > 8)
		check(full[glen] == '\0' || strncmp(full + glen, ", ", 2) == 0);
	free(cut);

	/* route line: full, then cut */
	mx_oracle_format_route_line(&plan, hops, nhops, relays, nrelays, port, full, 70000);
	check(memchr(full, '\0', 70000) != NULL);
	no_controls(full);
	check(full[0] == '\0' || (strlen(full) > 7 && strcmp(full + strlen(full) - 7, " byname") == 0));
	if (plan.result != MX_PLAN_OK || nhops + nrelays == 0)
		check(full[0] == '\0');
	cut = guarded(small);
	mx_oracle_format_route_line(&plan, hops, nhops, relays, nrelays, port, cut, small);
	check(memchr(cut, '\0', small) != NULL);
	glen = strlen(cut);
	if (glen > 0) {
		check(glen > 7 && strcmp(cut + glen - 7, " byname") == 0);
		check(strncmp(full, cut, glen - 7) == 0);
		check(full[glen - 7] == ' ' || full[glen - 7] == ':');
	}
	free(cut);
	free(full);

	/* TLS entries of each host and the level's own */
	tls = guarded(600);
	for (i = 0; i < nhosts; i++) {
		int	rank = mx_oracle_host_tls(&plan, &hosts[i],
						  (enum mx_tls_level)((h >> 60) % 7), tls, 600);

		check(rank >= 0 && rank <= 6);
		check(memchr(tls, '\0', 600) != NULL && tls[0] != '\0');
		no_controls(tls);
	}
	mx_oracle_level_tls((enum mx_tls_level)((h >> 58) % 8), tls, 600);
	check(tls[0] != '\0');
	free(tls);
	(void)nwords;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *stream;
	const char *buf, *req;
	size_t	len, max, off = 0, dlen, used, n = 0;
	char	why[256];

	if (size == 0)
		return 0;
	max = data[0] == 255 ? 10000 : 1 + 8 * (size_t)data[0];
	stream = data + 1;
	len = size - 1 > STREAM_MAX ? STREAM_MAX : size - 1;
	buf = (const char *)stream;

	check_socketmap(stream, len, max);
	check_lines(stream, len, max);

	/* the requests as transport and tls keys ("NAME KEY": the key after the space) */
	while (off < len && n < FORMAT_KEYS &&
	       mx_netstring_take(buf + off, len - off, max, &req, &dlen, &used, why,
				 sizeof(why)) == MX_NETSTRING_OK) {
		const char *sp = memchr(req, ' ', dlen);
		const char *key = sp != NULL ? sp + 1 : req;
		size_t	klen = dlen - (size_t)(key - req);

		check_format(key, klen, fuzz_fnv(FUZZ_FNV_START, req, dlen));
		off += used;
		n++;
	}
	return 0;
}
