#!/bin/bash
# tests/import/genlog.sh - write a synthetic Postfix maillog (make bench, follow tests)
#
#   genlog.sh FIRST COUNT [DOMAIN]
# prints the log lines of COUNT messages numbered FIRST.. as a busy Postfix
# logs them (smtpd, cleanup, qmgr, anvil, smtp, qmgr removed: 8 lines a message,
# the shape of a real maillog, where most lines record no attempt). Every
# message goes to DOMAIN (default fol.test) with queue id printf %010X of
# its number; every 4th message's primary refuses the connection first
# ("connect to" line without a queue id, held by PID), every 10th is
# deferred with a 451 at RCPT. Attempts: 1 per message, +1 for every 4th.
# Time stamps are now, in syslog form. Pure awk: quick for millions.
set -u
first=$1 count=$2 domain=${3:-fol.test}
stamp=$(date -u '+%b %e %H:%M:%S')
awk -v first="$first" -v count="$count" -v d="$domain" -v ts="$stamp" '
BEGIN {
	h = "mail.example"
	for (n = first; n < first + count; n++) {
		q = sprintf("%010X", n)
		pid = 1000 + n % 50
		printf "%s %s postfix/smtpd[%d]: connect from client%d.example[198.51.100.%d]\n", ts, h, pid + 100, n % 200, n % 250
		printf "%s %s postfix/smtpd[%d]: %s: client=client%d.example[198.51.100.%d]\n", ts, h, pid + 100, q, n % 200, n % 250
		printf "%s %s postfix/cleanup[%d]: %s: message-id=<%d@client.example>\n", ts, h, pid + 200, q, n
		printf "%s %s postfix/qmgr[99]: %s: from=<s%d@client.example>, size=%d, nrcpt=1 (queue active)\n", ts, h, q, n, 1000 + n % 5000
		printf "%s %s postfix/smtpd[%d]: disconnect from client%d.example[198.51.100.%d] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5\n", ts, h, pid + 100, n % 200, n % 250
		if (n % 4 == 0)
			printf "%s %s postfix/smtp[%d]: connect to mx1.%s[192.0.2.1]:25: Connection refused\n", ts, h, pid, d
		else
			printf "%s %s postfix/anvil[98]: statistics: max connection rate 1/60s for (smtp:198.51.100.%d) at %s\n", ts, h, n % 250, ts
		if (n % 10 == 5)
			printf "%s %s postfix/smtp[%d]: %s: to=<u%d@%s>, relay=mx2.%s[192.0.2.2]:25, delay=0.2, delays=0.1/0/0.05/0.05, dsn=4.7.1, status=deferred (host mx2.%s[192.0.2.2] said: 451 4.7.1 try later (in reply to RCPT TO command))\n", ts, h, pid, q, n, d, d, d
		else
			printf "%s %s postfix/smtp[%d]: %s: to=<u%d@%s>, relay=mx2.%s[192.0.2.2]:25, delay=0.2, delays=0.1/0/0.05/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %X)\n", ts, h, pid, q, n, d, d, n * 7
		printf "%s %s postfix/qmgr[99]: %s: removed\n", ts, h, q
	}
}'
