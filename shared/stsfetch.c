/*
 * stsfetch - fetch an MTA-STS policy over HTTPS, and the policy cache step
 * (see stsfetch.h)
 *
 * libcurl is loaded with dlopen() on the first fetch and never unloaded;
 * only the few functions below are used, through a typed table. Its
 * headers give the constants; nothing links against it. Environment
 * proxies are switched off (a policy must come from the policy host
 * itself), as are redirects (RFC 8461 3.3) and every protocol but HTTPS.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>

#include "stsfetch.h"

#define LIBCURL_SONAME "libcurl.so.4"
#define STS_DEFAULT_TIMEOUT_MS 60000
#define STS_DEFAULT_MAX_SIZE 65536

/* The functions used, resolved on first use. */
static struct {
	CURLcode (*global_init)(long flags);
	CURL   *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void	(*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void	(*slist_free_all)(struct curl_slist *l);
} curl;
static bool tried, loaded;
static char load_error[256];

/* load - dlopen libcurl once and resolve the table; false and load_error when it cannot */
static bool
load(void)
{
	static const struct {
		const char *name;
		void  **slot;
	} entries[] = {
		{ "curl_global_init", (void **)&curl.global_init },
		{ "curl_easy_init", (void **)&curl.easy_init },
		{ "curl_easy_setopt", (void **)&curl.easy_setopt },
		{ "curl_easy_perform", (void **)&curl.easy_perform },
		{ "curl_easy_getinfo", (void **)&curl.easy_getinfo },
		{ "curl_easy_cleanup", (void **)&curl.easy_cleanup },
		{ "curl_easy_strerror", (void **)&curl.easy_strerror },
		{ "curl_slist_append", (void **)&curl.slist_append },
		{ "curl_slist_free_all", (void **)&curl.slist_free_all },
	};
	const char *why;
	void   *h;
	size_t	i;

	if (tried)
		return loaded;
	tried = true;
	if ((h = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		snprintf(load_error, sizeof(load_error), "cannot load libcurl for MTA-STS "
			 "policy fetches: %s", why != NULL ? why : LIBCURL_SONAME);
		return false;
	}
	for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		/* dlsym returns void *; POSIX guarantees it converts to a function pointer */
		if ((*entries[i].slot = dlsym(h, entries[i].name)) == NULL) {
			snprintf(load_error, sizeof(load_error), "cannot load libcurl: %s has no %s",
				 LIBCURL_SONAME, entries[i].name);
			memset(&curl, 0, sizeof(curl));
			return false;
		}
	}
	if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_error, sizeof(load_error), "libcurl: curl_global_init failed");
		return false;
	}
	loaded = true;
	return true;
}

/* mx_sts_fetch_failure_name - the RFC 8460 result type of a failure */
const char *
mx_sts_fetch_failure_name(enum mx_sts_fetch_result r)
{
	switch (r) {
	case MX_STS_FETCH_ERROR:
		return "sts-policy-fetch-error";
	case MX_STS_FETCH_INVALID:
		return "sts-policy-invalid";
	case MX_STS_FETCH_WEBPKI:
		return "sts-webpki-invalid";
	case MX_STS_FETCHED:
	default:
		return "";
	}
}

/* The body as it arrives. */
struct body {
	char   *buf;
	size_t	len;
	size_t	max;
	bool	too_big;
};

/* on_data - libcurl's write callback: keep the body, abort past max */
static size_t
on_data(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t	len = size * n;

	if (len > b->max - b->len) {
		b->too_big = true;
		return 0;	/* CURLE_WRITE_ERROR */
	}
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	return len;
}

/* is_text_plain - Content-Type "text/plain", any parameters after ";" */
static bool
is_text_plain(const char *ct)
{
	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "text/plain", 10) != 0)
		return false;
	ct += 10;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* ip_text - an address for a URL host or CURLOPT_RESOLVE: IPv6 in brackets */
static void
ip_text(const struct mx_ip *ip, char *out, size_t len)
{
	char	t[MX_IP_TEXT_MAX];

	mx_ip_format(ip, t, sizeof(t));
	if (ip->family == AF_INET6)
		snprintf(out, len, "[%s]", t);
	else
		snprintf(out, len, "%s", t);
}

/* describe - why in words for a libcurl failure */
static enum mx_sts_fetch_result
describe(CURL *c, CURLcode rc, const char *host, const char *addrs, int port,
	 int timeout_ms, const struct body *b, const char *errbuf, char *why, size_t whylen)
{
	char   *ip = NULL;
	long	oserr = 0;
	char	where[MX_DOMAIN_MAX + 80];
	const char *detail = errbuf[0] != '\0' ? errbuf : curl.easy_strerror(rc);

	curl.easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip);
	curl.easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
	if (ip != NULL && *ip != '\0')
		snprintf(where, sizeof(where), "%s[%s]:%d", host, ip, port);
	else
		snprintf(where, sizeof(where), "%s[%.60s]:%d", host, addrs, port);
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
	case CURLE_SSL_CACERT:
