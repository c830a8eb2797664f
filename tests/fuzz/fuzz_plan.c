/*
 * fuzz_plan - libFuzzer target for mx_plan_build() (rules R1-R10)
 *
 * The input decodes (fuzz_input.h) into the policy knobs, the machine's
 * interface addresses, the random seed and a struct mx_dns_result: an MX
 * status, MX records with arbitrary preferences and names (drawn from a
 * pool of realistic, odd and broken names, or raw octets), and address
 * sets with arbitrary statuses, CNAME targets and IPv4/IPv6 addresses. The
 * plan is built twice with the same seed, printed as text and as JSON, and
 * freed. Rules checked (abort() on any broken one):
 *   - tiers strictly ascending by preference, none empty, every host of a
 *     tier carries its preference, no exchange name twice (R1, R3)
 *   - every usable address belongs to a usable host; a usable host has a
 *     usable address, listed before its unusable ones; usable hosts come
 *     first in their tier
 *   - mx_plan_usable_addresses() <= policy.max_addresses (R10); at most
 *     max_mx_records hosts (R10)
 *   - result OK iff at least one usable address; status "" iff OK
 *   - a null MX plan has no usable address (R4); a failed MX lookup has no
 *     tiers (R6); implicit_mx iff the MX lookup said NODATA (R5)
 *   - no usable address in a disabled family or in ignore_networks, an
 *     IPv4-mapped one judged as the IPv4 address it carries (R8)
 *   - no usable host is this machine or an alias when cname_targets is
 *     strict (R9, R8); an exchange that is an IP address is never usable
 *   - the same seed gives the same plan; the JSON output parses
 *
 * With MXT_FUZZ_DUMP set in the environment it prints what each input
 * decodes to and the plan (as it does before aborting on a broken rule).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_input.h"
#include "plan.h"
#include "planfmt.h"

/* check - abort with a message (and the input and plan) when a rule is broken */
#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_plan: broken rule: %s (line %d)\n", #cond, __LINE__); \
		dump(); \
		abort(); \
	} \
} while (0)

static void dump(void);

#define MAX_LIST 4

static const char *const name_pool[] = {
	"mx1.example.org", "MX1.Example.ORG.", "mx2.example.org", "backup.example.net",
	"example.org", ".", "", "192.0.2.1", "[2001:db8::1]", "-bad.example.org",
	"mail.example.org", "alias.example.org", "a..b", "mx1.example.org..",
	"a-very-long-label-that-is-exactly-sixty-three-octets-long-abcdef.example",
	"mx2.example.org.",
};
#define NAME_POOL (sizeof(name_pool) / sizeof(name_pool[0]))

static const char *const domain_pool[] = { "example.org", "mx1.example.org", "mail.example.org" };

static const char *const ip_pool[] = {
	"192.0.2.1", "192.0.2.2", "127.0.0.1", "0.0.0.0", "10.1.2.3", "198.51.100.7",
	"2001:db8::1", "::1", "::", "fe80::1", "::ffff:127.0.0.1", "2001:db8::25",
};
#define IP_POOL (sizeof(ip_pool) / sizeof(ip_pool[0]))

static const char *const net_pool[] = {
	"127.0.0.0/8", "10.0.0.0/8", "192.0.2.0/24", "192.0.2.1", "::1/128",
	"2001:db8::/32", "0.0.0.0/0", "::/0",
};
#define NET_POOL (sizeof(net_pool) / sizeof(net_pool[0]))

/* take_name - a name from the pool, or raw octets (choice 15) into buf */
static const char *
take_name(struct fuzz_input *in, char *buf)
{
	unsigned i = fuzz_below(in, NAME_POOL + 1);

	if (i < NAME_POOL)
		return name_pool[i];
	return fuzz_string(in, buf, MX_DOMAIN_MAX + 1);
}

/* take_ip - an address from the pool, or raw octets of either family */
static void
take_ip(struct fuzz_input *in, struct mx_ip *ip)
{
	unsigned i = fuzz_below(in, IP_POOL + 2);

	memset(ip, 0, sizeof(*ip));
	if (i < IP_POOL) {
		mx_ip_parse(ip_pool[i], ip);
		return;
	}
	ip->family = i == IP_POOL ? AF_INET : AF_INET6;
	fuzz_bytes(in, ip->bytes, ip->family == AF_INET ? 4 : 16);
}

