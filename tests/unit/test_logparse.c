/*
 * test_logparse - unit tests for the Postfix and Exim log parser
 *
 * Pure: lines go to mx_logparse_line() and the attempts and notes that come
 * out are collected and compared. The TABLE holds log lines per MTA and
 * version (Postfix 3.x with and without conn_use=, tls=, orig_to=; Exim
 * 4.9x, old and new message ids) with the attempts each must give, every
 * trap of issue 11 included; rows marked "real" are copied from the logs of
 * the import test world (Postfix 3.7.11, Exim 4.96, tests/import). The
 * other tests cover identities, resume offsets, the year of syslog stamps,
 * bounds and hostile input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logparse.h"

/* 2026-11-30T18:00:00Z, the day the real logs were made */
#define NOW_MS		1796061600000LL
#define MAX_GOT		256
#define MAX_LINES	10

/* --- collecting ------------------------------------------------------- */

struct got {
	struct mx_log_attempt a[MAX_GOT];
	int	n;
	int	total;			/* beyond MAX_GOT too */
	struct mx_log_note notes[16];
	int	nnotes;
};

/* on_attempt - keep a copy; check the strings are terminated inside their arrays */
static void
on_attempt(void *ctx, const struct mx_log_attempt *a)
{
	struct got *g = ctx;

	assert_non_null(memchr(a->queue_id, '\0', sizeof(a->queue_id)));
	assert_non_null(memchr(a->recipient, '\0', sizeof(a->recipient)));
	assert_non_null(memchr(a->domain, '\0', sizeof(a->domain)));
	assert_non_null(memchr(a->host, '\0', sizeof(a->host)));
	assert_non_null(memchr(a->address, '\0', sizeof(a->address)));
	assert_non_null(memchr(a->stage, '\0', sizeof(a->stage)));
	assert_non_null(memchr(a->enhanced_status, '\0', sizeof(a->enhanced_status)));
	assert_non_null(memchr(a->reply_text, '\0', sizeof(a->reply_text)));
	assert_true(strcmp(a->outcome, "delivered") == 0 || strcmp(a->outcome, "tempfail") == 0 ||
		    strcmp(a->outcome, "permfail") == 0);
	assert_true(strcmp(a->source, "postfix") == 0 || strcmp(a->source, "exim") == 0);
	if (g->n < MAX_GOT)
		g->a[g->n++] = *a;
	g->total++;
}

/* on_note - keep a copy */
static void
on_note(void *ctx, const struct mx_log_note *n)
{
	struct got *g = ctx;

	if (g->nnotes < 16)
		g->notes[g->nnotes] = *n;
	g->nnotes++;
}

/* feed - one NUL-terminated line at offset */
static enum mx_log_line
feed(struct mx_logparse *p, const char *line, int64_t off, struct got *g)
{
	struct mx_log_sink sink = { on_attempt, on_note, g };

	return mx_logparse_line(p, line, strlen(line), off, &sink);
}

/* --- the table -------------------------------------------------------- */

struct exp {
	const char *qid;
	const char *rcpt;
	const char *host;
	const char *addr;
	int	port;
	const char *stage;
	int	code;
	const char *enh;
	const char *outcome;
	const char *text;		/* reply_text contains it */
	const char *tls;		/* NULL: not checked */
};

struct row {
	const char *name;
	enum mx_log_format fmt;
	const char *kinds;		/* per line: A attempt (or held), N note, O other, B bad */
	const char *lines[MAX_LINES];
	int	nexp;
	struct exp exp[8];
	int	notes;
	int	dropped;		/* what finish() says */
};

#define PF "Nov 30 17:36:07 postfix postfix/smtp[8047]: "
#define PF2 "Nov 30 17:36:08 mail postfix/smtp[9001]: "
#define EX "2026-11-30 17:36:08 "