#endif
		snprintf(why, whylen, "certificate verify failed: %s: %s", where, detail);
		return MX_STS_FETCH_WEBPKI;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
			snprintf(why, whylen, "policy larger than %zu octets", b->max);
			return MX_STS_FETCH_ERROR;
		}
		break;
	case CURLE_COULDNT_CONNECT:
		snprintf(why, whylen, "connect to %s: %s", where,
			 oserr != 0 ? strerror((int)oserr) : detail);
		return MX_STS_FETCH_ERROR;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(why, whylen, "no policy from %s within %d ms", where, timeout_ms);
		return MX_STS_FETCH_ERROR;
	case CURLE_SSL_CACERT_BADFILE:
		/* our own CA file or folder: not the policy host's fault */
		snprintf(why, whylen, "cannot use the CA certificates: %s", detail);
		return MX_STS_FETCH_ERROR;
	default:
		break;
	}
	snprintf(why, whylen, "fetch from %s: %s", where, detail);
	return MX_STS_FETCH_ERROR;
}

/* mx_sts_fetch - fetch and parse the policy of domain from one of ips */
enum mx_sts_fetch_result
mx_sts_fetch(const struct mx_sts_fetch_opts *o, const char *domain,
	     const struct mx_ip *ips, size_t nips,
	     struct mx_sts_policy *out, char *why, size_t whylen)
{
	char	host[MX_DOMAIN_MAX + 16], url[MX_DOMAIN_MAX + 80], errbuf[CURL_ERROR_SIZE];
	char	resolve[MX_DOMAIN_MAX + 32 + 8 * (MX_IP_TEXT_MAX + 3)], a[MX_IP_TEXT_MAX + 3];
	char	pwhy[200], *ctype = NULL;
	struct curl_slist *rl = NULL;
	struct body b = { 0 };
	enum mx_sts_fetch_result res = MX_STS_FETCH_ERROR;
	int	port = o != NULL && o->port > 0 ? o->port : 443;
	int	timeout_ms = o != NULL && o->timeout_ms > 0 ? o->timeout_ms : STS_DEFAULT_TIMEOUT_MS;
	long	status = 0;
	size_t	i, off, addrs_off;
	CURLcode rc;
	CURL   *c;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	snprintf(out->domain, sizeof(out->domain), "%s", domain);
	if (!load()) {
		snprintf(why, whylen, "%s", load_error);
		return MX_STS_FETCH_ERROR;
	}
	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	if (strlen(host) > MX_DOMAIN_MAX) {
		snprintf(why, whylen, "%s is longer than a domain name may be", host);
		return MX_STS_FETCH_ERROR;
	}
	if (nips == 0) {
		snprintf(why, whylen, "no address for %s", host);
		return MX_STS_FETCH_ERROR;
	}
	if (port == 443)
		snprintf(url, sizeof(url), "https://%s/.well-known/mta-sts.txt", host);
	else
		snprintf(url, sizeof(url), "https://%s:%d/.well-known/mta-sts.txt", host, port);
	off = (size_t)snprintf(resolve, sizeof(resolve), "%s:%d:", host, port);
	addrs_off = off;
	for (i = 0; i < nips && i < 8; i++) {
		ip_text(&ips[i], a, sizeof(a));
		off += (size_t)snprintf(resolve + off, sizeof(resolve) - off, "%s%s",
					i > 0 ? "," : "", a);
	}
	b.max = o != NULL && o->max_size > 0 ? o->max_size : STS_DEFAULT_MAX_SIZE;
	if ((b.buf = malloc(b.max + 1)) == NULL ||
	    (rl = curl.slist_append(NULL, resolve)) == NULL ||
	    (c = curl.easy_init()) == NULL) {
		free(b.buf);
		curl.slist_free_all(rl);
		snprintf(why, whylen, "out of memory");
		return MX_STS_FETCH_ERROR;
	}
	errbuf[0] = '\0';
	curl.easy_setopt(c, CURLOPT_URL, url);
	curl.easy_setopt(c, CURLOPT_RESOLVE, rl);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl.easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl.easy_setopt(c, CURLOPT_PROXY, "");
	curl.easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o != NULL && o->ca_file != NULL && o->ca_file[0] != '\0')
		curl.easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	if (o != NULL && o->ca_path != NULL && o->ca_path[0] != '\0')
		curl.easy_setopt(c, CURLOPT_CAPATH, o->ca_path);
	curl.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)b.max);
	curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl.easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl.easy_setopt(c, CURLOPT_USERAGENT, "mxtier/" PACKAGE_VERSION);
	rc = curl.easy_perform(c);
	if (rc != CURLE_OK) {
		res = describe(c, rc, host, resolve + addrs_off, port, timeout_ms, &b, errbuf,
			       why, whylen);
		goto done;
	}
	curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl.easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
	if (status != 200) {
		snprintf(why, whylen, "HTTP %ld%s", status, status >= 300 && status < 400 ?
			 " (a redirect: RFC 8461 3.3 forbids following it)" : "");
		goto done;
	}
	if (!is_text_plain(ctype)) {
		snprintf(why, whylen, "Content-Type is %.80s, not text/plain",
			 ctype != NULL ? ctype : "missing");
		goto done;
	}
	if (!mx_sts_policy_parse(b.buf, b.len, out, pwhy, sizeof(pwhy))) {
		snprintf(why, whylen, "invalid policy: %s", pwhy);
		res = MX_STS_FETCH_INVALID;
		goto done;
	}
	res = MX_STS_FETCHED;
