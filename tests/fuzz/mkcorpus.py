#!/usr/bin/env python3
"""mkcorpus - write the seed corpora of the fuzz targets (authoring time only)

    python3 tests/fuzz/mkcorpus.py      # rewrites tests/fuzz/corpus/*/seed-*

The seeds are committed; run this again only to change them. The DNS
messages are built here (answers for example.org, the name fuzz_dnsmsg
asks for); the plan seeds follow the byte layout decode() in fuzz_plan.c
reads, so they must change with it. It also writes the crash- reproducer
of the plan target it can express; other crash-* files are not touched.
"""
import os
import struct
import sys

TOP = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(TOP, "corpus")


def write(target, name, data, prefix="seed-"):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, prefix + name), "wb") as f:
        f.write(data)


# --- smtpreply: octet 0 = number of chunk sizes, the sizes, then the stream
def smtp(name, stream, chunks=()):
    write("smtpreply", name, bytes([len(chunks)]) + bytes(chunks) + stream.encode())


smtp("greeting", "220 mx1.example.org ESMTP Postfix (Debian/GNU)\r\n")
smtp("ehlo-postfix", "250-mx1.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
     "250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
     "250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n", (3, 7, 1))
smtp("ehlo-exim", "250-mx.example.net Hello client.example.org [192.0.2.25]\r\n"
     "250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-PIPE_CONNECT\r\n"
     "250-CHUNKING\r\n250-STARTTLS\r\n250 HELP\r\n", (64,))
smtp("pipelined", "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
     (5, 1))
smtp("greylist", "450-4.2.0 <bob@grey.example.org>: Recipient address rejected:\r\n"
     "450-4.2.0 Greylisted, see https://postgrey.schweikert.ch/help/grey.example.org.html\r\n"
     "450 4.2.0 try again later\r\n", (2,))
smtp("unknown-user", "550 5.1.1 <nobody@example.org>: Recipient address rejected: "
     "User unknown in local recipient table\r\n")
smtp("bare-lf", "421 4.7.0 mx1.example.org Error: too many errors\n")
smtp("mixed-codes", "250-first\r\n251 second\r\n")
smtp("not-smtp", "HTTP/1.1 400 Bad Request\r\n\r\n")

# --- config: the text of an mxtier.conf
write("config", "example", """\
# /etc/mxtier/mxtier.conf

resolver {
    servers = { "127.0.0.1:5353", "[::1]:53" }
    timeout = 5          # seconds per try
    tries = 2
}

policy {
    fallback = "postfix"
    cname_targets = "lenient"
    randomize_addresses = false
    address_preference = "any"
    inet_protocols = "all"
    max_addresses = 5
    max_sessions = 2
    max_mx_records = 100
    ignore_networks += { "10.0.0.0/8" }    # added to the defaults
    local_names = { "mail.example.org" }
    local_addresses = { "192.0.2.25", "2001:db8::25" }
    fallback_relay = { "relay.example.net:2525" }
    loop_action = "defer"
}

smtp {
    port = 25
    helo_name = ""       # this machine's name
    starttls = "opportunistic"
    connect_timeout = 30
    rcpt_timeout = 300
}

spool {
    memory_limit = 1048576
    directory = "/tmp"
}

journal {
    path = "/var/lib/mxtier/journal.db"
}
""")
write("config", "minimal", "policy { max_addresses = 3 }\n")
write("config", "comments", "/* block\n comment */ smtp { // line comment\n"
      "  helo_name = Mail.Example.ORG. # trailing\n  starttls = require\n}\n"
      "resolver { servers = { '192.0.2.53' , \"[2001:db8::53]:5353\" } }\n")
