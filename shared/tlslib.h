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
 * mismatch is a compile error. libcrypto's functions are found through
 * libssl's handle (dlsym searches the dependencies of the library it
 * was given). Many SSL_* "functions" are macros over SSL_ctrl and
 * SSL_CTX_ctrl: callers call those. The packaging must depend on libssl3.
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
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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
	/* certificate verification (R15) */
	MX_TLS_FN(SSL_CTX_load_verify_locations);
	MX_TLS_FN(SSL_CTX_set_default_verify_paths);
	MX_TLS_FN(SSL_set1_host);
	MX_TLS_FN(SSL_add1_host);
	MX_TLS_FN(SSL_set_hostflags);
	MX_TLS_FN(SSL_get_verify_result);
	MX_TLS_FN(X509_verify_cert_error_string);	/* libcrypto */
	/* DANE (R16, RFC 7672) */
	MX_TLS_FN(SSL_CTX_dane_enable);
	MX_TLS_FN(SSL_dane_enable);
	MX_TLS_FN(SSL_dane_tlsa_add);
	MX_TLS_FN(SSL_dane_set_flags);
	MX_TLS_FN(SSL_get0_dane_authority);
	/* what the session came to: "TLSv1.3 with cipher ..." */
	MX_TLS_FN(SSL_get_version);
	MX_TLS_FN(SSL_get_current_cipher);
	MX_TLS_FN(SSL_CIPHER_get_name);
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