static const struct row TABLE[] = {
	/* ---- Postfix 3.7 (real) ---- */
	{ "pf real: refusing primary, backup delivers", MX_LOG_POSTFIX, "AA", {
	  PF "connect to mx1.refuse.imp.test[127.0.11.1]:2525: Connection refused",
	  PF "BA7C8510684: to=<u@refuse.imp.test>, relay=mx2.refuse.imp.test[127.0.11.2]:2525, delay=0.06, delays=0.05/0.01/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)" },
	  2, {
	  { "BA7C8510684", "u@refuse.imp.test", "mx1.refuse.imp.test", "127.0.11.1", 2525, "connect", 0, "", "tempfail", "Connection refused", "" },
	  { "BA7C8510684", "u@refuse.imp.test", "mx2.refuse.imp.test", "127.0.11.2", 2525, "dot", 250, "2.0.0", "delivered", "250 2.0.0 Ok", "" } } , 0, 0 },
	{ "pf real: greylisting primary, backup delivers", MX_LOG_POSTFIX, "OAA", {
	  "Nov 30 17:36:07 postfix postfix/qmgr[7996]: C9496510684: from=<pf@client.test>, size=392, nrcpt=1 (queue active)",
	  PF "C9496510684: host mx1.grey.imp.test[127.0.11.3] said: 451 4.7.1 greylisted (in reply to RCPT TO command)",
	  PF "C9496510684: to=<u@grey.imp.test>, relay=mx2.grey.imp.test[127.0.11.4]:2525, delay=0.05, delays=0.04/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)" },
	  2, {
	  { "C9496510684", "u@grey.imp.test", "mx1.grey.imp.test", "127.0.11.3", -1, "rcpt", 451, "4.7.1", "tempfail", "451 4.7.1 greylisted", "" },
	  { "C9496510684", "u@grey.imp.test", "mx2.grey.imp.test", "127.0.11.4", 2525, "dot", 250, "2.0.0", "delivered", "Ok", "" } } , 0, 0 },
	{ "pf real: 5xx recipient", MX_LOG_POSTFIX, "A", {
	  PF "D7633510684: to=<u@user.imp.test>, relay=mx.user.imp.test[127.0.11.5]:2525, delay=0.05, delays=0.04/0/0/0.01, dsn=5.1.1, status=bounced (host mx.user.imp.test[127.0.11.5] said: 550 5.1.1 no such user (in reply to RCPT TO command))" },
	  1, {
	  { "D7633510684", "u@user.imp.test", "mx.user.imp.test", "127.0.11.5", 2525, "rcpt", 550, "5.1.1", "permfail", "550 5.1.1 no such user", "" } } , 0, 0 },
	{ "pf real: null MX is a permfail without host", MX_LOG_POSTFIX, "A", {
	  PF "E7E515103EB: to=<u@nullmx.imp.test>, relay=none, delay=0.04, delays=0.04/0/0/0, dsn=5.1.0, status=bounced (Domain nullmx.imp.test does not accept mail (nullMX))" },
	  1, {
	  { "E7E515103EB", "u@nullmx.imp.test", "", "", -1, "", 0, "5.1.0", "permfail", "does not accept mail (nullMX)", "" } } , 0, 0 },
	{ "pf real: one connect line, two recipients: a copy for each", MX_LOG_POSTFIX, "AAA", {
	  PF "connect to mx1.two.imp.test[127.0.11.7]:2525: Connection refused",
	  PF "1F55C510692: to=<a@two.imp.test>, relay=mx2.two.imp.test[127.0.11.6]:2525, delay=0.05, delays=0.04/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
	  PF "1F55C510692: to=<b@two.imp.test>, relay=mx2.two.imp.test[127.0.11.6]:2525, delay=0.05, delays=0.04/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)" },
	  4, {
	  { "1F55C510692", "a@two.imp.test", "mx1.two.imp.test", "127.0.11.7", 2525, "connect", 0, "", "tempfail", "refused", "" },
	  { "1F55C510692", "a@two.imp.test", "mx2.two.imp.test", "127.0.11.6", 2525, "dot", 250, "2.0.0", "delivered", "Ok", "" },
	  { "1F55C510692", "b@two.imp.test", "mx1.two.imp.test", "127.0.11.7", 2525, "connect", 0, "", "tempfail", "refused", "" },
	  { "1F55C510692", "b@two.imp.test", "mx2.two.imp.test", "127.0.11.6", 2525, "dot", 250, "2.0.0", "delivered", "Ok", "" } } , 0, 0 },
	{ "pf real: the last connect failure is logged twice and counts once", MX_LOG_POSTFIX, "AA", {
	  PF "connect to mx.dead.imp.test[127.0.11.8]:2525: Connection refused",
	  PF "10ED451068B: to=<u@dead.imp.test>, relay=none, delay=0.05, delays=0.04/0/0/0, dsn=4.4.1, status=deferred (connect to mx.dead.imp.test[127.0.11.8]:2525: Connection refused)" },
	  1, {
	  { "10ED451068B", "u@dead.imp.test", "mx.dead.imp.test", "127.0.11.8", 2525, "connect", 0, "4.4.1", "tempfail", "Connection refused", "" } } , 0, 0 },
	{ "pf: two refusing MX, the first stays, the second is absorbed", MX_LOG_POSTFIX, "AAA", {
	  PF2 "connect to mx1.t.test[192.0.2.1]:25: Connection timed out",
	  PF2 "connect to mx2.t.test[192.0.2.2]:25: No route to host",
	  PF2 "4ABC12345: to=<u@t.test>, relay=none, delay=61, delays=0/0/61/0, dsn=4.4.1, status=deferred (connect to mx2.t.test[192.0.2.2]:25: No route to host)" },
	  2, {
	  { "4ABC12345", "u@t.test", "mx1.t.test", "192.0.2.1", 25, "connect", 0, "", "tempfail", "timed out", "" },
	  { "4ABC12345", "u@t.test", "mx2.t.test", "192.0.2.2", 25, "connect", 0, "4.4.1", "tempfail", "No route", "" } } , 0, 0 },
	{ "pf real: greylisted, only MX, deferred (no separate info line)", MX_LOG_POSTFIX, "A", {
	  PF "01BA251068A: to=<u@greyonly.imp.test>, relay=mx1.grey.imp.test[127.0.11.3]:2525, delay=0.05, delays=0.05/0/0/0.01, dsn=4.7.1, status=deferred (host mx1.grey.imp.test[127.0.11.3] said: 451 4.7.1 greylisted (in reply to RCPT TO command))" },
	  1, {
	  { "01BA251068A", "u@greyonly.imp.test", "mx1.grey.imp.test", "127.0.11.3", 2525, "rcpt", 451, "4.7.1", "tempfail", "greylisted", "" } } , 0, 0 },
	{ "pf real: bounce to the sender by pipe is no attempt", MX_LOG_POSTFIX, "OO", {
	  "Nov 30 17:36:07 postfix postfix/pipe[8072]: E444F5103EB: to=<pf@client.test>, relay=mailbox, delay=0.01, delays=0/0.01/0/0.01, dsn=2.0.0, status=sent (delivered via mailbox service)",
	  "Nov 30 17:36:07 postfix postfix/bounce[8066]: D7633510684: sender non-delivery notification: E444F5103EB" },
	  0, { { 0 } } , 0, 0 },
	/* ---- Postfix 3.x formats ---- */
	{ "pf: orig_to=, conn_use=, tls=, IPv6 relay, TLS line, other syslog_name", MX_LOG_POSTFIX, "OA", {
	  "Nov 30 17:31:18 gw postfix-out/smtp[4242]: Verified TLS connection established to mx.Example.COM[2001:db8::1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
	  "Nov 30 17:31:19 gw postfix-out/smtp[4242]: 4Xyz9KmN2pz3ABC: to=<Ann@Example.COM>, orig_to=<alias@example.org>, relay=mx.Example.COM[2001:db8::1]:25, conn_use=2, delay=1.2, delays=0.1/0/0.5/0.6, tls=dane:verify/requiretls?, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 7A1B2C)" },
	  1, {
	  { "4Xyz9KmN2pz3ABC", "Ann@Example.COM", "mx.Example.COM", "2001:db8::1", 25, "dot", 250, "2.0.0", "delivered", "queued as 7A1B2C", "tls" } } , 0, 0 },
	{ "pf: RFC 3339 stamps, lmtp over a unix socket, a service name (3.3+)", MX_LOG_POSTFIX, "AA", {
	  "2026-11-30T17:31:18.123456+01:00 mail postfix/lmtp[77]: 1A2B3C4D5E: to=<u@lmtp.test>, relay=mail.lmtp.test[private/dovecot-lmtp], delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 <u@lmtp.test> kFJ2 Saved)",
	  "2026-11-30T17:31:18Z mail postfix/relay/smtp[78]: 1A2B3C4D5F: to=<v@relay.test>, relay=relay.test[192.0.2.9]:587, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 OK)" },
	  2, {
	  { "1A2B3C4D5E", "u@lmtp.test", "mail.lmtp.test", "private/dovecot-lmtp", -1, "dot", 250, "2.0.0", "delivered", "Saved", "" },
	  { "1A2B3C4D5F", "v@relay.test", "relay.test", "192.0.2.9", 587, "dot", 250, "2.0.0", "delivered", "250 OK", "" } } , 0, 0 },
	{ "pf: lost connection and refused greeting on earlier servers", MX_LOG_POSTFIX, "AAA", {
	  PF2 "5D6E7F8A9B: lost connection with mx1.s.test[192.0.2.1] while sending RCPT TO",
	  PF2 "5D6E7F8A9B: host mx2.s.test[192.0.2.2] refused to talk to me: 421 4.3.2 Service not available",
	  PF2 "5D6E7F8A9B: to=<u@s.test>, relay=mx3.s.test[192.0.2.3]:25, delay=3, delays=0/0/2/1, dsn=4.3.1, status=deferred (host mx3.s.test[192.0.2.3] said: 452 4.3.1 Insufficient system storage (in reply to MAIL FROM command))" },
	  3, {
	  { "5D6E7F8A9B", "u@s.test", "mx1.s.test", "192.0.2.1", -1, "rcpt", 0, "", "tempfail", "lost connection", "" },
	  { "5D6E7F8A9B", "u@s.test", "mx2.s.test", "192.0.2.2", -1, "greeting", 421, "4.3.2", "tempfail", "Service not available", "" },
	  { "5D6E7F8A9B", "u@s.test", "mx3.s.test", "192.0.2.3", 25, "mail", 452, "4.3.1", "tempfail", "Insufficient", "" } } , 0, 0 },
	{ "pf: stages from the status text", MX_LOG_POSTFIX, "AAAAAA", {
	  "Nov 30 10:00:00 m postfix/smtp[1]: AAAAA1: to=<a@x.test>, relay=mx.x.test[192.0.2.1]:25, delay=1, delays=0/0/1/0, dsn=4.4.2, status=deferred (lost connection with mx.x.test[192.0.2.1] while receiving the initial server greeting)",
	  "Nov 30 10:00:00 m postfix/smtp[2]: AAAAA2: to=<a@x.test>, relay=mx.x.test[192.0.2.1]:25, delay=1, delays=0/0/1/0, dsn=4.4.2, status=deferred (conversation with mx.x.test[192.0.2.1] timed out while sending message body)",
	  "Nov 30 10:00:00 m postfix/smtp[3]: AAAAA3: to=<a@x.test>, relay=mx.x.test[192.0.2.1]:25, delay=1, delays=0/0/1/0, dsn=5.7.1, status=bounced (host mx.x.test[192.0.2.1] said: 554 5.7.1 Rejected (spam (score 9)) (in reply to end of DATA command))",
	  "Nov 30 10:00:00 m postfix/smtp[4]: AAAAA4: to=<a@x.test>, relay=mx.x.test[192.0.2.1]:25, delay=1, delays=0/0/1/0, dsn=5.5.4, status=bounced (host mx.x.test[192.0.2.1] said: 554 5.5.4 no DATA (in reply to DATA command))",
	  "Nov 30 10:00:00 m postfix/smtp[5]: AAAAA5: to=<a@x.test>, relay=mx.x.test[192.0.2.1]:25, delay=1, delays=0/0/1/0, dsn=4.4.2, status=deferred (lost connection with mx.x.test[192.0.2.1] while performing the EHLO handshake)",
	  "Nov 30 10:00:00 m postfix/smtp[6]: AAAAA6: to=<a@x.test>, relay=mx.x.test[192.0.2.1]:25, delay=1, delays=0/0/1/0, dsn=4.7.5, status=deferred (lost connection with mx.x.test[192.0.2.1] while receiving the STARTTLS response)" },
	  6, {
	  { "AAAAA1", "a@x.test", "mx.x.test", "192.0.2.1", 25, "greeting", 0, "4.4.2", "tempfail", "initial server greeting", "" },
	  { "AAAAA2", "a@x.test", "mx.x.test", "192.0.2.1", 25, "dot", 0, "4.4.2", "tempfail", "timed out", "" },
	  { "AAAAA3", "a@x.test", "mx.x.test", "192.0.2.1", 25, "dot", 554, "5.7.1", "permfail", "554 5.7.1 Rejected (spam (score 9))", "" },
	  { "AAAAA4", "a@x.test", "mx.x.test", "192.0.2.1", 25, "data", 554, "5.5.4", "permfail", "no DATA", "" },
	  { "AAAAA5", "a@x.test", "mx.x.test", "192.0.2.1", 25, "ehlo", 0, "4.4.2", "tempfail", "EHLO", "" },
	  { "AAAAA6", "a@x.test", "mx.x.test", "192.0.2.1", 25, "starttls", 0, "4.7.5", "tempfail", "STARTTLS", "" } } , 0, 0 },
	{ "pf: DNS failures are attempts without host", MX_LOG_POSTFIX, "AA", {
	  PF2 "6A6A6A6A6A: to=<u@nx.test>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=4.4.3, status=deferred (Host or domain name not found. Name service error for name=nx.test type=MX: Host not found, try again)",
	  PF2 "6A6A6A6A6B: to=<u@nx2.test>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=5.4.4, status=bounced (Host or domain name not found. Name service error for name=nx2.test type=AAAA: Host not found)" },
	  2, {
	  { "6A6A6A6A6A", "u@nx.test", "", "", -1, "", 0, "4.4.3", "tempfail", "Host or domain name not found", "" },
	  { "6A6A6A6A6B", "u@nx2.test", "", "", -1, "", 0, "5.4.4", "permfail", "Host not found", "" } } , 0, 0 },
	{ "pf: delivery temporarily suspended is a note", MX_LOG_POSTFIX, "NN", {
	  "Nov 30 17:36:09 postfix postfix/error[8100]: 7B7B7B7B7B: to=<w@dead.imp.test>, relay=none, delay=0.01, delays=0/0/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to mx.dead.imp.test[127.0.11.8]:2525: Connection refused)",
	  PF "7B7B7B7B7C: to=<x@dead.imp.test>, relay=none, delay=0.01, delays=0/0/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to mx.dead.imp.test[127.0.11.8]:2525: Connection refused)" },
	  0, { { 0 } }, 2, 0 },
	{ "pf: other transports and qmgr are no attempts", MX_LOG_POSTFIX, "OOOOOO", {
	  "Nov 30 10:00:00 m postfix/local[10]: 8C8C8C8C8C: to=<root@m.test>, orig_to=<root>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)",
	  "Nov 30 10:00:00 m postfix/virtual[11]: 8C8C8C8C8D: to=<u@v.test>, relay=virtual, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to maildir)",
	  "Nov 30 10:00:00 m postfix/discard[12]: 8C8C8C8C8E: to=<u@d.test>, relay=none, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (d.test)",
	  "Nov 30 10:00:00 m postfix/error[13]: 8C8C8C8C8F: to=<u@e.test>, relay=none, delay=0.1, delays=0/0/0/0.1, dsn=5.0.0, status=bounced (mail for e.test loops back to myself)",
	  "Nov 30 10:00:00 m postfix/qmgr[14]: 8C8C8C8C90: to=<u@q.test>, relay=none, delay=432000, delays=432000/0/0/0, dsn=4.4.1, status=expired, returned to sender",
	  "Nov 30 10:00:00 m postfix/smtpd[15]: 8C8C8C8C91: client=c.test[192.0.2.50]" },
	  0, { { 0 } } , 0, 0 },
	{ "pf: other programs are OTHER, no stamp is BAD", MX_LOG_POSTFIX, "OOBBO", {
	  "Nov 30 10:00:00 m sshd[12]: Accepted publickey for root from 192.0.2.7 port 5 ssh2",
	  "Nov 30 10:00:00 m kernel: [ 1.0] eth0: link up",
	  "postfix/smtp[1]: connect to mx[192.0.2.1]:25: Connection refused",
	  "2026-11-30 10:00:00 1rABCD-000123-AB => u@x R=r T=t H=h [192.0.2.1]",
	  "Nov 30 10:00:00 m postfix/smtp[16]: warning: TLS library problem: error" },
	  0, { { 0 } } , 0, 0 },
	{ "pf: a held line of another message is not given to this one", MX_LOG_POSTFIX, "AAA", {
	  PF2 "9D9D9D9D9D: host mx1.a.test[192.0.2.1] said: 450 4.2.0 try later (in reply to RCPT TO command)",
	  PF2 "9E9E9E9E9E: to=<u@b.test>, relay=mx.b.test[192.0.2.4]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
	  PF2 "connect to mx.c.test[192.0.2.5]:25: Connection refused" },
	  1, {
	  { "9E9E9E9E9E", "u@b.test", "mx.b.test", "192.0.2.4", 25, "dot", 250, "2.0.0", "delivered", "250 ok", "" } }, 0, 1 },
	{ "pf: a claimed connect line goes to one message only", MX_LOG_POSTFIX, "AAA", {
	  PF2 "connect to mx1.a.test[192.0.2.1]:25: Connection refused",
	  PF2 "9F9F9F9F9F: to=<u@a.test>, relay=mx2.a.test[192.0.2.2]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
	  PF2 "9F9F9F9FA0: to=<u@a.test>, relay=mx2.a.test[192.0.2.2]:25, conn_use=2, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)" },
	  3, {
	  { "9F9F9F9F9F", "u@a.test", "mx1.a.test", "192.0.2.1", 25, "connect", 0, "", "tempfail", "refused", "" },
	  { "9F9F9F9F9F", "u@a.test", "mx2.a.test", "192.0.2.2", 25, "dot", 250, "2.0.0", "delivered", "ok", "" },
	  { "9F9F9F9FA0", "u@a.test", "mx2.a.test", "192.0.2.2", 25, "dot", 250, "2.0.0", "delivered", "ok", "" } } , 0, 0 },
	{ "pf: held per PID: another process's status does not take it", MX_LOG_POSTFIX, "AAA", {
	  "Nov 30 10:00:00 m postfix/smtp[100]: connect to mx1.p.test[192.0.2.1]:25: Connection refused",
	  "Nov 30 10:00:00 m postfix/smtp[200]: B1B1B1B1B1: to=<u@q.test>, relay=mx.q.test[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
	  "Nov 30 10:00:01 m postfix/smtp[100]: B2B2B2B2B2: to=<u@p.test>, relay=mx2.p.test[192.0.2.2]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)" },
	  3, {
	  { "B1B1B1B1B1", "u@q.test", "mx.q.test", "192.0.2.9", 25, "dot", 250, "2.0.0", "delivered", "ok", "" },
	  { "B2B2B2B2B2", "u@p.test", "mx1.p.test", "192.0.2.1", 25, "connect", 0, "", "tempfail", "refused", "" },
	  { "B2B2B2B2B2", "u@p.test", "mx2.p.test", "192.0.2.2", 25, "dot", 250, "2.0.0", "delivered", "ok", "" } } , 0, 0 },
	{ "pf: odd recipients, the null recipient, [ipv6:] addresses", MX_LOG_POSTFIX, "AAA", {
	  PF2 "C1C1C1C1C1: to=<\"a b>c\"@Odd.TEST>, relay=mx.odd.test[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
	  PF2 "C1C1C1C1C2: to=<>, relay=mx.odd.test[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.3, status=bounced (host mx.odd.test[192.0.2.1] said: 501 5.1.3 bad address (in reply to RCPT TO command))",
	  PF2 "C1C1C1C1C3: to=<u@v6.test>, relay=mx.v6.test[ipv6:2001:db8::25]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)" },
	  3, {
	  { "C1C1C1C1C1", "\"a b>c\"@Odd.TEST", "mx.odd.test", "192.0.2.1", 25, "dot", 250, "2.0.0", "delivered", "ok", "" },
	  { "C1C1C1C1C2", "", "mx.odd.test", "192.0.2.1", 25, "rcpt", 501, "5.1.3", "permfail", "bad address", "" },
	  { "C1C1C1C1C3", "u@v6.test", "mx.v6.test", "2001:db8::25", 25, "dot", 250, "2.0.0", "delivered", "ok", "" } } , 0, 0 },
	{ "pf: a held line no message claimed is dropped by finish", MX_LOG_POSTFIX, "AA", {
	  PF2 "connect to mx1.z.test[192.0.2.1]:25: Connection refused",
	  PF2 "D1D1D1D1D1: host mx1.z.test[192.0.2.1] said: 421 4.7.0 bye (in reply to MAIL FROM command)" },
	  0, { { 0 } }, 0, 2 },
	{ "pf: status=deliverable (address probe) is no attempt", MX_LOG_POSTFIX, "O", {
	  PF2 "E1E1E1E1E1: to=<u@p.test>, relay=mx.p.test[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.1.5, status=deliverable (250 2.1.5 Ok)" },
	  0, { { 0 } } , 0, 0 },
	{ "auto: decided by the first Postfix line", MX_LOG_AUTO, "BOA", {
	  "\x01\x02garbage",
	  "Nov 30 10:00:00 m sshd[12]: Accepted publickey",
	  "Nov 30 17:36:07 postfix postfix/smtp[8047]: F1F1F1F1F1: to=<u@a.test>, relay=mx.a.test[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)" },
	  1, {
	  { "F1F1F1F1F1", "u@a.test", "mx.a.test", "192.0.2.1", 25, "dot", 250, "2.0.0", "delivered", "ok", "" } } , 0, 0 },
	/* ---- Exim 4.96 (real) ---- */
	{ "ex real: refusing primary, backup delivers", MX_LOG_EXIM, "OAAO", {
	  EX "1xY5IO-0002Bs-1b <= ex@client.test U=mta7745x165149692 P=local S=377 for u@refuse.imp.test",
	  EX "1xY5IO-0002Bs-1b H=mx1.refuse.imp.test [127.0.11.1] Connection refused",
	  EX "1xY5IO-0002Bs-1b => u@refuse.imp.test R=imp T=imp_smtp S=393 H=mx2.refuse.imp.test [127.0.11.2] C=\"250 2.0.0 Ok\"",
	  EX "1xY5IO-0002Bs-1b Completed" },
	  2, {
	  { "1xY5IO-0002Bs-1b", "u@refuse.imp.test", "mx1.refuse.imp.test", "127.0.11.1", -1, "connect", 0, "", "tempfail", "Connection refused", "" },
	  { "1xY5IO-0002Bs-1b", "u@refuse.imp.test", "mx2.refuse.imp.test", "127.0.11.2", -1, "dot", 250, "2.0.0", "delivered", "250 2.0.0 Ok", "" } } , 0, 0 },
	{ "ex real: greylisting primary, backup delivers", MX_LOG_EXIM, "AA", {
	  EX "1xY5IO-0002Cb-1l H=mx1.grey.imp.test [127.0.11.3]: SMTP error from remote mail server after RCPT TO:<u@grey.imp.test>: 451 4.7.1 greylisted",
	  EX "1xY5IO-0002Cb-1l => u@grey.imp.test R=imp T=imp_smtp S=385 H=mx2.grey.imp.test [127.0.11.4] C=\"250 2.0.0 Ok\"" },
	  2, {
	  { "1xY5IO-0002Cb-1l", "u@grey.imp.test", "mx1.grey.imp.test", "127.0.11.3", -1, "rcpt", 451, "4.7.1", "tempfail", "451 4.7.1 greylisted", "" },
	  { "1xY5IO-0002Cb-1l", "u@grey.imp.test", "mx2.grey.imp.test", "127.0.11.4", -1, "dot", 250, "2.0.0", "delivered", "Ok", "" } } , 0, 0 },
	{ "ex real: 5xx recipient; the bounce is delivered locally", MX_LOG_EXIM, "AOOO", {
	  EX "1xY5IO-0002DO-1w ** u@user.imp.test R=imp T=imp_smtp H=mx.user.imp.test [127.0.11.5]: SMTP error from remote mail server after RCPT TO:<u@user.imp.test>: 550 5.1.1 no such user",
	  EX "1xY5IO-0002DT-1z <= <> R=1xY5IO-0002DO-1w U=Debian-exim P=local S=1797 for ex@client.test",
	  EX "1xY5IO-0002DT-1z => ex <ex@client.test> R=mailbox T=mailbox S=1841",
	  EX "1xY5IO-0002DO-1w Completed" },
	  1, {
	  { "1xY5IO-0002DO-1w", "u@user.imp.test", "mx.user.imp.test", "127.0.11.5", -1, "rcpt", 550, "5.1.1", "permfail", "550 5.1.1 no such user", "" } } , 0, 0 },
	{ "ex real: null MX is a permfail without host", MX_LOG_EXIM, "A", {
	  EX "1xY5IO-0002E9-28 ** u@nullmx.imp.test: an MX or SRV record indicated no SMTP service" },
	  1, {
	  { "1xY5IO-0002E9-28", "u@nullmx.imp.test", "", "", -1, "", 0, "", "permfail", "no SMTP service", "" } } , 0, 0 },
	{ "ex real: one host line, two recipients (=> and ->)", MX_LOG_EXIM, "AAA", {
	  EX "1xY5IO-0002Ep-2J H=mx1.two.imp.test [127.0.11.7] Connection refused",
	  EX "1xY5IO-0002Ep-2J => a@two.imp.test R=imp T=imp_smtp S=361 H=mx2.two.imp.test [127.0.11.6] C=\"250 2.0.0 Ok\"",
	  EX "1xY5IO-0002Ep-2J -> b@two.imp.test R=imp T=imp_smtp S=361 H=mx2.two.imp.test [127.0.11.6] C=\"250 2.0.0 Ok\"" },
	  4, {
	  { "1xY5IO-0002Ep-2J", "a@two.imp.test", "mx1.two.imp.test", "127.0.11.7", -1, "connect", 0, "", "tempfail", "refused", "" },
	  { "1xY5IO-0002Ep-2J", "a@two.imp.test", "mx2.two.imp.test", "127.0.11.6", -1, "dot", 250, "2.0.0", "delivered", "Ok", "" },
	  { "1xY5IO-0002Ep-2J", "b@two.imp.test", "mx1.two.imp.test", "127.0.11.7", -1, "connect", 0, "", "tempfail", "refused", "" },
	  { "1xY5IO-0002Ep-2J", "b@two.imp.test", "mx2.two.imp.test", "127.0.11.6", -1, "dot", 250, "2.0.0", "delivered", "Ok", "" } } , 0, 0 },
	{ "ex real: the last host failure is logged twice and counts once", MX_LOG_EXIM, "AA", {
	  EX "1xY5IO-0002Fc-2T H=mx.dead.imp.test [127.0.11.8] Connection refused",
	  EX "1xY5IO-0002Fc-2T == u@dead.imp.test R=imp T=imp_smtp defer (111): Connection refused" },
	  1, {
	  { "1xY5IO-0002Fc-2T", "u@dead.imp.test", "mx.dead.imp.test", "127.0.11.8", -1, "connect", 0, "", "tempfail", "Connection refused", "" } } , 0, 0 },
	{ "ex real: retry time not reached is a note", MX_LOG_EXIM, "ONN", {
	  EX "1xY5IO-0002Fo-2Y <= ex@client.test U=mta7745x3106031173 P=local S=373 for v@dead.imp.test",
	  EX "1xY5IO-0002Fo-2Y == v@dead.imp.test R=imp T=imp_smtp defer (-54): retry time not reached for any host for 'dead.imp.test'",
	  EX "1xY5IO-0002Fo-2Z == w@dead.imp.test routing defer (-52): retry time not reached" },
	  0, { { 0 } }, 2, 0 },
	{ "ex real: greylisted twice in one second: two attempts", MX_LOG_EXIM, "AA", {
	  EX "1xY5IO-0002GN-2g == u@greyonly.imp.test R=imp T=imp_smtp defer (-44) H=mx1.grey.imp.test [127.0.11.3]: SMTP error from remote mail server after RCPT TO:<u@greyonly.imp.test>: 451 4.7.1 greylisted",
	  EX "1xY5IO-0002GN-2g == u@greyonly.imp.test R=imp T=imp_smtp defer (-44) H=mx1.grey.imp.test [127.0.11.3]: SMTP error from remote mail server after RCPT TO:<u@greyonly.imp.test>: 451 4.7.1 greylisted" },
	  2, {
	  { "1xY5IO-0002GN-2g", "u@greyonly.imp.test", "mx1.grey.imp.test", "127.0.11.3", -1, "rcpt", 451, "4.7.1", "tempfail", "greylisted", "" },
	  { "1xY5IO-0002GN-2g", "u@greyonly.imp.test", "mx1.grey.imp.test", "127.0.11.3", -1, "rcpt", 451, "4.7.1", "tempfail", "greylisted", "" } } , 0, 0 },
	/* ---- Exim 4.9x formats (test/log of the Exim sources and the spec) ---- */
	{ "ex: new ids, ms, +zone, +pid, port, IPv6, X= (TLS), C= with escapes", MX_LOG_EXIM, "A", {
	  "2026-11-30 17:31:18.123 +0100 [4711] 1rABCD-00000000123-ABCD => u@X.test R=dnslookup T=remote_smtp S=1234 H=mx.x.test [2001:db8::5]:25 X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 2.0.0 Ok: queued as \\\"abc\\\"\" QT=1s DT=0s" },
	  1, {
	  { "1rABCD-00000000123-ABCD", "u@X.test", "mx.x.test", "2001:db8::5", 25, "dot", 250, "2.0.0", "delivered", "queued as \"abc\"", "tls" } } , 0, 0 },
	{ "ex: local, pipe and fake deliveries are no attempts", MX_LOG_EXIM, "OOOOOO", {
	  EX "1rABCD-000123-AB => user <user@m.test> R=localuser T=local_delivery",
	  EX "1rABCD-000123-AB => |/usr/bin/procmail <p@m.test> R=pipe T=address_pipe",
	  EX "1rABCD-000123-AB *> u@x.test R=dnslookup T=remote_smtp H=mx.x.test [192.0.2.1]",
	  EX "1rABCD-000123-AB == 44litres@m.test R=all T=local_delivery defer (-1): invalid message_size_limit",
	  EX "1rABCD-000123-AB ** u@x.test: retry timeout exceeded",
	  EX "1rABCD-000123-AB ** |/bin/false <p@m.test> R=r T=address_pipe: Child process of address_pipe transport returned 1" },
	  0, { { 0 } } , 0, 0 },
	{ "ex: == without H= is a tempfail attempt without host", MX_LOG_EXIM, "AA", {
	  EX "1rABCD-000123-AC == u@x.test R=dnslookup T=remote_smtp defer (111): Connection refused",
	  EX "1rABCD-000123-AD == u@y.test R=dnslookup defer (-1): host lookup did not complete" },
	  2, {
	  { "1rABCD-000123-AC", "u@x.test", "", "", -1, "connect", 0, "", "tempfail", "Connection refused", "" },
	  { "1rABCD-000123-AD", "u@y.test", "", "", -1, "", 0, "", "tempfail", "host lookup", "" } } , 0, 0 },
	{ "ex: lines about our own clients are no attempts", MX_LOG_EXIM, "OOO", {
	  EX "1rABCD-000123-AE H=(helo.test) [192.0.2.50] F=<a@b.test> rejected after DATA: spam",
	  EX "1rABCD-000123-AE H=c.test [192.0.2.50] F=<a@b.test> rejected after DATA",
	  EX "1rABCD-000123-AE H=c.test (helo) [192.0.2.50] X=TLS1.3:x rejected DKIM" },
	  0, { { 0 } } , 0, 0 },
	{ "ex: MAIL FROM deferral (test/log/0498), absorbed", MX_LOG_EXIM, "AA", {
	  "1999-03-02 09:44:33 10HmaX-000000005vi-0000 H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after MAIL FROM:<CALLER@myhost.test.ex>: 450 DELAY",
	  "1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@x.y R=r1 T=t1 defer (-45) H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after MAIL FROM:<CALLER@myhost.test.ex>: 450 DELAY" },
	  1, {
	  { "10HmaX-000000005vi-0000", "userx@x.y", "127.0.0.1", "127.0.0.1", -1, "mail", 450, "", "tempfail", "450 DELAY", "" } } , 0, 0 },
	{ "ex: timeout after end of data (test/log/0498), absorbed", MX_LOG_EXIM, "AA", {
	  "1999-03-02 09:44:33 10HmaX-000000005vi-0000 H=127.0.0.1 [127.0.0.1]: SMTP timeout after end of data (ddd bytes written): Connection timed out",
	  "1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@x.y R=r1 T=t1 defer (dd): Connection timed out H=127.0.0.1 [127.0.0.1]: SMTP timeout after end of data (ddd bytes written)" },
	  1, {
	  { "10HmaX-000000005vi-0000", "userx@x.y", "127.0.0.1", "127.0.0.1", -1, "dot", 0, "", "tempfail", "SMTP timeout", "" } } , 0, 0 },
	{ "ex: two hosts refuse (test/log/0109): one stays, one is absorbed", MX_LOG_EXIM, "AAA", {
	  "1999-03-02 09:44:33 10HmaX-000000005vi-0000 H=127.0.0.1 [127.0.0.1] Connection refused",
	  "1999-03-02 09:44:33 10HmaX-000000005vi-0000 H=192.0.2.4 [192.0.2.4] Connection refused",
	  "1999-03-02 09:44:33 10HmaX-000000005vi-0000 == xx@non-exist.test.ex R=remote T=smtp defer (111): Connection refused" },
	  2, {
	  { "10HmaX-000000005vi-0000", "xx@non-exist.test.ex", "127.0.0.1", "127.0.0.1", -1, "connect", 0, "", "tempfail", "refused", "" },
	  { "10HmaX-000000005vi-0000", "xx@non-exist.test.ex", "192.0.2.4", "192.0.2.4", -1, "connect", 0, "", "tempfail", "refused", "" } } , 0, 0 },
	{ "ex: a RCPT TO failure belongs to its recipient only", MX_LOG_EXIM, "AAA", {
	  EX "1rABCD-000123-AF H=mx.r.test [192.0.2.1]: SMTP error from remote mail server after RCPT TO:<a@r.test>: 451 4.2.0 later",
	  EX "1rABCD-000123-AF == a@r.test R=dnslookup T=remote_smtp defer (-44) H=mx.r.test [192.0.2.1]: SMTP error from remote mail server after RCPT TO:<a@r.test>: 451 4.2.0 later",
	  EX "1rABCD-000123-AF => b@r.test R=dnslookup T=remote_smtp H=mx.r.test [192.0.2.1] C=\"250 ok\"" },
	  2, {
	  { "1rABCD-000123-AF", "a@r.test", "mx.r.test", "192.0.2.1", -1, "rcpt", 451, "4.2.0", "tempfail", "later", "" },
	  { "1rABCD-000123-AF", "b@r.test", "mx.r.test", "192.0.2.1", -1, "dot", 250, "", "delivered", "250 ok", "" } } , 0, 0 },
	{ "ex: ** with H=, the continued-connection *, initial connection and HELO", MX_LOG_EXIM, "AAA", {
	  "1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** c@test.ex R=all T=smtp H=127.0.0.1 [127.0.0.1]* : SMTP error from remote mail server after RCPT TO:<c@test.ex>: 550 Recipient not OK",
	  "1999-03-02 09:44:33 10HmaY-000000005vi-0000 ** userx@domain1 F=<CALLER@test.ex> R=others T=smtp H=localhost4.test.ex [127.0.0.1] : SMTP error from remote mail server after initial connection: 550 Go away",
	  "1999-03-02 09:44:33 10HmaZ-000000005vi-0000 ** x@y R=r1 T=t1 H=127.0.0.1 [127.0.0.1] : SMTP error from remote mail server after HELO myhost.test.ex: 550 No" },
	  3, {
	  { "10HmaX-000000005vi-0000", "c@test.ex", "127.0.0.1", "127.0.0.1", -1, "rcpt", 550, "", "permfail", "Recipient not OK", "" },
	  { "10HmaY-000000005vi-0000", "userx@domain1", "localhost4.test.ex", "127.0.0.1", -1, "greeting", 550, "", "permfail", "Go away", "" },
	  { "10HmaZ-000000005vi-0000", "x@y", "127.0.0.1", "127.0.0.1", -1, "ehlo", 550, "", "permfail", "550 No", "" } } , 0, 0 },
	{ "ex: pipelined DATA and end of data", MX_LOG_EXIM, "AA", {
	  "1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** userx@test.ex R=r1 T=t1 H=127.0.0.1 [127.0.0.1] : SMTP error from remote mail server after pipelined DATA: 500 NO",
	  "1999-03-02 09:44:33 10HmaY-000000005vi-0000 ** usery@test.ex R=r1 T=t1 H=127.0.0.1 [127.0.0.1] : SMTP error from remote mail server after pipelined end of data: 554 5.7.1 no" },
	  2, {
	  { "10HmaX-000000005vi-0000", "userx@test.ex", "127.0.0.1", "127.0.0.1", -1, "data", 500, "", "permfail", "500 NO", "" },
	  { "10HmaY-000000005vi-0000", "usery@test.ex", "127.0.0.1", "127.0.0.1", -1, "dot", 554, "5.7.1", "permfail", "no", "" } } , 0, 0 },
	{ "ex: Completed forgets the held lines; finish drops an unclaimed one", MX_LOG_EXIM, "AOA", {
	  EX "1rABCD-000123-AG H=mx.g.test [192.0.2.1] Connection refused",
	  EX "1rABCD-000123-AG Completed",
	  EX "1rABCD-000123-AH H=mx.h.test [192.0.2.2] Connection timed out" },
	  0, { { 0 } }, 0, 1 },
	{ "auto: Exim syslog lines", MX_LOG_AUTO, "OA", {
	  "Nov 30 10:00:00 m sshd[12]: Accepted publickey",
	  "Nov 30 17:31:18 m exim[123]: 1rABCD-000123-AB => u@x.test R=d T=remote_smtp H=mx.x.test [192.0.2.1] C=\"250 OK\"" },
	  1, {
	  { "1rABCD-000123-AB", "u@x.test", "mx.x.test", "192.0.2.1", -1, "dot", 250, "", "delivered", "250 OK", "" } } , 0, 0 },
	{ "auto: decided by the first Exim line", MX_LOG_AUTO, "OOA", {
	  EX "exim 4.96 daemon started: pid=12, -q30m, listening for SMTP on port 25",
	  "Nov 30 10:00:00 m postfix/smtp[1]: connect to mx[192.0.2.1]:25: Connection refused",
	  EX "1rABCD-000123-AB ** u@x.test R=dnslookup T=remote_smtp H=mx.x.test [192.0.2.1] : SMTP error from remote mail server after RCPT TO:<u@x.test>: 550 5.1.1 unknown" },
	  1, {
	  { "1rABCD-000123-AB", "u@x.test", "mx.x.test", "192.0.2.1", -1, "rcpt", 550, "5.1.1", "permfail", "unknown", "" } } , 0, 0 },
};

