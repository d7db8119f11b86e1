/* openssl_lib.h - libcrypto, libssl and libevent_openssl, loaded at run time.
 *
 * They are compiled against but not linked: loading and relocating them
 * took 146 page faults and 2.7 ms of every start (a third of applemon's
 * whole start-up, docs/performance.md), and a start that loads nothing else
 * is what a capture file's run waits for. libcrypto (QUIC Initial keys, the
 * Community ID) is loaded by main's start-up thread while the main thread
 * goes on (quic_crypto_prepare), libssl and libevent_openssl when the first
 * TLS syslog sink starts. The headers still give the types and the checked
 * prototypes of the functions looked up (as src/sink_relp.c does for
 * librelp). Each table is looked up once and never unloaded. */
#ifndef APPLEMON_OPENSSL_LIB_H
#define APPLEMON_OPENSSL_LIB_H

#include <event2/bufferevent_ssl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define CRYPTO_FUNCS(X)                                                                    \
	X(OPENSSL_cleanse) X(EVP_MD_fetch) X(EVP_CIPHER_fetch) X(EVP_sha1) X(EVP_Digest)    \
	X(EVP_EncodeBlock) X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) X(EVP_DigestInit_ex2)      \
	X(EVP_DigestUpdate) X(EVP_DigestFinal_ex) X(EVP_CIPHER_CTX_new)                    \
	X(EVP_CIPHER_CTX_free) X(EVP_CIPHER_CTX_ctrl) X(EVP_CIPHER_CTX_set_padding)        \
	X(EVP_EncryptInit_ex) X(EVP_EncryptUpdate) X(EVP_DecryptInit_ex)                   \
	X(EVP_DecryptUpdate) X(EVP_DecryptFinal_ex) X(ERR_error_string_n)                  \
	X(X509_VERIFY_PARAM_set1_ip_asc)

#define TLS_FUNCS(X)                                                                       \
	X(TLS_client_method) X(SSL_CTX_new) X(SSL_CTX_free) X(SSL_CTX_ctrl)                 \
	X(SSL_CTX_set_verify) X(SSL_CTX_load_verify_locations)                              \
	X(SSL_CTX_set_default_verify_paths) X(SSL_CTX_use_certificate_chain_file)           \
	X(SSL_CTX_use_PrivateKey_file) X(SSL_new) X(SSL_free) X(SSL_ctrl) X(SSL_set1_host)  \
	X(SSL_get0_param)

#define TLS_EVENT_FUNCS(X)                                                                 \
	X(bufferevent_openssl_socket_new) X(bufferevent_openssl_set_allow_dirty_shutdown)   \
	X(bufferevent_get_openssl_error)

#define OPENSSL_LIB_FIELD(name) __typeof__(name) *name;

struct crypto_lib {
	CRYPTO_FUNCS(OPENSSL_LIB_FIELD)
};

struct tls_lib {
	TLS_FUNCS(OPENSSL_LIB_FIELD)
	TLS_EVENT_FUNCS(OPENSSL_LIB_FIELD)
};

/* libcrypto's functions, loaded on the first call (thread-safe); NULL when
 * it could not be loaded, and *why (if not NULL) says why. */
const struct crypto_lib *crypto_lib(const char **why);

/* libssl's and libevent_openssl's (and libcrypto's first), the same way. */
const struct tls_lib *tls_lib(const char **why);

#endif