write("config", "unclosed-section", "policy {\n  max_addresses = 5\n")
write("config", "unclosed-list", "policy {\n  local_names = { \"a.example\",\n}\n")
write("config", "out-of-range", "smtp {\n  port = 70000\n}\n")
write("config", "unknown-key", "policy {\n  max_adresses = 5\n}\n")
write("config", "twice", "smtp { port = 25 }\nsmtp { port = 2525 }\n")
write("config", "bad-string", "journal {\n  path = \"relative/path.db\n}\n")
write("config", "misplaced", "policy|fallback = \"qmail\"\n")
write("config", "env-empty-path", "journal { path = \"${MXT_FUZZ_UNSET}\" }\n")
write("config", "bad-network", "policy { ignore_networks = { \"10.0.0.0/33\", \"x\" } }\n")

# --- domain: one name per file
for name, text in [("plain", "example.org"), ("fqdn-upper", "Mail.Example.ORG."),
                   ("idn", "xn--bcher-kva.example"), ("ipv4", "192.0.2.1"),
                   ("literal", "[192.0.2.1]"), ("bad-hyphen", "-bad.example.org"),
                   ("empty-label", "a..b"),
                   ("long-label", "a" * 63 + ".example"),
                   ("max-length", ".".join(["a" * 49] * 5) + ".abc")]:
    write("domain", name, text)


# --- dnsmsg: DNS answers for example.org
def dname(n, table=None, at=None):
    """wire form of n; with table and at, compress against earlier names"""
    out = b""
    labels = [l for l in n.split(".") if l] if n not in ("", ".") else []
    for i in range(len(labels)):
        rest = ".".join(labels[i:]).lower()
        if table is not None and rest in table:
            return out + struct.pack(">H", 0xC000 | table[rest])
        if table is not None and at is not None and at + len(out) < 0x3FFF:
            table[rest] = at + len(out)
        out += bytes([len(labels[i])]) + labels[i].encode()
    return out + b"\0"


class Msg:
    def __init__(self, qname, qtype, rcode=0, tc=False, aa=True, ad=False):
        self.qname, self.qtype = qname, qtype
        self.flags = (0x8000 | (0x0400 if aa else 0) | (0x0200 if tc else 0) | 0x0100 |
                      (0x0020 if ad else 0) | rcode)
        self.answers, self.authority = [], []

    def rr(self, section, owner, rtype, ttl, rdata):
        section.append((owner, rtype, ttl, rdata))
        return self

    def build(self, compress=True):
        table = {} if compress else None
        body = b""
        hdr_len = 12

        def name(n):
            nonlocal body
            return dname(n, table, hdr_len + len(body))

        body += name(self.qname)
        body += struct.pack(">HH", self.qtype, 1)
        for section in (self.answers, self.authority):
            for owner, rtype, ttl, rdata in section:
                body += name(owner)
                body += struct.pack(">HHI", rtype, 1, ttl)
                if callable(rdata):
                    start = hdr_len + len(body) + 2
                    data = rdata(lambda n, off: dname(n, table, start + off))
                else:
                    data = rdata
                body += struct.pack(">H", len(data)) + data
        hdr = struct.pack(">HHHHHH", 0x4D58, self.flags, 1, len(self.answers),
                          len(self.authority), 0)
        return hdr + body


A, CNAME, MX, AAAA, SOA, TXT, TLSA = 1, 5, 15, 28, 6, 16, 52


def ipv4(s):
    return bytes(int(x) for x in s.split("."))


def ipv6(s):
    import ipaddress
    return ipaddress.IPv6Address(s).packed


def mx_rdata(pref, exchange):
    return lambda nm: struct.pack(">H", pref) + nm(exchange, 2)


def name_rdata(target):
    return lambda nm: nm(target, 0)


def soa_rdata():
    return lambda nm: (lambda a: a + nm("hostmaster.example.org", len(a)))(
        nm("ns1.example.org", 0)) + struct.pack(">IIIII", 2024010101, 3600, 600, 86400, 300)


m = Msg("example.org", MX)
m.rr(m.answers, "example.org", MX, 300, mx_rdata(10, "mx1.example.org"))
m.rr(m.answers, "example.org", MX, 300, mx_rdata(20, "backup.example.net"))
write("dnsmsg", "mx", m.build())