/* check_attempt - one attempt against its expectation */
static void
check_attempt(const char *row, int i, const struct mx_log_attempt *a, const struct exp *x)
{
	char	dom[254];
	const char *at;
	size_t	k;

#define CHECK_STR(field, want) do { \
	if (strcmp((field), (want)) != 0) \
		fail_msg("%s: attempt %d: %s is \"%s\", want \"%s\"", row, i, #field, (field), (want)); \
} while (0)
#define CHECK_INT(field, want) do { \
	if ((field) != (want)) \
		fail_msg("%s: attempt %d: %s is %d, want %d", row, i, #field, (int)(field), (int)(want)); \
} while (0)
	CHECK_STR(a->queue_id, x->qid);
	CHECK_STR(a->recipient, x->rcpt);
	CHECK_STR(a->host, x->host);
	CHECK_STR(a->address, x->addr);
	CHECK_INT(a->port, x->port);
	CHECK_STR(a->stage, x->stage);
	CHECK_INT(a->reply_code, x->code);
	CHECK_STR(a->enhanced_status, x->enh);
	CHECK_STR(a->outcome, x->outcome);
	if (strstr(a->reply_text, x->text) == NULL)
		fail_msg("%s: attempt %d: reply_text \"%s\" lacks \"%s\"", row, i, a->reply_text, x->text);
	if (x->tls != NULL)
		CHECK_STR(a->tls, x->tls);
	at = strrchr(x->rcpt, '@');
	snprintf(dom, sizeof(dom), "%s", at != NULL ? at + 1 : "");
	for (k = 0; dom[k] != '\0'; k++)
		if (dom[k] >= 'A' && dom[k] <= 'Z')
			dom[k] = (char)(dom[k] - 'A' + 'a');
	CHECK_STR(a->domain, dom);
}

