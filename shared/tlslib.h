/*
 * tlslib - OpenSSL, loaded when the first STARTTLS needs it
 *
 * mxtier-pipe runs once per message. Loading libssl and libcrypto costs a
 * process about 3.5 ms of CPU (mostly the dynamic loader relocating
 * libcrypto), more than the rest of a delivery to a server that offers no
 * TLS, and --route never needs them. So they are not linked in:
 * mx_tlslib_load() dlopen()s libssl.so.N (N: the major version of the
 * OpenSSL headers mxtier was built with) on first use and fills mx_tls with
 * the functions smtp.c calls, each typed from the OpenSSL headers, so a
 * mismatch is a compile error. The packaging must depend on libssl3.
 *
 * Ownership: the library handle lives until the process exits (OpenSSL is
 * never unloaded; its own exit handler cleans up).
 */
#ifndef MXTIER_TLSLIB_H
#define MXTIER_TLSLIB_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MX_TLS_FN(name) __typeof__(name) *name
struct mx_tls_api {
	MX_TLS_FN(TLS_client_method);
	MX_TLS_FN(SSL_CTX_new);
	MX_TLS_FN(SSL_CTX_free);
	MX_TLS_FN(SSL_CTX_ctrl);
	MX_TLS_FN(SSL_CTX_set_verify);
	MX_TLS_FN(SSL_new);
	MX_TLS_FN(SSL_free);
	MX_TLS_FN(SSL_ctrl);
	MX_TLS_FN(SSL_set_fd);
	MX_TLS_FN(SSL_connect);
	MX_TLS_FN(SSL_read);
	MX_TLS_FN(SSL_write);
	MX_TLS_FN(SSL_get_error);
	MX_TLS_FN(ERR_get_error);
	MX_TLS_FN(ERR_reason_error_string);
	MX_TLS_FN(ERR_clear_error);
};
#undef MX_TLS_FN

/* the functions, once mx_tlslib_load() returned true */
extern struct mx_tls_api mx_tls;

/*
 * mx_tlslib_load - load OpenSSL (once; later calls return the first
 * answer); false and the reason ("libssl.so.3: cannot open shared object
 * file") in err when it cannot be loaded
 */
bool	mx_tlslib_load(char *err, size_t errlen);

/* mx_tlslib_loaded - whether OpenSSL is in this process (tests) */
bool	mx_tlslib_loaded(void);

#endif
