/*
 * addr - IP address, network and endpoint helpers
 *
 * Parses and prints IPv4/IPv6 addresses, CIDR networks and "host:port" style
 * endpoints ("192.0.2.1", "192.0.2.1:5353", "[::1]:5353", "::1"), tests network
 * membership, finds the IPv4 address inside an IPv4-mapped IPv6 address, and
 * lists the addresses configured on local interfaces.
 *
 * Everything here works on caller-owned fixed-size structs; nothing allocates
 * except mx_local_addrs(), whose array the caller frees with free().
 */
#ifndef MXTIER_ADDR_H
#define MXTIER_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define MX_IP_TEXT_MAX 46	/* INET6_ADDRSTRLEN */

/* An IPv4 or IPv6 address. family is AF_INET or AF_INET6; IPv4 uses bytes[0..3]. */
struct mx_ip {
	int	family;
	uint8_t	bytes[16];
};

/* A network: address plus prefix length (0..32 or 0..128). */
struct mx_cidr {
	struct mx_ip net;
	int	prefix;
};

/* mx_ip_parse - parse a literal IPv4/IPv6 address (no brackets); true on success */
bool	mx_ip_parse(const char *text, struct mx_ip *out);

/* mx_ip_format - print an address into buf (at least MX_IP_TEXT_MAX bytes) */
const char *mx_ip_format(const struct mx_ip *ip, char *buf, size_t len);

/* mx_ip_equal - same family and same bytes */
bool	mx_ip_equal(const struct mx_ip *a, const struct mx_ip *b);

/*
 * mx_ip_unmap - the IPv4 address an IPv4-mapped IPv6 address (::ffff:0:0/96,
 * RFC 4291 2.5.5.2) carries. Returns true and writes it to *v4 when ip is
 * one; otherwise returns false and copies ip to *v4 unchanged. A connect to
 * ::ffff:a.b.c.d reaches a.b.c.d over IPv4, so policy judges that address.
 */
bool	mx_ip_unmap(const struct mx_ip *ip, struct mx_ip *v4);

/* mx_cidr_parse - parse "ADDR/LEN" or a bare address (full-length prefix) */
bool	mx_cidr_parse(const char *text, struct mx_cidr *out);

/*
 * mx_cidr_contains - is ip inside the network (families must match; an
 * IPv4-mapped address is IPv6 here: unmap it first to judge it as IPv4)
 */
bool	mx_cidr_contains(const struct mx_cidr *net, const struct mx_ip *ip);

/*
 * mx_endpoint_parse - split "HOST", "HOST:PORT", "[V6]", "[V6]:PORT" or a bare
 * IPv6 literal into host text and port. The port is default_port when absent.
 * When require_ip is set, HOST must be an IP address literal. On failure
 * returns false and leaves a short reason in why.
 */
bool	mx_endpoint_parse(const char *text, int default_port, bool require_ip,
			  char *host, size_t hostlen, int *port,
			  char *why, size_t whylen);

/*
 * mx_local_addrs - addresses configured on this machine's interfaces
 * (getifaddrs). Returns a malloc'd array (caller frees) and its length in *n;
 * NULL with *n == 0 when none can be read.
 */
struct mx_ip *mx_local_addrs(size_t *n);

#endif