/* take_cidr - a network from the pool, or raw octets with a prefix that fits */
static void
take_cidr(struct fuzz_input *in, struct mx_cidr *net)
{
	unsigned i = fuzz_below(in, NET_POOL + 1);

	memset(net, 0, sizeof(*net));
	if (i < NET_POOL) {
		mx_cidr_parse(net_pool[i], net);
		return;
	}
	take_ip(in, &net->net);
	net->prefix = (int)fuzz_below(in, net->net.family == AF_INET ? 33 : 129);
}

/* Everything one input decodes to. */
struct world {
	struct mx_policy policy;
	struct mx_cidr ignore[MAX_LIST], local_addrs[MAX_LIST];
	char	local_names_buf[MAX_LIST][MX_DOMAIN_MAX + 1];
	char   *local_names[MAX_LIST];
	struct mx_ip ifaddrs[MAX_LIST];
	struct mx_plan_env env;
	uint64_t seed;
	struct mx_dns_result *dns;
};

/* decode - turn the input into a policy, an environment and a DNS result */
static bool
decode(struct fuzz_input *in, struct world *w)
{
	struct mx_policy *p = &w->policy;
	char	buf[MX_DOMAIN_MAX + 2], norm[MX_DOMAIN_MAX + 1], why[160];
	const char *domain;
	uint8_t	b;
	size_t	i, n;

	mx_policy_defaults(p);
	b = fuzz_u8(in);
	p->cname_targets = (b & 1) ? MX_CNAME_STRICT : MX_CNAME_LENIENT;
	p->randomize_addresses = (b & 2) != 0;
	p->loop_action = (b & 4) ? MX_LOOP_BOUNCE : MX_LOOP_DEFER;
	p->address_preference = (enum mx_addr_pref)fuzz_below(in, 3);
	p->inet_protocols = (enum mx_inet_protocols)fuzz_below(in, 3);
	p->max_addresses = 1 + (int)fuzz_below(in, 100);
	p->max_sessions = 1 + (int)fuzz_below(in, 100);
	b = fuzz_u8(in);
	p->max_mx_records = b >= 240 ? 1000 : 1 + b % 40;
	n = fuzz_below(in, MAX_LIST + 2);	/* MAX_LIST + 1: keep the defaults */
	if (n <= MAX_LIST) {
		for (i = 0; i < n; i++)
			take_cidr(in, &w->ignore[i]);
		p->ignore_networks = w->ignore;
		p->nignore_networks = n;
	}
	/* local names as the config hands them over: normalised */
	n = fuzz_below(in, MAX_LIST);
	for (i = 0; i < n; i++) {
		const char *name = take_name(in, buf);

		if (!mx_domain_normalise(name, w->local_names_buf[p->nlocal_names],
					 MX_DOMAIN_MAX + 1, why, sizeof(why)))
			continue;
		w->local_names[p->nlocal_names] = w->local_names_buf[p->nlocal_names];
		p->nlocal_names++;
	}
	p->local_names = w->local_names;
	n = fuzz_below(in, MAX_LIST);
	for (i = 0; i < n; i++)
		take_cidr(in, &w->local_addrs[i]);
	p->local_addresses = w->local_addrs;
	p->nlocal_addresses = n;
	n = fuzz_below(in, MAX_LIST);
	for (i = 0; i < n; i++)
		take_ip(in, &w->ifaddrs[i]);
	w->env.local_ifaddrs = w->ifaddrs;
	w->env.nlocal_ifaddrs = n;
	w->seed = fuzz_u64(in);

	/* the lookup result: the domain is normalised, as the resolver's is */
	i = fuzz_below(in, 4);
	domain = i < 3 ? domain_pool[i] : fuzz_string(in, buf, MX_DOMAIN_MAX + 1);
	if (!mx_domain_normalise(domain, norm, sizeof(norm), why, sizeof(why)))
		snprintf(norm, sizeof(norm), "example.org");
	if ((w->dns = mx_dns_result_new(norm)) == NULL)
		return false;
	if (fuzz_u8(in) < 32)
		snprintf(w->dns->canonical, sizeof(w->dns->canonical), "%s", take_name(in, buf));
	w->dns->mx_status = (enum mx_dns_status)fuzz_below(in, MX_DNS_FAIL + 1);
	fuzz_string(in, w->dns->mx_detail, sizeof(w->dns->mx_detail) - 1);
	n = fuzz_below(in, 24);
	for (i = 0; i < n; i++) {
		uint16_t pref;

		b = fuzz_u8(in);
		pref = b < 0xc0 ? (uint16_t)(b % 4 * 10) : fuzz_u16(in);
		if (!mx_dns_result_add_mx(w->dns, pref, take_name(in, buf)))
			return false;
	}
	w->dns->mx_answered = w->dns->nmx + fuzz_below(in, 4);
	n = fuzz_below(in, 8);
	for (i = 0; i < n; i++) {
		struct mx_dns_addrset *s = mx_dns_result_set(w->dns, take_name(in, buf));
		size_t	k, na;

		if (s == NULL)
			return false;
		if (fuzz_u8(in) < 48)
			snprintf(s->canonical, sizeof(s->canonical), "%s", take_name(in, buf));
		s->a_status = (enum mx_dns_status)fuzz_below(in, MX_DNS_FAIL + 1);
		s->aaaa_status = (enum mx_dns_status)fuzz_below(in, MX_DNS_FAIL + 1);
		if (fuzz_u8(in) < 32)
			fuzz_string(in, s->detail, sizeof(s->detail) - 1);
		na = fuzz_below(in, 8);
		for (k = 0; k < na; k++) {
			struct mx_ip ip;

			take_ip(in, &ip);
			if (!mx_dns_addrset_add(s, &ip, fuzz_u32(in)))
				return false;
		}
	}
	return true;
}

