/*
 * fleetdb - the fleet's PostgreSQL database (libpq): connect, create and
 * migrate its schema
 *
 * The fleet database holds what every node's mxtier-ship copies from its
 * local SQLite journal (fleet_attempts, fleet_domains, fleet_backoff) and
 * where each node stands (fleet_nodes); the schema is in mxtier-ship(8).
 * Each machine's journal stays the source of truth: nothing here is on the
 * delivery path, and mxtier-pipe never links this module.
 *
 * mx_fleetdb_connect() opens a libpq connection from a postgresql:// URI
 * with bounded waits (connect_timeout, TCP keepalives and user timeout, a
 * statement_timeout), so that a database that is down or unreachable costs
 * a bounded time and an error, never a hang. mx_fleetdb_migrate() creates
 * or brings the schema up to date inside one transaction under a
 * transaction-level advisory lock, so that several shippers starting at
 * once create it exactly once.
 *
 * Errors are written into the caller's buffer as one line that names the
 * database by its URI with any password replaced by "****"; a password
 * that libpq echoes back is blanked too.
 *
 * Ownership: mx_fleetdb_connect() returns a PGconn the caller closes with
 * mx_fleetdb_close() (PQfinish). PGresults stay the caller's to PQclear.
 */
#ifndef MXTIER_FLEETDB_H
#define MXTIER_FLEETDB_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>

#define MX_FLEETDB_SCHEMA_VERSION	1	/* what this build creates and reads */
#define MX_FLEETDB_STATEMENT_TIMEOUT_MS	60000	/* the default; see mx_fleetdb_set_timeout() */

/*
 * mx_fleetdb_connect - connect to url (a postgresql:// or postgres:// URI)
 * as application appname (NULL: "mxtier-ship"; an application_name in the
 * URI wins), waiting at most timeout_s seconds to connect; statements time
 * out after MX_FLEETDB_STATEMENT_TIMEOUT_MS. NULL and err on failure.
 */
PGconn *mx_fleetdb_connect(const char *url, const char *appname, int timeout_s,
			   char *err, size_t errlen);

/* mx_fleetdb_close - close a connection (NULL is fine) */
void	mx_fleetdb_close(PGconn *c);

/* mx_fleetdb_set_timeout - this session's statement_timeout, in milliseconds (0 = none) */
bool	mx_fleetdb_set_timeout(PGconn *c, int ms, char *err, size_t errlen);

/*
 * mx_fleetdb_migrate - create the fleet schema or bring it up to
 * MX_FLEETDB_SCHEMA_VERSION, in one transaction under
 * pg_advisory_xact_lock; a schema newer than this build is refused.
 */
bool	mx_fleetdb_migrate(PGconn *c, char *err, size_t errlen);

/*
 * mx_fleetdb_version - the schema version of the database: 0 when there
 * is no fleet schema yet, -1 and err on failure. Reads only.
 */
int	mx_fleetdb_version(PGconn *c, char *err, size_t errlen);

/* mx_fleetdb_exec - run sql (no parameters, no rows wanted); false and err on failure */
bool	mx_fleetdb_exec(PGconn *c, const char *sql, char *err, size_t errlen);

/*
 * mx_fleetdb_error - "WHAT: <libpq's message>" on one line into err, from
 * res when it carries an error, else from the connection; any password of
 * the connection is blanked. Returns false, for "return mx_fleetdb_error(...)".
 */
bool	mx_fleetdb_error(PGconn *c, const PGresult *res, const char *what,
			 char *err, size_t errlen);

/* mx_fleetdb_sqlstate - the SQLSTATE of a failed result ("" when none) */
const char *mx_fleetdb_sqlstate(const PGresult *res);

#endif