/* test_table - every row of TABLE */
static void
test_table(void **state)
{
	size_t	r;

	(void)state;
	for (r = 0; r < sizeof(TABLE) / sizeof(TABLE[0]); r++) {
		const struct row *row = &TABLE[r];
		struct mx_logparse *p = mx_logparse_new(row->fmt, NOW_MS);
		struct got *g = calloc(1, sizeof(*g));
		int	l, i, dropped;
		int64_t	off = 0;

		assert_non_null(p);
		assert_non_null(g);
		for (l = 0; l < MAX_LINES && row->lines[l] != NULL; l++) {
			enum mx_log_line k = feed(p, row->lines[l], off, g);
			char	want = row->kinds[l];

			if ("ANOB"[k] != want)
				fail_msg("%s: line %d is %c, want %c", row->name, l, "ANOB"[k], want);
			off += (int64_t)strlen(row->lines[l]) + 1;
		}
		if ((size_t)l != strlen(row->kinds))
			fail_msg("%s: %d lines but %zu kinds", row->name, l, strlen(row->kinds));
		if (g->n != row->nexp) {
			for (i = 0; i < g->n; i++)
				print_message("  got %s %s %s %s\n", g->a[i].recipient, g->a[i].host,
					      g->a[i].stage, g->a[i].outcome);
			fail_msg("%s: %d attempts, want %d", row->name, g->n, row->nexp);
		}
		for (i = 0; i < g->n; i++)
			check_attempt(row->name, i, &g->a[i], &row->exp[i]);
		if (g->nnotes != row->notes)
			fail_msg("%s: %d notes, want %d", row->name, g->nnotes, row->notes);
		dropped = mx_logparse_finish(p);
		if (dropped != row->dropped)
			fail_msg("%s: finish dropped %d, want %d", row->name, dropped, row->dropped);
		if (row->fmt == MX_LOG_AUTO && row->nexp > 0)
			assert_int_not_equal(mx_logparse_format(p), MX_LOG_AUTO);
		mx_logparse_free(p);
		free(g);
	}
}