done:
	curl.easy_cleanup(c);
	curl.slist_free_all(rl);
	free(b.buf);
	return res;
}

/* say - snprintf for sentences that may be cut short at the buffer size */
static void __attribute__((format(printf, 3, 4)))
say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* stamp - a Unix ms time as "YYYY-MM-DD HH:MM:SS UTC" */
static const char *
stamp(int64_t ms, char *buf, size_t len)
{
	time_t	t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%lld ms", (long long)ms);
	return buf;
}

/* resolve_policy_host - addresses of mta-sts.DOMAIN with our resolver; count, or 0 (why) */
static size_t
resolve_policy_host(const struct mx_resolver_opts *ro, const char *domain,
		    struct mx_ip *ips, size_t max, char *why, size_t whylen)
{
	char	host[MX_DOMAIN_MAX + 16], err[200];
	struct mx_dns_result *r;
	struct mx_dns_addrset *s;
	size_t	i, n = 0;

	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	if (ro == NULL) {
		snprintf(why, whylen, "no resolver to look up %s", host);
		return 0;
	}
	if ((r = mx_resolve_addresses(ro, host, err, sizeof(err))) == NULL) {
		say(why, whylen, "cannot look up %s: %s", host, err);
		return 0;
	}
	s = mx_dns_result_find_set(r, host);
	if (s == NULL && r->nsets > 0)
		s = &r->sets[0];
	for (i = 0; s != NULL && i < s->naddrs && n < max; i++)
		ips[n++] = s->addrs[i].ip;
	if (n == 0) {
		if (s != NULL)
			say(why, whylen, "no address for %s (A %s, AAAA %s)%s%s", host,
				 mx_dns_status_name(s->a_status), mx_dns_status_name(s->aaaa_status),
				 s->detail[0] != '\0' ? ": " : "", s->detail);
		else
			snprintf(why, whylen, "no address for %s", host);
	}
	mx_dns_result_free(r);
	return n;
}

/* use_cached - apply the cached policy */
static void
use_cached(struct mx_sts_state *state, const struct mx_sts_policy *cached)
{
	state->applies = true;
	state->policy = *cached;
}

