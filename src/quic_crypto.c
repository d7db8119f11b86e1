/* quic_crypto.c - Initial secrets, AEAD and header protection for QUIC.
 *
 * Design:
 *  - The salt is the only thing that differs between versions for Initial
 *    key derivation, plus the labels of QUIC v2 ("quicv2 key" instead of
 *    "quic key"; RFC 9369 3.3.2). Salts come from the specifications: RFC 9001
 *    (v1, also used by drafts 33 and 34), RFC 9369 (v2), the QUIC-TLS drafts
 *    22 (draft-22 salt), 23..28 and 29..32, the provisional v2 draft version,
 *    and the salts Google and Facebook shipped in Q050/T050/T051 and mvfst
 *    (mvfst 0xfaceb001 is draft-22 based, 0xfaceb002/0xfaceb00e draft-27).
 *  - HKDF-Extract and HKDF-Expand-Label (RFC 8446 7.1, "tls13 " prefix, empty
 *    context) are RFC 5869 over HMAC-SHA256 (RFC 2104) on libcrypto's SHA-256,
 *    one digest context for the five HMACs of a derivation: EVP_MAC cost a
 *    context copy and its allocations per HMAC, several times the hashing
 *    (keys here are at most 32 bytes, so they are padded, never hashed).
 *    Every output is at most one hash long, so Expand is the single block
 *    T(1). Only the client direction is derived: a passive reader needs the
 *    ClientHello, nothing the server sends.
 *  - AEAD_AES_128_GCM is opened with the associated data fed in pieces, so the
 *    caller never copies a header to unmask it.
 *  - Every function is reentrant: EVP contexts live for one call. The
 *    algorithms (HMAC with SHA-256, AES-128-ECB, AES-128-GCM) are
 *    fetched from libcrypto's providers once per process: looking them up by
 *    name on every call cost several times the cryptography itself.
 * Secrets are wiped from the stack with OPENSSL_cleanse even though Initial
 * keys are public, to keep the habit uniform with real key material. */
#include "quic_crypto.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "openssl_lib.h"

#define QUIC_SALT_LEN 20

enum salt_id {
	SALT_NONE = 0,
	SALT_V1,
	SALT_V2,
	SALT_V2_DRAFT,
	SALT_DRAFT22,
	SALT_DRAFT23,
	SALT_DRAFT29,
	SALT_Q050,
	SALT_T050,
	SALT_T051,
};

static const uint8_t salts[][QUIC_SALT_LEN] = {
	[SALT_V1] = { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		      0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a },
	[SALT_V2] = { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
		      0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 },
	[SALT_V2_DRAFT] = { 0xa7, 0x07, 0xc2, 0x03, 0xa5, 0x9b, 0x47, 0x18, 0x4a, 0x1d,
			    0x62, 0xca, 0x57, 0x04, 0x06, 0xea, 0x7a, 0xe3, 0xe5, 0xd3 },
	[SALT_DRAFT22] = { 0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
			   0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a },
	[SALT_DRAFT23] = { 0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
			   0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02 },
	[SALT_DRAFT29] = { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
			   0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 },
	[SALT_Q050] = { 0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94,
			0x5c, 0xfc, 0xdb, 0xd3, 0xa7, 0xf0, 0xd3, 0xb5, 0x6b, 0x45 },
	[SALT_T050] = { 0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
			0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10 },
	[SALT_T051] = { 0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
			0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d },
};

/* Which salt a version uses, and whether it takes the v2 labels. */
static enum salt_id salt_for(uint32_t version, bool *v2_labels)
{
	*v2_labels = false;
	if ((version >> 8) == 0xff0000) {       /* IETF draft-NN */
		unsigned draft = version & 0xff;
		if (draft < 22)
			return SALT_NONE;   /* pre-22 drafts had another header format */
		if (draft == 22)
			return SALT_DRAFT22;
		if (draft <= 28)
			return SALT_DRAFT23;
		if (draft <= 32)
			return SALT_DRAFT29;
		if (draft <= 34)
			return SALT_V1;
		return SALT_NONE;
	}
	switch (version) {
	case 0x00000001:
		return SALT_V1;
	case 0x6b3343cf:
		*v2_labels = true;
		return SALT_V2;
	case 0x709a50c4:        /* draft-ietf-quic-v2 provisional codepoint */
		*v2_labels = true;
		return SALT_V2_DRAFT;
	case 0xfaceb001:
		return SALT_DRAFT22;
	case 0xfaceb002:
	case 0xfaceb00e:
		return SALT_DRAFT23;
	case 0x51303530:        /* "Q050" */
		return SALT_Q050;
	case 0x54303530:        /* "T050" */
		return SALT_T050;
	case 0x54303531:        /* "T051" */
		return SALT_T051;
	default:
		return SALT_NONE;
	}
}

