/*
 * tlslib - OpenSSL, loaded when the first STARTTLS needs it (see tlslib.h)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "tlslib.h"

#define MX_STR2(x) #x
#define MX_STR(x) MX_STR2(x)
#define LIBSSL_SONAME "libssl.so." MX_STR(OPENSSL_VERSION_MAJOR)

struct mx_tls_api mx_tls;

static void *handle;		/* dlopen() of libssl, never closed */
static bool tried;		/* the first answer stands */
static char load_error[256];

/* The table: each entry's name and where its address goes. */
#define ENTRY(name) { #name, (void **)&mx_tls.name }
static const struct {
	const char *name;
	void  **slot;
} entries[] = {
	ENTRY(TLS_client_method), ENTRY(SSL_CTX_new), ENTRY(SSL_CTX_free),
	ENTRY(SSL_CTX_ctrl), ENTRY(SSL_CTX_set_verify), ENTRY(SSL_new), ENTRY(SSL_free),
	ENTRY(SSL_ctrl), ENTRY(SSL_set_fd), ENTRY(SSL_connect), ENTRY(SSL_read),
	ENTRY(SSL_write), ENTRY(SSL_get_error), ENTRY(ERR_get_error),
	ENTRY(ERR_reason_error_string), ENTRY(ERR_clear_error),
	ENTRY(SSL_CTX_load_verify_locations), ENTRY(SSL_CTX_set_default_verify_paths),
	ENTRY(SSL_set1_host), ENTRY(SSL_add1_host), ENTRY(SSL_set_hostflags),
	ENTRY(SSL_get_verify_result), ENTRY(X509_verify_cert_error_string),
	ENTRY(SSL_CTX_dane_enable), ENTRY(SSL_dane_enable), ENTRY(SSL_dane_tlsa_add),
	ENTRY(SSL_dane_set_flags), ENTRY(SSL_get0_dane_authority), ENTRY(SSL_get_version),
	ENTRY(SSL_get_current_cipher), ENTRY(SSL_CIPHER_get_name),
};
#undef ENTRY

/* load - dlopen and resolve every entry; false and load_error on failure */
static bool
load(void)
{
	const char *why;
	size_t	i;

	if ((handle = dlopen(LIBSSL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		snprintf(load_error, sizeof(load_error), "cannot load OpenSSL: %s",
			 why != NULL ? why : LIBSSL_SONAME);
		return false;
	}
	for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		/* dlsym returns void *; POSIX guarantees it converts to a function pointer */
		void   *sym = dlsym(handle, entries[i].name);

		if (sym == NULL) {
			snprintf(load_error, sizeof(load_error), "cannot load OpenSSL: %s has no %s",
				 LIBSSL_SONAME, entries[i].name);
			memset(&mx_tls, 0, sizeof(mx_tls));
			return false;
		}
		*entries[i].slot = sym;
	}
	return true;
}

/* mx_tlslib_load - load OpenSSL once */
bool
mx_tlslib_load(char *err, size_t errlen)
{
	static bool ok;

	if (!tried) {
		tried = true;
		ok = load();
	}
	if (!ok && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", load_error);
	return ok;
}

/* mx_tlslib_loaded - is libssl mapped into this process (by us or anyone)? */
bool
mx_tlslib_loaded(void)
{
	void   *h = dlopen(LIBSSL_SONAME, RTLD_NOW | RTLD_NOLOAD);

	if (h == NULL)
		return false;
	dlclose(h);		/* NOLOAD took a reference: give it back */
	return true;
}