/* --- identities ------------------------------------------------------- */

static const char *REAL_PF[] = {
	PF "connect to mx1.two.imp.test[127.0.11.7]:2525: Connection refused",
	PF "1F55C510692: to=<a@two.imp.test>, relay=mx2.two.imp.test[127.0.11.6]:2525, delay=0.05, delays=0.04/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
	PF "1F55C510692: to=<b@two.imp.test>, relay=mx2.two.imp.test[127.0.11.6]:2525, delay=0.05, delays=0.04/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
	PF "connect to mx.dead.imp.test[127.0.11.8]:2525: Connection refused",
	PF "10ED451068B: to=<u@dead.imp.test>, relay=none, delay=0.05, delays=0.04/0/0/0, dsn=4.4.1, status=deferred (connect to mx.dead.imp.test[127.0.11.8]:2525: Connection refused)",
	PF "connect to mx.dead.imp.test[127.0.11.8]:2525: Connection refused",
	PF "56190510699: to=<v@dead.imp.test>, relay=none, delay=0.04, delays=0.04/0/0/0, dsn=4.4.1, status=deferred (connect to mx.dead.imp.test[127.0.11.8]:2525: Connection refused)",
	NULL
};

/* run_lines - feed lines (offsets from their lengths) to a new parser */
static void
run_lines(enum mx_log_format fmt, const char **lines, struct got *g)
{
	struct mx_logparse *p = mx_logparse_new(fmt, NOW_MS);
	int64_t	off = 0;

	assert_non_null(p);
	for (; *lines != NULL; lines++) {
		feed(p, *lines, off, g);
		off += (int64_t)strlen(*lines) + 1;
	}
	mx_logparse_finish(p);
	mx_logparse_free(p);
}

