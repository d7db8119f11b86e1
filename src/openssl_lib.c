/* openssl_lib.c - libcrypto, libssl and libevent_openssl, loaded at run time. */
#include "openssl_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include <openssl/opensslv.h>

/* The ABIs the headers are for. */
#define STRINGIFY(x) #x
#define SONAME_OF(lib, v) lib ".so." STRINGIFY(v)
#define CRYPTO_SONAME SONAME_OF("libcrypto", OPENSSL_SHLIB_VERSION)
#define SSL_SONAME SONAME_OF("libssl", OPENSSL_SHLIB_VERSION)
#define EVENT_OPENSSL_SONAME "libevent_openssl-2.1.so.7"

static struct crypto_lib crypto;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static char crypto_error[256];

static struct tls_lib tls;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static char tls_error[256];

/* Never closed: the handles live as long as the process. */
static void *open_lib(const char *soname, char *err, size_t errlen)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		snprintf(err, errlen, "%s", dlerror());
	return h;
}

#define LOOKUP(h, soname, table, err, name)                                               \
	if (!err[0] && !(*(void **)&table.name = dlsym(h, #name)))                          \
		snprintf(err, sizeof(err), "%s: no %s", soname, #name);

static void load_crypto(void)
{
	void *h = open_lib(CRYPTO_SONAME, crypto_error, sizeof(crypto_error));
	if (!h)
		return;
#define LOOKUP_CRYPTO(name) LOOKUP(h, CRYPTO_SONAME, crypto, crypto_error, name)
	CRYPTO_FUNCS(LOOKUP_CRYPTO)
#undef LOOKUP_CRYPTO
}

const struct crypto_lib *crypto_lib(const char **why)
{
	pthread_once(&crypto_once, load_crypto);
	if (crypto_error[0]) {
		if (why)
			*why = crypto_error;
		return NULL;
	}
	return &crypto;
}

static void load_tls(void)
{
	const char *why = NULL;
	if (!crypto_lib(&why)) {
		snprintf(tls_error, sizeof(tls_error), "%s", why);
		return;
	}
	void *ssl = open_lib(SSL_SONAME, tls_error, sizeof(tls_error));
	if (!ssl)
		return;
	void *ev = open_lib(EVENT_OPENSSL_SONAME, tls_error, sizeof(tls_error));
	if (!ev)
		return;
#define LOOKUP_TLS(name) LOOKUP(ssl, SSL_SONAME, tls, tls_error, name)
	TLS_FUNCS(LOOKUP_TLS)
#undef LOOKUP_TLS
#define LOOKUP_EV(name) LOOKUP(ev, EVENT_OPENSSL_SONAME, tls, tls_error, name)
	TLS_EVENT_FUNCS(LOOKUP_EV)
#undef LOOKUP_EV
}

const struct tls_lib *tls_lib(const char **why)
{
	pthread_once(&tls_once, load_tls);
	if (tls_error[0]) {
		if (why)
			*why = tls_error;
		return NULL;
	}
	return &tls;
}