/* What the current input decoded to and planned, for dump(). */
static const struct world *cur_world;
static const struct mx_plan *cur_plan;

/* dump - print the decoded input and the plan on stderr */
static void
dump(void)
{
	const struct world *w = cur_world;
	const struct mx_policy *p;
	char	text[MX_IP_TEXT_MAX];
	size_t	i, k;

	if (w == NULL)
		return;
	p = &w->policy;
	fprintf(stderr, "-- policy: cname_targets %d randomize %d address_preference %d "
		"inet_protocols %d max_addresses %d max_mx_records %d loop_action %d seed %llu\n",
		p->cname_targets, p->randomize_addresses, p->address_preference,
		p->inet_protocols, p->max_addresses, p->max_mx_records, p->loop_action,
		(unsigned long long)w->seed);
	for (i = 0; i < p->nignore_networks; i++)
		fprintf(stderr, "   ignore_networks %s/%d\n", mx_ip_format(&p->ignore_networks[i].net,
			text, sizeof(text)), p->ignore_networks[i].prefix);
	for (i = 0; i < p->nlocal_names; i++)
		fprintf(stderr, "   local_names %s\n", p->local_names[i]);
	for (i = 0; i < p->nlocal_addresses; i++)
		fprintf(stderr, "   local_addresses %s/%d\n", mx_ip_format(&p->local_addresses[i].net,
			text, sizeof(text)), p->local_addresses[i].prefix);
	for (i = 0; i < w->env.nlocal_ifaddrs; i++)
		fprintf(stderr, "   interface %s\n", mx_ip_format(&w->ifaddrs[i], text, sizeof(text)));
	fprintf(stderr, "-- dns: domain \"%s\" canonical \"%s\" mx_status %s answered %zu\n",
		w->dns->domain, w->dns->canonical, mx_dns_status_name(w->dns->mx_status),
		w->dns->mx_answered);
	for (i = 0; i < w->dns->nmx; i++)
		fprintf(stderr, "   MX %u \"%s\"\n", w->dns->mx[i].pref, w->dns->mx[i].name);
	for (i = 0; i < w->dns->nsets; i++) {
		const struct mx_dns_addrset *s = &w->dns->sets[i];

		fprintf(stderr, "   set \"%s\" canonical \"%s\" A %s AAAA %s:", s->name,
			s->canonical, mx_dns_status_name(s->a_status),
			mx_dns_status_name(s->aaaa_status));
		for (k = 0; k < s->naddrs; k++)
			fprintf(stderr, " %s", mx_ip_format(&s->addrs[k].ip, text, sizeof(text)));
		fputc('\n', stderr);
	}
	if (cur_plan != NULL) {
		fprintf(stderr, "-- plan:\n");
		mx_plan_print_text(stderr, cur_plan);
	}
}