/* test_identity_stable - the same input twice gives the same identities; all differ */
static void
test_identity_stable(void **state)
{
	struct got *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	int	i, j;

	(void)state;
	run_lines(MX_LOG_POSTFIX, REAL_PF, a);
	run_lines(MX_LOG_POSTFIX, REAL_PF, b);
	assert_int_equal(a->n, 6);
	assert_int_equal(b->n, a->n);
	for (i = 0; i < a->n; i++) {
		assert_true(a->a[i].identity == b->a[i].identity);
		for (j = 0; j < i; j++)
			if (a->a[i].identity == a->a[j].identity)
				fail_msg("attempts %d and %d share an identity", j, i);
	}
	/* the same connect line copied to a@ and b@: two identities */
	assert_string_equal(a->a[0].host, a->a[2].host);
	assert_true(a->a[0].identity != a->a[2].identity);
	/* and the line's offset is that of the connect line, for both */
	assert_true(a->a[0].line_offset == 0 && a->a[2].line_offset == 0);
	free(a);
	free(b);
}

/* test_identity_resume - a restart at the resume offset gives what one run gives */
static void
test_identity_resume(void **state)
{
	struct got *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct mx_logparse *p = mx_logparse_new(MX_LOG_POSTFIX, NOW_MS);
	int64_t	off = 0, offs[8], resume;
	int	i, k, n1;

	(void)state;
	/* one uninterrupted run */
	run_lines(MX_LOG_POSTFIX, REAL_PF, a);
	assert_int_equal(a->n, 6);
	/* a run killed after the connect line of "dead" (index 3) */
	for (i = 0; i <= 3; i++) {
		offs[i] = off;
		feed(p, REAL_PF[i], off, b);
		off += (int64_t)strlen(REAL_PF[i]) + 1;
	}
	n1 = b->n;
	assert_int_equal(n1, 4);
	resume = mx_logparse_resume_offset(p, off);
	assert_true(resume == offs[3]);
	mx_logparse_free(p);
	/* the restarted import reads from the resume offset */
	p = mx_logparse_new(MX_LOG_POSTFIX, NOW_MS);
	for (i = 0, off = 0; REAL_PF[i] != NULL; i++) {
		if (off >= resume)
			feed(p, REAL_PF[i], off, b);
		off += (int64_t)strlen(REAL_PF[i]) + 1;
	}
	mx_logparse_free(p);
	/* together exactly the attempts of one run: none lost, none new */
	assert_int_equal(b->n, a->n);
	for (k = 0; k < b->n; k++)
		assert_true(b->a[k].identity == a->a[k].identity);
	free(a);
	free(b);
}