bool quic_crypto_known_version(uint32_t version)
{
	bool v2;
	return salt_for(version, &v2) != SALT_NONE;
}

/* Loaded and fetched once (pthread_once) and never freed: read-only
 * afterwards, so every thread may use them. NULL if libcrypto could not be
 * loaded or lacks one. */
static pthread_once_t algos_once = PTHREAD_ONCE_INIT;
static const struct crypto_lib *C;
static EVP_MD *sha256;
static EVP_CIPHER *aes_128_ecb, *aes_128_gcm;

static void fetch_algos(void)
{
	if (!(C = crypto_lib(NULL)))
		return;
	sha256 = C->EVP_MD_fetch(NULL, "SHA256", NULL);
	aes_128_ecb = C->EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	aes_128_gcm = C->EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
}

bool quic_crypto_prepare(void)
{
	pthread_once(&algos_once, fetch_algos);
	return sha256 && aes_128_ecb && aes_128_gcm;
}

enum { SHA256_BLOCK = 64 };

/* One SHA-256 of x || y || z (empty parts skipped) into out. */
static bool sha256_of(EVP_MD_CTX *md, const uint8_t *x, size_t x_len, const uint8_t *y,
		      size_t y_len, const uint8_t *z, size_t z_len, uint8_t out[QUIC_SECRET_LEN])
{
	unsigned n = 0;
	return C->EVP_DigestInit_ex2(md, sha256, NULL) > 0 &&
	       (x_len == 0 || C->EVP_DigestUpdate(md, x, x_len) > 0) &&
	       (y_len == 0 || C->EVP_DigestUpdate(md, y, y_len) > 0) &&
	       (z_len == 0 || C->EVP_DigestUpdate(md, z, z_len) > 0) &&
	       C->EVP_DigestFinal_ex(md, out, &n) > 0 && n == QUIC_SECRET_LEN;
}

/* HMAC-SHA256(key, a || b) into out (QUIC_SECRET_LEN bytes), RFC 2104:
 * H((K ^ opad) || H((K ^ ipad) || a || b)), K the key padded to a block. */
static bool hmac_run(EVP_MD_CTX *md, const uint8_t *key, size_t key_len, const uint8_t *a,
		     size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[QUIC_SECRET_LEN])
{
	uint8_t pad[SHA256_BLOCK], inner[QUIC_SECRET_LEN];
	if (key_len > sizeof(pad))
		return false;   /* never here: salts are 20 bytes, secrets 32 */
	memset(pad, 0x36, sizeof(pad));
	for (size_t i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	bool ok = sha256_of(md, pad, sizeof(pad), a, a_len, b, b_len, inner);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	ok = ok && sha256_of(md, pad, sizeof(pad), inner, sizeof(inner), NULL, 0, out);
	C->OPENSSL_cleanse(pad, sizeof(pad));
	C->OPENSSL_cleanse(inner, sizeof(inner));
	return ok;
}

/* HKDF-Extract(salt, ikm) of RFC 5869 2.2. */
static bool hkdf_extract(EVP_MD_CTX *md, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
			 size_t ikm_len, uint8_t prk[QUIC_SECRET_LEN])
{
	return hmac_run(md, salt, salt_len, ikm, ikm_len, NULL, 0, prk);
}

/* HKDF-Expand(prk, info, out_len) of RFC 5869 2.3 for out_len up to one
 * hash length (every QUIC Initial secret, key, IV and HP key): T(1) only. */
static bool hkdf_expand(EVP_MD_CTX *md, const uint8_t prk[QUIC_SECRET_LEN], const uint8_t *info,
			size_t info_len, uint8_t *out, size_t out_len)
{
	static const uint8_t one = 0x01;
	uint8_t t[QUIC_SECRET_LEN];

	if (out_len > sizeof(t) || !hmac_run(md, prk, QUIC_SECRET_LEN, info, info_len, &one, 1, t))
		return false;
	memcpy(out, t, out_len);
	C->OPENSSL_cleanse(t, sizeof(t));
	return true;
}

/* HKDF-Expand-Label(secret, label, "", out_len) of RFC 8446 7.1. */
static bool expand_label(EVP_MD_CTX *md, const uint8_t secret[QUIC_SECRET_LEN], const char *label,
			 uint8_t *out, size_t out_len)
{
	static const char prefix[] = "tls13 ";
	uint8_t info[2 + 1 + 255 + 1];
	size_t plen = sizeof(prefix) - 1;
	size_t llen = strlen(label);
	size_t n = 0;

	if (plen + llen > 255 || out_len > 255)
		return false;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(plen + llen);
	memcpy(info + n, prefix, plen);
	n += plen;
	memcpy(info + n, label, llen);
	n += llen;
	info[n++] = 0;          /* empty context */
	return hkdf_expand(md, secret, info, n, out, out_len);
}

bool quic_derive_client_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
			     struct quic_keys *keys, uint8_t secret_out[QUIC_SECRET_LEN])
{
	bool v2;
	enum salt_id sid = salt_for(version, &v2);
	uint8_t initial[QUIC_SECRET_LEN], client[QUIC_SECRET_LEN];
	bool ok = false;