/* mx_sts_obtain - the MTA-STS policy for dns->domain: cache, fetch, or none */
void
mx_sts_obtain(struct mx_journal *journal, const struct mx_resolver_opts *ro,
	      const struct mx_sts_fetch_opts *fo, const struct mx_dns_result *dns,
	      int64_t now_ms, bool may_fetch, struct mx_sts_state *state)
{
	struct mx_sts_policy *cached = NULL, cache;
	struct mx_ip ips[8];
	char	id[MX_STS_ID_MAX + 1], why[300], twhy[120], when[40];
	const char *d = dns->domain, *txt_id = NULL;
	enum mx_sts_fetch_result res;
	enum mx_sts_step step;
	size_t	nips;
	bool	temporary;

	memset(state, 0, sizeof(*state));
	if (journal != NULL && mx_journal_get_sts(journal, d, &cache))
		cached = &cache;
	temporary = mx_dns_status_is_temporary(dns->sts_status);
	if (dns->sts_status == MX_DNS_OK && dns->sts_records == 1 && dns->sts_txt[0] != '\0') {
		if (mx_sts_txt_id(dns->sts_txt, id, sizeof(id), twhy, sizeof(twhy)))
			txt_id = id;
	}
	step = mx_sts_next_step(cached, txt_id, temporary, now_ms);

	if (step == MX_STS_STEP_CACHED) {
		use_cached(state, cached);
		if (txt_id != NULL)
			say(state->note, sizeof(state->note), "MTA-STS policy of %s (id %s, "
				 "mode %s) from the cache, valid until %s", d, cached->id,
				 mx_sts_mode_name(cached->mode), stamp(cached->fetched_ms +
				 cached->max_age * 1000, when, sizeof(when)));
		else
			say(state->note, sizeof(state->note), "MTA-STS policy of %s (id %s, "
				 "mode %s) from the cache although _mta-sts.%s %s; it holds until "
				 "%s (RFC 8461 5.1)", d, cached->id, mx_sts_mode_name(cached->mode), d,
				 dns->sts_records > 1 ? "has several v=STSv1 records" :
				 dns->sts_status == MX_DNS_OK && dns->sts_records == 1 ?
				 "has an invalid record" : temporary ? "could not be looked up" :
				 dns->sts_status == MX_DNS_PENDING ? "was not looked up" :
				 "has no record now", stamp(cached->fetched_ms + cached->max_age * 1000,
				 when, sizeof(when)));
		return;
	}
	if (step == MX_STS_STEP_NONE) {
		if (dns->sts_records > 1)
			say(state->note, sizeof(state->note), "_mta-sts.%s has %d v=STSv1 "
				 "records: no MTA-STS policy applies (RFC 8461 3.1)", d,
				 dns->sts_records);
		else if (dns->sts_status == MX_DNS_OK && dns->sts_records == 1)
			say(state->note, sizeof(state->note), "the MTA-STS record of %s is "
				 "invalid (%s): no MTA-STS policy applies", d, twhy);
		else if (temporary)
			say(state->note, sizeof(state->note), "the lookup of _mta-sts.%s "
				 "failed (%s) and nothing is cached: no MTA-STS policy applies", d,
				 mx_dns_status_name(dns->sts_status));
		else if (cached != NULL)
			say(state->note, sizeof(state->note), "the cached MTA-STS policy of %s "
				 "expired and _mta-sts.%s has no record: no MTA-STS policy applies",
				 d, d);
		/* no record, nothing cached (or not asked): nothing to say */
		return;
	}

	/* MX_STS_STEP_FETCH: a new id, an expired policy or none cached */
	if (!may_fetch) {
		if (cached != NULL && !mx_sts_expired(cached, now_ms)) {
			use_cached(state, cached);
			say(state->note, sizeof(state->note), "MTA-STS policy of %s (id %s, "
				 "mode %s) from the cache; the record now says id %s, not fetched "
				 "here (cache only)", d, cached->id, mx_sts_mode_name(cached->mode),
				 txt_id);
		} else
			say(state->note, sizeof(state->note), "%s publishes an MTA-STS policy "
				 "(id %s) but none is cached and this view does not fetch: none "
				 "applied", d, txt_id);
		return;
	}
	nips = resolve_policy_host(ro, d, ips, sizeof(ips) / sizeof(ips[0]), why, sizeof(why));
	if (nips == 0)
		res = MX_STS_FETCH_ERROR;
	else
		res = mx_sts_fetch(fo, d, ips, nips, &state->policy, why, sizeof(why));
	if (res == MX_STS_FETCHED) {
		state->applies = true;
		state->fetched = true;
		snprintf(state->policy.domain, sizeof(state->policy.domain), "%s", d);
		snprintf(state->policy.id, sizeof(state->policy.id), "%s", txt_id);
		state->policy.fetched_ms = now_ms;
		if (journal != NULL)
			(void)mx_journal_put_sts(journal, &state->policy);	/* a cache: best effort */
		say(state->note, sizeof(state->note), "MTA-STS policy of %s fetched (id %s, "
			 "mode %s, max_age %lld, %zu mx pattern%s)", d, txt_id,
			 mx_sts_mode_name(state->policy.mode), (long long)state->policy.max_age,
			 state->policy.nmx, state->policy.nmx == 1 ? "" : "s");
		return;
	}
	snprintf(state->failure, sizeof(state->failure), "%s", mx_sts_fetch_failure_name(res));
	if (cached != NULL && !mx_sts_expired(cached, now_ms)) {
		use_cached(state, cached);
		say(state->note, sizeof(state->note), "fetching the MTA-STS policy of %s "
			 "failed (%s: %s); the cached policy (id %s, mode %s) applies until it "
			 "expires", d, state->failure, why, cached->id,
			 mx_sts_mode_name(cached->mode));
	} else {
		memset(&state->policy, 0, sizeof(state->policy));
		say(state->note, sizeof(state->note), "fetching the MTA-STS policy of %s "
			 "failed (%s: %s): no MTA-STS policy applies", d, state->failure, why);
	}
}
