/* quic_crypto.h - QUIC Initial packet protection: keys, AEAD, header protection.
 *
 * Initial packets are protected with keys anyone can compute from the
 * Destination Connection ID of the client's first Initial and a salt fixed
 * by the version (RFC 9001 5.2, RFC 9369 3.3). This module holds the salt
 * table and the three primitives a passive reader needs: derive the client's
 * Initial keys, compute a header protection mask (AES-128-ECB over a sample),
 * and open an AEAD_AES_128_GCM payload. Everything goes through OpenSSL
 * libcrypto 3 EVP; nothing is allocated that outlives a call. */
#ifndef APPLEMON_QUIC_CRYPTO_H
#define APPLEMON_QUIC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIC_KEY_LEN 16           /* AEAD_AES_128_GCM key */
#define QUIC_IV_LEN 12            /* AEAD nonce */
#define QUIC_HP_LEN 16            /* AES-128 header protection key */
#define QUIC_TAG_LEN 16           /* GCM tag */
#define QUIC_SAMPLE_LEN 16        /* header protection sample */
#define QUIC_SECRET_LEN 32        /* SHA-256 output */
#define QUIC_CID_MAX 20           /* RFC 9000 17.2: connection IDs are at most 20 bytes */

struct quic_keys {
	uint8_t key[QUIC_KEY_LEN];
	uint8_t iv[QUIC_IV_LEN];
	uint8_t hp[QUIC_HP_LEN];
};

/* Load libcrypto (openssl_lib.h) and fetch the algorithms now rather than
 * at the first Initial (thread-safe, once per process): loading,
 * libcrypto's own initialisation and the fetches take milliseconds, better
 * spent before the packets come. false if any of it failed (then no
 * Initial is ever decrypted). */
bool quic_crypto_prepare(void);

/* Does this version have an Initial salt we know? (v1, v2, drafts 22..34,
 * the v2 draft, mvfst, Q050, T050, T051) */
bool quic_crypto_known_version(uint32_t version);

/* Client Initial keys for `version` from a Destination Connection ID.
 * `secret` (may be NULL) receives client_initial_secret. false when the
 * version has no known salt or libcrypto fails. */
bool quic_derive_client_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
			     struct quic_keys *keys, uint8_t secret[QUIC_SECRET_LEN]);

/* Header protection mask: the first 5 bytes of AES-128-ECB(hp, sample). */
bool quic_hp_mask(const uint8_t hp[QUIC_HP_LEN], const uint8_t sample[QUIC_SAMPLE_LEN],
		  uint8_t mask[5]);

/* Open an AEAD_AES_128_GCM payload. The associated data is the unprotected
 * header, passed as up to three pieces so the caller need not copy it.
 * `ct`/`ct_len` excludes the tag; `out` must hold ct_len bytes. Returns true
 * only if the tag verifies (out is then the plaintext). */
struct quic_aad {
	const uint8_t *p[3];
	size_t len[3];
};
bool quic_aead_open(const struct quic_keys *keys, uint64_t pn, const struct quic_aad *aad,
		    const uint8_t *ct, size_t ct_len, const uint8_t tag[QUIC_TAG_LEN],
		    uint8_t *out);

#endif