m = Msg("example.org", MX)
m.rr(m.answers, "example.org", MX, 300, mx_rdata(0, ""))
write("dnsmsg", "null-mx", m.build())

m = Msg("example.org", A)
m.rr(m.answers, "example.org", A, 300, ipv4("192.0.2.1"))
m.rr(m.answers, "example.org", A, 300, ipv4("192.0.2.2"))
write("dnsmsg", "a", m.build(compress=False))

m = Msg("example.org", AAAA)
m.rr(m.answers, "example.org", CNAME, 60, name_rdata("web.example.net"))
m.rr(m.answers, "web.example.net", CNAME, 60, name_rdata("cdn.example.com"))
m.rr(m.answers, "cdn.example.com", AAAA, 60, ipv6("2001:db8::1"))
write("dnsmsg", "aaaa-cname-chain", m.build())

m = Msg("example.org", A)
m.rr(m.answers, "example.org", CNAME, 300, name_rdata("alias.example.net"))
write("dnsmsg", "alias-only", m.build())

m = Msg("example.org", MX, rcode=3)
m.rr(m.authority, "example.org", SOA, 300, soa_rdata())
write("dnsmsg", "nxdomain", m.build())

m = Msg("example.org", A, tc=True)
m.rr(m.answers, "example.org", A, 300, ipv4("192.0.2.1"))
write("dnsmsg", "truncated", m.build()[:-3])

# TXT (R17): character-strings joined; an STS record in two strings, an empty one
m = Msg("example.org", TXT, ad=True)
m.rr(m.answers, "example.org", TXT, 300, b"\x09v=STSv1; \x0cid=20240101;")
m.rr(m.answers, "example.org", TXT, 300, b"\x00")
m.rr(m.answers, "example.org", TXT, 300, b"\x05hello\x00\x05world")
write("dnsmsg", "txt", m.build())

# TLSA (R16): usage, selector, matching type, data; one behind an alias
m = Msg("example.org", TLSA, ad=True)
m.rr(m.answers, "example.org", CNAME, 300, name_rdata("_25._tcp.mx.example.net"))
m.rr(m.answers, "_25._tcp.mx.example.net", TLSA, 300, bytes([3, 1, 1]) + bytes(range(32)))
m.rr(m.answers, "_25._tcp.mx.example.net", TLSA, 300, bytes([2, 0, 2]) + b"\xee" * 64)
write("dnsmsg", "tlsa-cname", m.build())

m = Msg("example.org", TLSA)
m.rr(m.answers, "example.org", TLSA, 300, bytes([3, 0, 0]))
write("dnsmsg", "tlsa-empty-data", m.build())

# a compression pointer that points at itself
loop = bytearray(Msg("example.org", A).build())
loop[7] = 1
loop += b"\xc0" + bytes([len(loop)]) + struct.pack(">HHIH", A, 1, 300, 4) + ipv4("192.0.2.9")
write("dnsmsg", "pointer-loop", bytes(loop))


# --- plan: the byte layout of decode() in fuzz_plan.c
NAMES = ["mx1.example.org", "MX1.Example.ORG.", "mx2.example.org", "backup.example.net",
         "example.org", ".", "", "192.0.2.1", "[2001:db8::1]", "-bad.example.org",
         "mail.example.org", "alias.example.org", "a..b", "mx1.example.org..", "<long>",
         "mx2.example.org."]
IPS = ["192.0.2.1", "192.0.2.2", "127.0.0.1", "0.0.0.0", "10.1.2.3", "198.51.100.7",
       "2001:db8::1", "::1", "::", "fe80::1", "::ffff:127.0.0.1", "2001:db8::25"]
NETS = ["127.0.0.0/8", "10.0.0.0/8", "192.0.2.0/24", "192.0.2.1", "::1/128",
        "2001:db8::/32", "0.0.0.0/0", "::/0"]