/* --- resume offsets, reset_file, finish -------------------------------- */

/*
 * test_resume_offset - the oldest held line no status line has claimed yet;
 * a claimed group (its recipients' status lines follow at once) does not
 * hold the position back
 */
static void
test_resume_offset(void **state)
{
	struct mx_logparse *p = mx_logparse_new(MX_LOG_POSTFIX, NOW_MS);
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	assert_true(mx_logparse_resume_offset(p, 50) == 50);
	feed(p, REAL_PF[0], 100, g);
	assert_true(mx_logparse_resume_offset(p, 200) == 100);
	feed(p, REAL_PF[1], 200, g);
	/* claimed by a@ (b@'s status line follows at once): no longer holds back */
	assert_true(mx_logparse_resume_offset(p, 300) == 300);
	feed(p, REAL_PF[2], 300, g);
	assert_int_equal(g->n, 4);
	/* the next delivery of the same PID: the old batch is over */
	feed(p, REAL_PF[3], 400, g);
	assert_true(mx_logparse_resume_offset(p, 500) == 400);	/* held, unclaimed */
	/* rotation: the held line counts as offset 0 of the new file */
	mx_logparse_reset_file(p);
	assert_true(mx_logparse_resume_offset(p, 10) == 0);
	/* its status line in the new file still claims it */
	feed(p, REAL_PF[4], 10, g);
	assert_int_equal(g->n, 5);
	assert_string_equal(g->a[4].host, "mx.dead.imp.test");
	assert_int_equal(mx_logparse_finish(p), 0);
	assert_true(mx_logparse_resume_offset(p, 700) == 700);
	mx_logparse_free(p);
	free(g);
}

/* --- time ------------------------------------------------------------- */

/* ts_of - the ts_ms of the one attempt a Postfix status line with this prefix gives */
static int64_t
ts_of(enum mx_log_format fmt, int64_t now, const char *prefix, const char *rest)
{
	struct mx_logparse *p = mx_logparse_new(fmt, now);
	struct got *g = calloc(1, sizeof(*g));
	char	line[1024];
	int64_t	ts;

	snprintf(line, sizeof(line), "%s%s", prefix, rest);
	assert_int_equal(feed(p, line, 0, g), MX_LINE_ATTEMPT);
	assert_int_equal(g->n, 1);
	ts = g->a[0].ts_ms;
	mx_logparse_free(p);
	free(g);
	return ts;
}

#define PF_REST "postfix/smtp[1]: AAAAAA: to=<u@a.test>, relay=mx.a.test[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)"
#define EX_REST "1rABCD-000123-AB => u@x.test R=d T=remote_smtp H=mx.x.test [192.0.2.1] C=\"250 OK\""

/* test_timestamps - every stamp form, and the year of syslog stamps */
static void
test_timestamps(void **state)
{
	const int64_t jan1 = 1767268800000LL;	/* 2026-01-01T12:00:00Z */

	(void)state;
	assert_true(ts_of(MX_LOG_POSTFIX, NOW_MS, "Nov 30 17:31:18 m ", PF_REST) == 1796059878000LL);
	assert_true(ts_of(MX_LOG_POSTFIX, NOW_MS, "Nov  3 01:02:03 m ", PF_REST) == 1793667723000LL);
	/* no year: the latest that is not more than a day after now */
	assert_true(ts_of(MX_LOG_POSTFIX, jan1, "Dec 31 23:59:59 m ", PF_REST) == 1767225599000LL);
	assert_true(ts_of(MX_LOG_POSTFIX, jan1, "Jan  2 11:00:00 m ", PF_REST) == 1767351600000LL);
	assert_true(ts_of(MX_LOG_POSTFIX, jan1, "Jan  3 12:00:01 m ", PF_REST) ==
		    1767441601000LL - 365LL * 86400000);
	assert_true(ts_of(MX_LOG_POSTFIX, 1709208000000LL, "Feb 29 10:00:00 m ", PF_REST) ==
		    1709200800000LL);	/* 2024 is a leap year */
	/* RFC 3339 with an offset, Z, and fractions kept to the ms */
	assert_true(ts_of(MX_LOG_POSTFIX, NOW_MS, "2026-11-30T17:31:18.123456+01:00 m ", PF_REST) ==
		    1796056278123LL);
	assert_true(ts_of(MX_LOG_POSTFIX, NOW_MS, "2026-11-30T17:31:18Z m ", PF_REST) == 1796059878000LL);
	assert_true(ts_of(MX_LOG_POSTFIX, NOW_MS, "1999-12-31T23:00:00-02:30 m ", PF_REST) ==
		    946690200000LL);
	/* Exim: UTC unless the line carries a zone; +millisec */
	assert_true(ts_of(MX_LOG_EXIM, NOW_MS, "2026-11-30 17:31:18 ", EX_REST) == 1796059878000LL);
	assert_true(ts_of(MX_LOG_EXIM, NOW_MS, "2026-11-30 17:31:18.123 ", EX_REST) == 1796059878123LL);
	assert_true(ts_of(MX_LOG_EXIM, NOW_MS, "2026-11-30 17:31:18 +0100 ", EX_REST) == 1796056278000LL);
	assert_true(ts_of(MX_LOG_EXIM, NOW_MS, "2026-11-30 17:31:18.5 -0030 ", EX_REST) == 1796061678500LL);
}

/* test_set_now - a later now moves the year of later lines */
static void
test_set_now(void **state)
{
	struct mx_logparse *p = mx_logparse_new(MX_LOG_POSTFIX, 1767182400000LL); /* 2025-12-31T12:00Z */
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	feed(p, "Jan  5 10:00:00 m " PF_REST, 0, g);
	mx_logparse_set_now(p, 1767614400000LL);	/* 2026-01-05T12:00Z */
	feed(p, "Jan  5 10:00:00 m " PF_REST, 100, g);
	assert_int_equal(g->n, 2);
	assert_true(g->a[0].ts_ms == 1736071200000LL);	/* 2025-01-05 */
	assert_true(g->a[1].ts_ms == 1767607200000LL);	/* 2026-01-05 */
	mx_logparse_free(p);
	free(g);
}

/* --- bounds and hostile input ----------------------------------------- */

/* test_held_bounds - 64 per PID, and memory flat with many PIDs */
static void
test_held_bounds(void **state)
{
	struct mx_logparse *p = mx_logparse_new(MX_LOG_POSTFIX, NOW_MS);
	struct got *g = calloc(1, sizeof(*g));
	char	line[256];
	int	i, dropped;

	(void)state;
	for (i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "Nov 30 10:00:00 m postfix/smtp[7]: connect to mx%d.b.test[192.0.2.%d]:25: Connection refused",
			 i, i % 250);
		assert_int_equal(feed(p, line, i * 100, g), MX_LINE_ATTEMPT);
	}
	/* the oldest were dropped: the resume offset is the 37th line's */
	assert_true(mx_logparse_resume_offset(p, 100000) == 36 * 100);
	feed(p, "Nov 30 10:00:01 m postfix/smtp[7]: ABCDEF: to=<u@b.test>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx99.b.test[192.0.2.99]:25: Connection refused)",
	     20000, g);
	assert_int_equal(g->n, 64);		/* 63 held + the status line absorbing the 64th */
	assert_string_equal(g->a[0].host, "mx36.b.test");
	assert_string_equal(g->a[63].host, "mx99.b.test");
	/* 20000 PIDs: at most 4096 of them kept */
	for (i = 0; i < 20000; i++) {
		snprintf(line, sizeof(line), "Nov 30 10:00:02 m postfix/smtp[%d]: connect to mx.c.test[192.0.2.1]:25: Connection refused",
			 1000 + i);
		feed(p, line, 30000 + i, g);
	}
	dropped = mx_logparse_finish(p);
	assert_true(dropped > 0 && dropped <= 4096);
	mx_logparse_free(p);
	free(g);
}