/* fnv_notes - hash a note list */
static uint64_t
fnv_notes(uint64_t h, const struct mx_notes *notes)
{
	size_t	i;

	h = fuzz_fnv(h, &notes->n, sizeof(notes->n));
	for (i = 0; i < notes->n; i++)
		h = fuzz_fnv(h, notes->v[i], strlen(notes->v[i]) + 1);
	return h;
}

/* digest - a hash of everything a plan says, in order */
static uint64_t
digest(const struct mx_plan *plan)
{
	uint64_t h = FUZZ_FNV_START;
	size_t	t, k, a;

	h = fuzz_fnv(h, &plan->result, sizeof(plan->result));
	h = fuzz_fnv(h, plan->status, strlen(plan->status) + 1);
	h = fuzz_fnv(h, plan->message, strlen(plan->message) + 1);
	h = fnv_notes(h, &plan->notes);
	for (t = 0; t < plan->ntiers; t++) {
		const struct mx_plan_tier *tier = &plan->tiers[t];

		h = fuzz_fnv(h, &tier->pref, sizeof(tier->pref));
		for (k = 0; k < tier->nhosts; k++) {
			const struct mx_plan_host *host = &tier->hosts[k];

			h = fuzz_fnv(h, host->name, strlen(host->name) + 1);
			h = fuzz_fnv(h, host->canonical, strlen(host->canonical) + 1);
			h = fuzz_fnv(h, &host->usable, sizeof(host->usable));
			h = fuzz_fnv(h, &host->why_unusable, sizeof(host->why_unusable));
			h = fnv_notes(h, &host->notes);
			for (a = 0; a < host->naddrs; a++) {
				h = fuzz_fnv(h, host->addrs[a].text, strlen(host->addrs[a].text) + 1);
				h = fuzz_fnv(h, &host->addrs[a].ttl, sizeof(host->addrs[a].ttl));
				h = fuzz_fnv(h, &host->addrs[a].usable, sizeof(host->addrs[a].usable));
				h = fnv_notes(h, &host->addrs[a].notes);
			}
		}
	}
	return h;
}

/* family_enabled - does the policy allow this family */
static bool
family_enabled(const struct mx_policy *p, int family)
{
	return p->inet_protocols == MX_INET_ALL ||
	    (p->inet_protocols == MX_INET_IPV4 && family == AF_INET) ||
	    (p->inet_protocols == MX_INET_IPV6 && family == AF_INET6);
}

/* is_local - R9: is this host this machine, by name or by any address */
static bool
is_local(const struct mx_plan_host *h, const struct mx_policy *p, const struct mx_plan_env *env)
{
	size_t	i, n;

	for (n = 0; n < p->nlocal_names; n++)
		if (strcasecmp(p->local_names[n], h->name) == 0 ||
		    (h->canonical[0] && strcasecmp(p->local_names[n], h->canonical) == 0))
			return true;
	for (i = 0; i < h->naddrs; i++) {
		struct mx_ip judged;

		mx_ip_unmap(&h->addrs[i].ip, &judged);	/* R8: mapped is judged as IPv4 */
		for (n = 0; n < p->nlocal_addresses; n++)
			if (mx_cidr_contains(&p->local_addresses[n], &h->addrs[i].ip) ||
			    mx_cidr_contains(&p->local_addresses[n], &judged))
				return true;
		for (n = 0; n < env->nlocal_ifaddrs; n++)
			if (mx_ip_equal(&env->local_ifaddrs[n], &h->addrs[i].ip) ||
			    mx_ip_equal(&env->local_ifaddrs[n], &judged))
				return true;
	}
	return false;
}

