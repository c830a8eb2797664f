/*
 * config - the mxtier.conf file (libconfuse): keys, defaults, validation
 *
 * mx_config_load() parses a file (a missing file at the default path means
 * all defaults) into a plain struct mx_config; libconfuse types never leave
 * this module. Every error is reported as "FILE:LINE: what was expected".
 *
 * Ownership: a loaded config owns its strings and arrays; free them with
 * mx_config_free(). The policy member points into the config.
 */
#ifndef MXTIER_CONFIG_H
#define MXTIER_CONFIG_H

#include <stddef.h>
#include <stdbool.h>
#include <limits.h>

#include "plan.h"

/* What a temporary failure after connecting does (R11). */
enum mx_fallback_preset { MX_FALLBACK_POSTFIX, MX_FALLBACK_GREETING, MX_FALLBACK_QMAIL };

#define MX_HELO_MAX 255

/* Defaults of the delivery keys; Postfix's smtp_*_timeout values (seconds). */
#define MX_DEFAULT_CONNECT_TIMEOUT	30
#define MX_DEFAULT_GREETING_TIMEOUT	300
#define MX_DEFAULT_HELO_TIMEOUT		300
#define MX_DEFAULT_STARTTLS_TIMEOUT	300
#define MX_DEFAULT_MAIL_TIMEOUT		300
#define MX_DEFAULT_RCPT_TIMEOUT		300
#define MX_DEFAULT_DATA_TIMEOUT		120
#define MX_DEFAULT_DATA_TRANSFER_TIMEOUT 180
#define MX_DEFAULT_DATA_DONE_TIMEOUT	600
#define MX_DEFAULT_QUIT_TIMEOUT		300
#define MX_DEFAULT_TIME_LIMIT		900	/* below Postfix's command_time_limit (1000s) */
#define MX_DEFAULT_BACKOFF_INITIAL	300	/* R13 */
#define MX_DEFAULT_BACKOFF_MAX		3600
#define MX_DEFAULT_SPOOL_MEMORY		(1024 * 1024)
#define MX_DEFAULT_SPOOL_DIR		"/tmp"
#define MX_DEFAULT_RETENTION		(30 * 86400)
#define MX_DEFAULT_STS_TIMEOUT		10	/* seconds for one MTA-STS policy fetch */
#define MX_DEFAULT_STS_MAX_SIZE		65536	/* RFC 8461 3.3: 64 KiB */
#define MX_FLEET_URL_MAX	1024	/* bytes of fleet.url, the NUL not counted */
#define MX_FLEET_NODE_MAX	63	/* bytes of fleet.node: letters, digits, . _ - */

struct mx_config {
	char	source[PATH_MAX];	/* file it came from, or "(defaults)" */
	struct {
		char  **servers;	/* "ADDR[:PORT]" or "[V6]:PORT"; none = system resolv.conf */
		size_t	nservers;
		int	timeout;	/* seconds per try */
		int	tries;
		char  **trusted;	/* servers whose AD bit counts besides loopback (R16) */
		size_t	ntrusted;
	} resolver;
	struct mx_policy policy;
	enum mx_fallback_preset fallback;
	char  **fallback_relay;		/* "HOST[:PORT]" or "[ADDR]:PORT", in order */
	size_t	nfallback_relay;
	struct {
		int	port;
		char	helo_name[MX_HELO_MAX + 1];	/* "" = this host's name */
		enum mx_tls_level tls_level;	/* R15; smtp.starttls sets it too */
		int	connect_timeout;	/* seconds, per stage */
		int	greeting_timeout;
		int	helo_timeout;
		int	starttls_timeout;
		int	mail_timeout;
		int	rcpt_timeout;
		int	data_timeout;		/* the DATA command */
		int	data_transfer_timeout;	/* each chunk of the message */
		int	data_done_timeout;	/* the reply after the final dot */
		int	quit_timeout;
		int	time_limit;		/* the whole delivery, all hosts together */
	} smtp;
	struct {
		char	ca_file[PATH_MAX];	/* "" = the system's CAs (OpenSSL default paths) */
		char	ca_path[PATH_MAX];
		int	min_version;		/* OpenSSL's TLS1_2_VERSION etc., for verified levels */
		bool	mta_sts;		/* R17: look up and apply MTA-STS policies */
		int	mta_sts_timeout;	/* seconds for one policy fetch */
		size_t	mta_sts_max_size;	/* octets of a policy (RFC 8461 3.3: 64 KiB) */
	} tls;
	int	backoff_initial;	/* R13, seconds */
	int	backoff_max;
	bool	fleet_backoff;		/* R13 also skips what other nodes saw fail (fleet_backoff table) */
	struct {
		size_t	memory_limit;	/* bytes kept in memory before a temp file */
		char	directory[PATH_MAX];
	} spool;
	struct {
		char	path[PATH_MAX];
		long	retention;	/* seconds attempts are kept */
	} journal;
	struct {
		char	url[MX_FLEET_URL_MAX + 1];	/* postgresql:// URI; "" = no fleet */
		char	node[MX_FLEET_NODE_MAX + 1];	/* this node's name; default the short host name */
	} fleet;
};

/* mx_config_default_path - SYSCONFDIR/mxtier/mxtier.conf */
const char *mx_config_default_path(void);

/* mx_config_defaults - fill cfg with the built-in defaults (allocates; free with mx_config_free) */
bool	mx_config_defaults(struct mx_config *cfg);

/*
 * mx_config_load - read path into cfg. When must_exist is false a missing
 * file yields the defaults. On error returns false, leaves cfg freed, and
 * writes "FILE:LINE: message" (or "FILE: message") into err.
 */
bool	mx_config_load(const char *path, bool must_exist, struct mx_config *cfg,
		       char *err, size_t errlen);

/* mx_config_load_buf - same for text in memory; name stands in for the file name */
bool	mx_config_load_buf(const char *text, const char *name, struct mx_config *cfg,
			   char *err, size_t errlen);

/* mx_config_free - free what a load or defaults allocated */
void	mx_config_free(struct mx_config *cfg);

/*
 * mx_fleet_url_mask - copy url into out with any password replaced by
 * "****": the user info of a URI (scheme://user:PASSWORD@host) and a
 * password=VALUE parameter or key. Every message that shows the URL goes
 * through it. Returns out.
 */
char   *mx_fleet_url_mask(const char *url, char *out, size_t outlen);

/* mx_fleet_node_valid - 1 to 63 letters, digits, ".", "_" or "-" */
bool	mx_fleet_node_valid(const char *node);

/* token helpers for output: "postfix", "opportunistic", ... */
const char *mx_fallback_preset_name(enum mx_fallback_preset p);
const char *mx_tls_level_name(enum mx_tls_level l);	/* "none", "may", ..., "dane-only" */

#endif