/* test_held_expire - a held line an hour (log time) old is forgotten */
static void
test_held_expire(void **state)
{
	struct mx_logparse *p = mx_logparse_new(MX_LOG_POSTFIX, NOW_MS);
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	feed(p, "Nov 30 10:00:00 m postfix/smtp[7]: connect to mx1.b.test[192.0.2.1]:25: Connection refused", 0, g);
	feed(p, "Nov 30 11:00:01 m postfix/smtp[8]: connect to mx1.c.test[192.0.2.1]:25: Connection refused", 100, g);
	assert_true(mx_logparse_resume_offset(p, 200) == 100);
	feed(p, "Nov 30 11:00:01 m postfix/smtp[7]: ABCDEF: to=<u@b.test>, relay=mx2.b.test[192.0.2.2]:25, delay=1, delays=0/0/1/0, dsn=2.0.0, status=sent (250 ok)", 200, g);
	assert_int_equal(g->n, 1);
	assert_int_equal(mx_logparse_finish(p), 1);
	mx_logparse_free(p);
	free(g);
}

/* lcg - a small deterministic generator */
static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* test_bad_input - truncations, garbage, NULs, overlong lines and fields */
static void
test_bad_input(void **state)
{
	const char *full = "Nov 30 17:36:07 postfix postfix/smtp[8047]: D7633510684: to=<u@user.imp.test>, relay=mx.user.imp.test[127.0.11.5]:2525, delay=0.05, delays=0.04/0/0/0.01, dsn=5.1.1, status=bounced (host mx.user.imp.test[127.0.11.5] said: 550 5.1.1 no such user (in reply to RCPT TO command))";
	const char *exfull = EX "1xY5IO-0002DO-1w ** u@user.imp.test R=imp T=imp_smtp H=mx.user.imp.test [127.0.11.5]: SMTP error from remote mail server after RCPT TO:<u@user.imp.test>: 550 5.1.1 no such user";
	struct mx_log_sink sink;
	struct mx_logparse *p, *q;
	struct got *g = calloc(1, sizeof(*g));
	size_t	len, i, big = 10u << 20;
	char   *buf;
	uint32_t seed = 42;
	enum mx_log_line k;

	(void)state;
	sink.attempt = on_attempt;
	sink.note = NULL;			/* a sink without notes is fine */
	sink.ctx = g;
	p = mx_logparse_new(MX_LOG_POSTFIX, NOW_MS);
	q = mx_logparse_new(MX_LOG_EXIM, NOW_MS);
	/* every truncation of a status line: never more than one attempt, no crash */
	for (len = 0; len <= strlen(full); len++)
		(void)mx_logparse_line(p, full, len, 0, &sink);
	for (len = 0; len <= strlen(exfull); len++)
		(void)mx_logparse_line(q, exfull, len, 0, &sink);
	assert_true(g->total <= (int)(strlen(full) + strlen(exfull)));
	/* binary garbage, with and without a valid stamp in front */
	buf = malloc(big + 1);
	assert_non_null(buf);
	for (i = 0; i < 20000; i++) {
		size_t	n = lcg(&seed) % 300, j, pre = 0;

		if (i % 2 == 0) {
			memcpy(buf, "Nov 30 10:00:00 m postfix/smtp[9]: ", 35);
			pre = 35;
		}
		for (j = 0; j < n; j++)
			buf[pre + j] = (char)(lcg(&seed) & 0xff);
		(void)mx_logparse_line(p, buf, pre + n, (int64_t)i, &sink);
		(void)mx_logparse_line(q, buf, pre + n, (int64_t)i, &sink);
	}
	/* a NUL inside a status line: copied as '?' */
	{
		char	nul[512];
		size_t	n = (size_t)snprintf(nul, sizeof(nul), "%s", full);
		int	before = g->n;

		nul[strstr(nul, "such user") - nul + 4] = '\0';
		k = mx_logparse_line(p, nul, n, 0, &sink);
		assert_int_equal(k, MX_LINE_ATTEMPT);
		assert_int_equal(g->n, before + 1);
		assert_non_null(strstr(g->a[g->n - 1].reply_text, "no such?user"));
	}
	/* a connect line cut before its server is no failure to hold: the next
	 * status line of that PID gives only its own attempt */
	{
		struct mx_logparse *c = mx_logparse_new(MX_LOG_POSTFIX, NOW_MS);
		const char *cut = "Nov 30 17:36:07 h postfix/smtp[77]: connect to mx1.ex";
		const char *st = "Nov 30 17:36:07 h postfix/smtp[77]: AB12CD: to=<u@x.test>, "
		    "relay=mx2.x.test[192.0.2.2]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, "
		    "status=sent (250 ok)";
		int	before = g->n;

		assert_int_equal(mx_logparse_line(c, cut, strlen(cut), 0, &sink), MX_LINE_BAD);
		assert_int_equal(mx_logparse_line(c, st, strlen(st), 60, &sink), MX_LINE_ATTEMPT);
		assert_int_equal(g->n, before + 1);
		assert_string_equal(g->a[g->n - 1].outcome, "delivered");
		mx_logparse_free(c);
	}
	/* a 10 MB line: BAD, at once */
	memset(buf, 'x', big);
	memcpy(buf, full, strlen(full));
	assert_int_equal(mx_logparse_line(p, buf, big, 0, &sink), MX_LINE_BAD);
	assert_int_equal(mx_logparse_line(p, NULL, 0, 0, &sink), MX_LINE_BAD);
	/* a long reply (60 KB, multi-byte characters): truncated, still a valid string */
	{
		size_t	n = 0;
		int	before = g->n;

		n += (size_t)sprintf(buf, "Nov 30 10:00:00 m postfix/smtp[9]: LONG1: to=<u@l.test>, relay=mx.l.test[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.0.0, status=bounced (host mx.l.test[192.0.2.1] said: 550 ");
		while (n < 60000) {
			memcpy(buf + n, "\xc3\xa9", 2);	/* e acute */
			n += 2;
		}
		n += (size_t)sprintf(buf + n, " (in reply to RCPT TO command))");
		assert_int_equal(mx_logparse_line(p, buf, n, 0, &sink), MX_LINE_ATTEMPT);
		assert_int_equal(g->n, before + 1);
		len = strlen(g->a[g->n - 1].reply_text);
		assert_true(len > 400 && len < 512);
		/* not cut inside a character: an even number of octets after "550 " */
		assert_int_equal((len - 4) % 2, 0);
		assert_string_equal(g->a[g->n - 1].stage, "rcpt");
	}
	/* an overlong recipient and host: truncated inside their arrays */
	{
		size_t	n = (size_t)sprintf(buf, "Nov 30 10:00:00 m postfix/smtp[9]: LONG2: to=<");
		int	before = g->n;

		memset(buf + n, 'r', 2000);
		n += 2000;
		n += (size_t)sprintf(buf + n, "@x.test>, relay=");
		memset(buf + n, 'h', 3000);
		n += 3000;
		n += (size_t)sprintf(buf + n, "[192.0.2.1]:25, dsn=2.0.0, status=sent (250 ok)");
		assert_int_equal(mx_logparse_line(p, buf, n, 0, &sink), MX_LINE_ATTEMPT);
		assert_int_equal(g->n, before + 1);
		assert_int_equal(strlen(g->a[g->n - 1].recipient), 319);
		assert_int_equal(strlen(g->a[g->n - 1].host), 253);
	}
	mx_logparse_finish(p);
	mx_logparse_finish(q);
	mx_logparse_free(p);
	mx_logparse_free(q);
	mx_logparse_free(NULL);
	free(buf);
	free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_identity_stable),
		cmocka_unit_test(test_identity_resume),
		cmocka_unit_test(test_resume_offset),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_set_now),
		cmocka_unit_test(test_held_bounds),
		cmocka_unit_test(test_held_expire),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