	/* HKDF over an empty IKM is legal but libcrypto refuses a missing key;
	 * a zero-length DCID never names a client's first Initial anyway. */
	if (sid == SALT_NONE || dcid_len == 0 || dcid_len > QUIC_CID_MAX)
		return false;
	pthread_once(&algos_once, fetch_algos);
	if (!sha256)
		return false;
	EVP_MD_CTX *md = C->EVP_MD_CTX_new();
	if (!md)
		return false;
	ok = hkdf_extract(md, salts[sid], QUIC_SALT_LEN, dcid, dcid_len, initial) &&
	     expand_label(md, initial, "client in", client, sizeof(client)) &&
	     expand_label(md, client, v2 ? "quicv2 key" : "quic key", keys->key,
			  sizeof(keys->key)) &&
	     expand_label(md, client, v2 ? "quicv2 iv" : "quic iv", keys->iv,
			  sizeof(keys->iv)) &&
	     expand_label(md, client, v2 ? "quicv2 hp" : "quic hp", keys->hp,
			  sizeof(keys->hp));
	C->EVP_MD_CTX_free(md);
	if (ok && secret_out)
		memcpy(secret_out, client, sizeof(client));
	C->OPENSSL_cleanse(initial, sizeof(initial));
	C->OPENSSL_cleanse(client, sizeof(client));
	return ok;
}

bool quic_hp_mask(const uint8_t hp[QUIC_HP_LEN], const uint8_t sample[QUIC_SAMPLE_LEN],
		  uint8_t mask[5])
{
	uint8_t block[QUIC_SAMPLE_LEN + 16];   /* EVP may write up to one extra block */
	int outl = 0;
	bool ok;

	pthread_once(&algos_once, fetch_algos);
	if (!aes_128_ecb)
		return false;
	EVP_CIPHER_CTX *ctx = C->EVP_CIPHER_CTX_new();
	if (!ctx)
		return false;
	ok = C->EVP_EncryptInit_ex(ctx, aes_128_ecb, NULL, hp, NULL) > 0 &&
	     C->EVP_CIPHER_CTX_set_padding(ctx, 0) > 0 &&
	     C->EVP_EncryptUpdate(ctx, block, &outl, sample, QUIC_SAMPLE_LEN) > 0 &&
	     outl == QUIC_SAMPLE_LEN;
	C->EVP_CIPHER_CTX_free(ctx);
	if (ok)
		memcpy(mask, block, 5);
	return ok;
}

bool quic_aead_open(const struct quic_keys *keys, uint64_t pn, const struct quic_aad *aad,
		    const uint8_t *ct, size_t ct_len, const uint8_t tag[QUIC_TAG_LEN],
		    uint8_t *out)
{
	uint8_t nonce[QUIC_IV_LEN];
	uint8_t tagbuf[QUIC_TAG_LEN];
	EVP_CIPHER_CTX *ctx;
	int outl = 0, finl = 0;
	bool ok;

	if (ct_len > INT_MAX)
		return false;
	/* RFC 9001 5.3: the packet number, left-padded to the IV size, XOR the IV. */
	memcpy(nonce, keys->iv, sizeof(nonce));
	for (int i = 0; i < 8; i++)
		nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
	memcpy(tagbuf, tag, sizeof(tagbuf));   /* EVP wants a writable pointer */

	pthread_once(&algos_once, fetch_algos);
	if (!aes_128_gcm)
		return false;
	ctx = C->EVP_CIPHER_CTX_new();
	if (!ctx)
		return false;
	ok = C->EVP_DecryptInit_ex(ctx, aes_128_gcm, NULL, keys->key, nonce) > 0;
	for (int i = 0; ok && i < 3; i++) {
		if (aad->len[i] == 0)
			continue;
		ok = aad->len[i] <= INT_MAX &&
		     C->EVP_DecryptUpdate(ctx, NULL, &outl, aad->p[i], (int)aad->len[i]) > 0;
	}
	outl = 0;
	ok = ok && (ct_len == 0 || C->EVP_DecryptUpdate(ctx, out, &outl, ct, (int)ct_len) > 0);
	ok = ok && C->EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, QUIC_TAG_LEN, tagbuf) > 0;
	ok = ok && C->EVP_DecryptFinal_ex(ctx, out + outl, &finl) > 0;
	C->EVP_CIPHER_CTX_free(ctx);
	return ok && (size_t)(outl + finl) == ct_len;
}