/* check_plan - every rule of the header comment but determinism and JSON */
static void
check_plan(const struct mx_plan *plan, const struct world *w)
{
	const struct mx_policy *p = &w->policy;
	const struct mx_dns_result *dns = w->dns;
	size_t	t, k, j, a, hosts = 0, usable_addrs = 0;
	char	text[MX_IP_TEXT_MAX];

	check(plan->result >= MX_PLAN_OK && plan->result <= MX_PLAN_LOOP);
	check(memchr(plan->status, '\0', sizeof(plan->status)) != NULL);
	check(memchr(plan->message, '\0', sizeof(plan->message)) != NULL);
	check(plan->message[0] != '\0');
	check(strcmp(plan->domain, dns->domain) == 0);
	check(plan->implicit_mx == (dns->mx_status == MX_DNS_NODATA));
	if (dns->mx_status != MX_DNS_OK && dns->mx_status != MX_DNS_NODATA)
		check(plan->ntiers == 0 && (plan->result == MX_PLAN_TEMPFAIL ||
					    plan->result == MX_PLAN_NXDOMAIN));
	check(plan->ntiers == 0 || plan->tiers != NULL);
	for (t = 0; t < plan->ntiers; t++) {
		const struct mx_plan_tier *tier = &plan->tiers[t];

		if (t > 0)
			check(plan->tiers[t - 1].pref < tier->pref);
		check(tier->nhosts >= 1 && tier->hosts != NULL);
		for (k = 0; k < tier->nhosts; k++) {
			const struct mx_plan_host *host = &tier->hosts[k];
			size_t	host_usable = 0;

			hosts++;
			check(host->pref == tier->pref);
			check(memchr(host->name, '\0', sizeof(host->name)) != NULL);
			check(host->usable == (host->why_unusable == MX_USABLE));
			if (k > 0 && host->usable)
				check(tier->hosts[k - 1].usable);
			check(host->naddrs == 0 || host->addrs != NULL);
			for (a = 0; a < host->naddrs; a++) {
				const struct mx_plan_addr *ad = &host->addrs[a];
				struct mx_ip judged;
				size_t	n;

				check(strcmp(ad->text, mx_ip_format(&ad->ip, text, sizeof(text))) == 0);
				if (!ad->usable)
					continue;
				check(host->usable);	/* a usable address has a usable host */
				if (a > 0)
					check(host->addrs[a - 1].usable);
				/* R8: an IPv4-mapped address is judged as the IPv4 it carries */
				mx_ip_unmap(&ad->ip, &judged);
				check(family_enabled(p, judged.family));
				for (n = 0; n < p->nignore_networks; n++) {
					check(!mx_cidr_contains(&p->ignore_networks[n], &ad->ip));
					check(!mx_cidr_contains(&p->ignore_networks[n], &judged));
				}
				host_usable++;
			}
			usable_addrs += host_usable;
			if (host->usable) {
				check(host_usable >= 1);
				check(!is_local(host, p, &w->env));
				if (p->cname_targets == MX_CNAME_STRICT)
					check(host->canonical[0] == '\0');
				if (!plan->implicit_mx)
					check(!mx_domain_is_ip_literal(host->name));
			}
			/* R3: no exchange twice (compare with every later host) */
			for (j = t; j < plan->ntiers; j++) {
				size_t	m;

				for (m = (j == t ? k + 1 : 0); m < plan->tiers[j].nhosts; m++)
					check(strcmp(plan->tiers[j].hosts[m].name, host->name) != 0);
			}
		}
	}
	check(usable_addrs == mx_plan_usable_addresses(plan));
	check(mx_plan_usable_addresses(plan) <= (size_t)p->max_addresses);
	if (!plan->implicit_mx && p->max_mx_records > 0)
		check(hosts <= (size_t)p->max_mx_records);
	check((plan->result == MX_PLAN_OK) == (usable_addrs >= 1));
	check((plan->status[0] == '\0') == (plan->result == MX_PLAN_OK));
	if (plan->result == MX_PLAN_NULL_MX)
		check(usable_addrs == 0);
}

/* JSON syntax, enough to know the output parses (RFC 8259, in valid UTF-8: RFC 3629) */
struct json {
	const char *s;
	size_t	i, len;
};

static bool json_value(struct json *j, int depth);

/* json_ws - skip white space */
static void
json_ws(struct json *j)
{
	while (j->i < j->len && strchr(" \t\r\n", j->s[j->i]) != NULL && j->s[j->i])
		j->i++;
}

/* json_lit - a literal word */
static bool
json_lit(struct json *j, const char *w)
{
	size_t	n = strlen(w);

	if (j->len - j->i < n || memcmp(j->s + j->i, w, n) != 0)
		return false;
	j->i += n;
	return true;
}

/* utf8_ok - a well-formed UTF-8 sequence of more than one octet starts at i; its length or 0 */
static size_t
utf8_ok(const struct json *j, size_t i)
{
	const unsigned char *p = (const unsigned char *)j->s + i;
	size_t	left = j->len - i, n, k;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (k = 2; k < n; k++)
		if (p[k] < 0x80 || p[k] > 0xbf)
			return 0;
	return n;
}