ST = {s: i for i, s in enumerate(["pending", "ok", "nodata", "nxdomain", "servfail", "refused",
                                  "timeout", "truncated", "malformed", "cname_loop", "fail"])}


def plan_seed(mx_status="ok", mx=(), sets=(), flags=0, addrpref=0, inet=0, max_addresses=5,
              max_mx=100, ignore=None, local_names=(), local_addresses=(), ifaddrs=(),
              seed=1, domain=0):
    b = bytearray()
    b += bytes([flags, addrpref, inet, max_addresses - 1, 1, max_mx - 1 if max_mx <= 40 else 255])
    if ignore is None:
        b.append(5)                               # keep the defaults
    else:
        b.append(len(ignore))
        b += bytes(NETS.index(n) for n in ignore)
    b.append(len(local_names))
    b += bytes(NAMES.index(n) for n in local_names)
    b.append(len(local_addresses))
    b += bytes(NETS.index(n) for n in local_addresses)
    b.append(len(ifaddrs))
    b += bytes(IPS.index(a) for a in ifaddrs)
    b += struct.pack(">Q", seed)
    b.append(domain)                             # 0 example.org
    b.append(255)                                # no canonical name
    b.append(ST[mx_status])
    b.append(0)                                  # no mx_detail
    b.append(len(mx))
    for pref, name in mx:
        b += bytes([pref // 10]) if pref in (0, 10, 20, 30) else bytes([0xFF]) + struct.pack(">H", pref)
        b.append(NAMES.index(name))
    b.append(0)                                  # mx_answered == nmx
    b.append(len(sets))
    for name, a_st, aaaa_st, addrs in sets:
        b.append(NAMES.index(name))
        b.append(255)                            # no canonical name
        b += bytes([ST[a_st], ST[aaaa_st], 255])  # statuses, no detail
        b.append(len(addrs))
        for a in addrs:
            b.append(IPS.index(a))
            b += struct.pack(">I", 300)
    return bytes(b)


write("plan", "two-tiers", plan_seed(
    mx=[(10, "mx1.example.org"), (20, "backup.example.net")],
    sets=[("mx1.example.org", "ok", "ok", ["192.0.2.1", "2001:db8::1"]),
          ("backup.example.net", "ok", "nodata", ["198.51.100.7"])]))
write("plan", "equal-prefs", plan_seed(
    flags=2, mx=[(10, "mx1.example.org"), (10, "mx2.example.org"), (10, "MX1.Example.ORG.")],
    sets=[("mx1.example.org", "ok", "nodata", ["192.0.2.1"]),
          ("mx2.example.org", "timeout", "ok", ["2001:db8::1"])], max_addresses=1))
write("plan", "null-mx", plan_seed(mx=[(0, "")]))
write("plan", "implicit-mx", plan_seed(
    mx_status="nodata", sets=[("example.org", "ok", "nodata", ["192.0.2.2", "127.0.0.1"])]))
write("plan", "tempfail", plan_seed(mx_status="servfail"))
write("plan", "odd-exchanges", plan_seed(
    mx=[(10, "192.0.2.1"), (20, "-bad.example.org"), (30, "mx2.example.org."), (0, "."),
        (65535, "backup.example.net")],
    sets=[("mx2.example.org", "nxdomain", "nxdomain", []),
          ("backup.example.net", "servfail", "ok", ["::1", "fe80::1"])], inet=2))
# R9: the backup host is this machine: it and everything after it are dropped.
# A regression input: mxtier kept its address marked usable (see the report).
write("plan", "local-host", plan_seed(
    mx=[(10, "mx1.example.org"), (20, "mail.example.org")], local_names=["mail.example.org"],
    sets=[("mx1.example.org", "ok", "nodata", ["192.0.2.1"]),
          ("mail.example.org", "ok", "nodata", ["198.51.100.7"])]), prefix="crash-r9-")
print("corpus written under", CORPUS, file=sys.stderr)
