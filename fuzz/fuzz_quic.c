/* fuzz_quic.c - the datagrams of one QUIC flow, both directions.
 *
 * Input: records (fuzz.h) each starting with a control byte:
 *   ctl & 3 == 0  a client datagram, as is
 *   ctl & 3 == 1  a server datagram, as is (Retry, Version Negotiation)
 *   ctl & 3 >= 2  a client Initial that this target protects itself, so that
 *                 the frame parser and the crypto-stream reassembly behind
 *                 the AEAD are reached: [dcid_len][dcid][pn byte][frames];
 *                 (ctl >> 2) % 5 picks v1, v2, draft-29, T051 or Q050, the
 *                 pn byte's low 2 bits the packet-number length.
 * Real captured datagrams (seeds) decrypt as they are; sealed records let
 * the fuzzer mutate what lies under the protection. */
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "quic.h"
#include "quic_crypto.h"

#define SEAL_MAX 1500

static const uint32_t seal_versions[] = {
	0x00000001, 0x6b3343cf, 0xff00001d, 0x54303531, 0x51303530,
};

/* Build a protected Initial (RFC 9001 5) around spec's frames into out. */
static size_t seal(uint8_t ctl, const uint8_t *spec, size_t len, uint8_t *out)
{
	struct fuzz_in in = { spec, len };
	uint32_t version = seal_versions[(ctl >> 2) % 5];
	int dl = fuzz_u8(&in);
	if (dl < 0)
		return 0;
	size_t dcid_len = (size_t)dl % (QUIC_CID_MAX + 1);
	if (in.left < dcid_len + 1)
		return 0;
	const uint8_t *dcid = in.p;
	in.p += dcid_len;
	in.left -= dcid_len;
	uint8_t pnb = (uint8_t)fuzz_u8(&in);
	unsigned pn_len = (pnb & 3u) + 1;
	uint64_t pn = pnb >> 2;
	/* Pad short payloads so the header-protection sample exists. */
	size_t plen = in.left < 24 ? 24 : in.left;
	struct quic_keys k;
	if (dcid_len == 0 || !quic_derive_client_keys(version, dcid, dcid_len, &k, NULL))
		return 0;

	uint8_t type_bits = version == 0x6b3343cf ? 1 : 0;   /* v2 numbers Initial 0b01 */
	size_t n = 0;
	out[n++] = (uint8_t)(0xc0 | (type_bits << 4) | (pn_len - 1));
	for (int i = 3; i >= 0; i--)
		out[n++] = (uint8_t)(version >> (8 * i));
	out[n++] = (uint8_t)dcid_len;
	memcpy(out + n, dcid, dcid_len);
	n += dcid_len;
	out[n++] = 0;                   /* SCID length */
	out[n++] = 0;                   /* token length */
	size_t length = pn_len + plen + QUIC_TAG_LEN;
	if (n + 2 + length > SEAL_MAX)
		return 0;
	out[n++] = (uint8_t)(0x40 | (length >> 8));
	out[n++] = (uint8_t)length;
	size_t pn_off = n;
	for (unsigned i = 0; i < pn_len; i++)
		out[n++] = (uint8_t)(pn >> (8 * (pn_len - 1 - i)));

	uint8_t plain[SEAL_MAX] = { 0 };
	memcpy(plain, in.p, in.left);
	uint8_t nonce[QUIC_IV_LEN];
	memcpy(nonce, k.iv, sizeof(nonce));
	for (int i = 0; i < 8; i++)
		nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l = 0;
	bool ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k.key, nonce) == 1 &&
		  EVP_EncryptUpdate(ctx, NULL, &l, out, (int)n) == 1 &&
		  EVP_EncryptUpdate(ctx, out + n, &l, plain, (int)plen) == 1 &&
		  EVP_EncryptFinal_ex(ctx, out + n + l, &l) == 1 &&
		  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, QUIC_TAG_LEN, out + n + plen) == 1;
	EVP_CIPHER_CTX_free(ctx);
	uint8_t mask[5];
	if (!ok || !quic_hp_mask(k.hp, out + pn_off + 4, mask))
		return 0;
	out[0] ^= mask[0] & 0x0f;
	for (unsigned i = 0; i < pn_len; i++)
		out[pn_off + i] ^= mask[1 + i];
	return n + plen + QUIC_TAG_LEN;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct quic_state *st = quic_state_new();
	const uint8_t *rec;
	size_t len;

	if (!st)
		return 0;
	(void)quic_plausible(data, size);
	while (fuzz_record(&in, &rec, &len)) {
		if (len == 0)
			continue;
		uint8_t ctl = rec[0];
		uint8_t *d;
		size_t n;
		if ((ctl & 3) >= 2) {
			uint8_t sealed[SEAL_MAX];
			n = seal(ctl, rec + 1, len - 1, sealed);
			if (n == 0)
				continue;
			d = fuzz_dup(sealed, n);
		} else {
			n = len - 1;
			d = fuzz_dup(rec + 1, n);
		}
		if (!d)
			break;
		if ((ctl & 3) == 1) {
			quic_server_datagram(st, d, n);
		} else {
			struct tls_client_hello ch;
			(void)quic_plausible(d, n);
			if (quic_client_datagram(st, d, n, &ch) == QUIC_OK) {
				FUZZ_ASSERT(strnlen(ch.sni, TLS_SNI_MAX) < TLS_SNI_MAX);
				FUZZ_ASSERT(strnlen(ch.alpn, TLS_ALPN_MAX) < TLS_ALPN_MAX);
			}
		}
		free(d);
	}
	quic_state_free(st);
	return 0;
}