/* json_string - a string with valid escapes, no raw control octets, valid UTF-8 */
static bool
json_string(struct json *j)
{
	if (j->i >= j->len || j->s[j->i] != '"')
		return false;
	for (j->i++; j->i < j->len; j->i++) {
		unsigned char c = (unsigned char)j->s[j->i];

		if (c == '"') {
			j->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			size_t	n = utf8_ok(j, j->i);

			if (n == 0)
				return false;
			j->i += n - 1;
			continue;
		}
		if (c == '\\') {
			if (++j->i >= j->len)
				return false;
			c = (unsigned char)j->s[j->i];
			if (c == 'u') {
				int	k;

				for (k = 0; k < 4; k++)
					if (++j->i >= j->len || strchr("0123456789abcdefABCDEF",
									j->s[j->i]) == NULL ||
					    j->s[j->i] == '\0')
						return false;
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
				return false;
		}
	}
	return false;
}

/* json_number - an unsigned integer is all the route JSON writes */
static bool
json_number(struct json *j)
{
	size_t	start = j->i;

	if (j->i < j->len && j->s[j->i] == '-')
		j->i++;
	while (j->i < j->len && j->s[j->i] >= '0' && j->s[j->i] <= '9')
		j->i++;
	return j->i > start && j->s[j->i - 1] != '-';
}

/* json_value - any value */
static bool
json_value(struct json *j, int depth)
{
	char	open, close;

	json_ws(j);
	if (j->i >= j->len || depth > 32)
		return false;
	open = j->s[j->i];
	if (open == '"')
		return json_string(j);
	if (open == 't')
		return json_lit(j, "true");
	if (open == 'f')
		return json_lit(j, "false");
	if (open == 'n')
		return json_lit(j, "null");
	if (open != '{' && open != '[')
		return json_number(j);
	close = open == '{' ? '}' : ']';
	j->i++;
	json_ws(j);
	if (j->i < j->len && j->s[j->i] == close) {
		j->i++;
		return true;
	}
	for (;;) {
		if (open == '{') {
			json_ws(j);
			if (!json_string(j))
				return false;
			json_ws(j);
			if (j->i >= j->len || j->s[j->i++] != ':')
				return false;
		}
		if (!json_value(j, depth + 1))
			return false;
		json_ws(j);
		if (j->i >= j->len)
			return false;
		if (j->s[j->i] == close) {
			j->i++;
			return true;
		}
		if (j->s[j->i++] != ',')
			return false;
	}
}

/* check_output - the text table prints; the JSON is one valid value */
static void
check_output(const struct mx_plan *plan)
{
	char   *buf = NULL;
	size_t	len = 0;
	FILE   *fp;
	struct json j;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return;
	mx_plan_print_text(fp, plan);
	fclose(fp);
	free(buf);
	buf = NULL;
	if ((fp = open_memstream(&buf, &len)) == NULL)
		return;
	mx_plan_print_json(fp, plan, NULL, NULL);
	fclose(fp);
	j.s = buf;
	j.i = 0;
	j.len = len;
	check(json_value(&j, 0));
	json_ws(&j);
	check(j.i == j.len);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct world *w;
	struct mx_plan *plan, *again;
	struct mx_rng rng;
	static int dumping = -1;	/* MXT_FUZZ_DUMP set: print every input and plan */

	if (size > 8192)
		return 0;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return 0;
	if (!decode(&in, w))
		goto out;
	cur_world = w;
	mx_rng_seed(&rng, w->seed);
	plan = mx_plan_build(w->dns, &w->policy, &w->env, &rng);
	if (plan == NULL)
		goto out;
	cur_plan = plan;
	if (dumping < 0)
		dumping = getenv("MXT_FUZZ_DUMP") != NULL;
	if (dumping)
		dump();
	check_plan(plan, w);
	if (plan->result == MX_PLAN_OK)
		check(mx_plan_usable_addresses(plan) >= 1);
	mx_rng_seed(&rng, w->seed);
	again = mx_plan_build(w->dns, &w->policy, &w->env, &rng);
	if (again != NULL) {
		check(digest(plan) == digest(again));
		mx_plan_free(again);
	}
	check_output(plan);
	cur_plan = NULL;
	mx_plan_free(plan);
out:
	cur_world = NULL;
	mx_dns_result_free(w->dns);
	free(w);
	return 0;
}
