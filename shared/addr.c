/*
 * addr - IP address, network and endpoint helpers (see addr.h)
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

/* mx_ip_parse - parse a literal IPv4/IPv6 address */
bool
mx_ip_parse(const char *text, struct mx_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (text == NULL || *text == '\0')
		return false;
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = AF_INET6;
		return true;
	}
	return false;
}

/* mx_ip_format - print an address */
const char *
mx_ip_format(const struct mx_ip *ip, char *buf, size_t len)
{
	if (inet_ntop(ip->family, ip->bytes, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/* mx_ip_equal - same family, same bytes */
bool
mx_ip_equal(const struct mx_ip *a, const struct mx_ip *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

/* mx_ip_unmap - the IPv4 address inside ::ffff:0:0/96, if it is one */
bool
mx_ip_unmap(const struct mx_ip *ip, struct mx_ip *v4)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (ip->family != AF_INET6 || memcmp(ip->bytes, prefix, sizeof(prefix)) != 0) {
		*v4 = *ip;
		return false;
	}
	memset(v4, 0, sizeof(*v4));
	v4->family = AF_INET;
	memcpy(v4->bytes, ip->bytes + 12, 4);
	return true;
}

/* mx_cidr_parse - parse ADDR/LEN or a bare address */
bool
mx_cidr_parse(const char *text, struct mx_cidr *out)
{
	char	buf[MX_IP_TEXT_MAX + 8];
	char   *slash, *end;
	long	len;
	int	max;

	if (text == NULL || strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (!mx_ip_parse(buf, &out->net))
		return false;
	max = out->net.family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		out->prefix = max;
		return true;
	}
	if (*slash < '0' || *slash > '9')
		return false;
	len = strtol(slash, &end, 10);
	if (*end != '\0' || len < 0 || len > max)
		return false;
	out->prefix = (int)len;
	return true;
}

/* mx_cidr_contains - is ip inside the network */
bool
mx_cidr_contains(const struct mx_cidr *net, const struct mx_ip *ip)
{
	int	full, rest;

	if (net->net.family != ip->family)
		return false;
	full = net->prefix / 8;
	rest = net->prefix % 8;
	if (memcmp(net->net.bytes, ip->bytes, (size_t)full) != 0)
		return false;
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((net->net.bytes[full] & mask) != (ip->bytes[full] & mask))
			return false;
	}
	return true;
}

/* parse_port - decimal 1..65535 */
static bool
parse_port(const char *s, int *port)
{
	char   *end;
	long	v;

	if (*s < '0' || *s > '9')
		return false;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

/* mx_endpoint_parse - split HOST[:PORT] / [V6][:PORT] / bare V6 */
bool
mx_endpoint_parse(const char *text, int default_port, bool require_ip,
		  char *host, size_t hostlen, int *port, char *why, size_t whylen)
{
	const char *h = text, *p = NULL, *colon;
	size_t	hlen;
	struct mx_ip ip;

	*port = default_port;
	if (text == NULL || *text == '\0') {
		snprintf(why, whylen, "empty address");
		return false;
	}
	if (*text == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL) {
			snprintf(why, whylen, "'[' without ']'");
			return false;
		}
		h = text + 1;
		hlen = (size_t)(close - h);
		if (close[1] == ':')
			p = close + 2;
		else if (close[1] != '\0') {
			snprintf(why, whylen, "unexpected text after ']'");
			return false;
		}
		if (hlen == 0 || hlen >= hostlen) {
			snprintf(why, whylen, "bad address inside brackets");
			return false;
		}
		memcpy(host, h, hlen);
		host[hlen] = '\0';
		if (!mx_ip_parse(host, &ip) || ip.family != AF_INET6) {
			snprintf(why, whylen, "'%s' is not an IPv6 address", host);
			return false;
		}
	} else {
		colon = strchr(text, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* more than one colon: a bare IPv6 literal, no port */
			hlen = strlen(text);
		} else {
			hlen = colon ? (size_t)(colon - text) : strlen(text);
			if (colon)
				p = colon + 1;
		}
		if (hlen == 0 || hlen >= hostlen) {
			snprintf(why, whylen, "bad host part");
			return false;
		}
		memcpy(host, h, hlen);
		host[hlen] = '\0';
		if (require_ip && !mx_ip_parse(host, &ip)) {
			snprintf(why, whylen, "'%s' is not an IP address", host);
			return false;
		}
	}
	if (p != NULL && !parse_port(p, port)) {
		snprintf(why, whylen, "bad port '%s' (expected 1-65535)", p);
		return false;
	}
	return true;
}

/* mx_local_addrs - addresses configured on local interfaces */
struct mx_ip *
mx_local_addrs(size_t *n)
{
	struct ifaddrs *list, *ifa;
	struct mx_ip *out = NULL, *grown;
	size_t	cnt = 0;

	*n = 0;
	if (getifaddrs(&list) != 0)
		return NULL;
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
		struct mx_ip ip;

		if (ifa->ifa_addr == NULL)
			continue;
		memset(&ip, 0, sizeof(ip));
		if (ifa->ifa_addr->sa_family == AF_INET) {
			ip.family = AF_INET;
			memcpy(ip.bytes, &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr, 4);
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			ip.family = AF_INET6;
			memcpy(ip.bytes, &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr, 16);
		} else
			continue;
		grown = realloc(out, (cnt + 1) * sizeof(*out));
		if (grown == NULL)
			break;
		out = grown;
		out[cnt++] = ip;
	}
	freeifaddrs(list);
	*n = cnt;
	return out;
}
