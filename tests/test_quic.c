/* test_quic.c - QUIC Initial decryption and ClientHello extraction.
 *
 * What is pinned down here:
 *  - the RFC 9001 and RFC 9369 Appendix A vectors: the derived client keys,
 *    and the full protected client Initial, which must give the ClientHello
 *    for "example.com" (the vectors were checked byte for byte against an
 *    independent AES-GCM implementation before being written down);
 *  - reassembly: CRYPTO frames out of order, overlapping and repeated, over
 *    several packets and datagrams, coalesced packets, a Retry's new keys;
 *  - hostility: truncation at every length, corrupt tags and headers, frames
 *    with absurd lengths, random mutations (run under ASan/UBSan);
 *  - gQUIC: Q025/Q035/Q043 public header, Q046, Q050 and T051 packets;
 *  - the shared corpus (when ../shared is present): every capture is read
 *    with libpcap and decode_packet(), UDP payloads are grouped per flow
 *    (the client is the sender of the first plausible Initial), and the SNIs
 *    found are compared with tshark's (names/CAPTURE.tsv, kind `quic`).
 * Test packets are sealed by a small encoder below that uses libcrypto
 * directly; it reproduces the RFC 9001 A.2 packet exactly, which is what
 * makes the synthetic packets trustworthy. */
#include <dirent.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <pcap/pcap.h>

#include "addr.h"
#include "decode.h"
#include "quic.h"
#include "quic_crypto.h"
#include "testutil.h"

/* ---- RFC vectors ---- */

static const char rfc9001_a2_packet[] =
	"c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
	"d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
	"1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
	"8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
	"30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
	"457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
	"4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
	"4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
	"485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
	"059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
	"7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
	"9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
	"be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
	"68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
	"c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
	"f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
	"291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
	"25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
	"14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
	"ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
	"e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
	"c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
	"203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
	"cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
	"fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
	"a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
	"90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
	"162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
	"40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
	"6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
	"8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
	"be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
	"54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
	"760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
	"f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
	"056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
	"7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
	"e221af44860018ab0856972e194cd934";

static const char rfc9369_a2_packet[] =
	"d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
	"dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
	"9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
	"250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
	"12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
	"cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
	"18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
	"12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
	"d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
	"6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
	"bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
	"636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
	"ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
	"16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
	"4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
	"fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
	"8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
	"14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
	"9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
	"abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
	"80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
	"848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
	"d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
	"c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
	"7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
	"f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
	"10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
	"3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
	"06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
	"8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
	"34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
	"e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
	"5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
	"8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
	"d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
	"6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
	"9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
	"a18b2faa745b6fe189cf772a9f84cbfc";

static const char rfc_a2_frames[] =
	"060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
	"04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
	"616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
	"04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
	"baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
	"0d0010000e0403050306030203080408050806002d00020101001c0002400100"
	"3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
	"75300901100f088394c8f03e51570806048000ffff";

/* Comments of RFC 9001 A.2 / RFC 9369 A.2: the first Initial's DCID, its
 * packet number, and the size of the frames once padded. */
static const uint8_t rfc_dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
#define RFC_PN 2
#define RFC_PAYLOAD_LEN 1162
#define RFC_CH_OFFSET 4                /* "06 00 40f1": CRYPTO, offset 0, length 241 */
#define RFC_CH_LEN 241
#define V1 0x00000001u
#define V2 0x6b3343cfu

/* ---- helpers ---- */

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (; s[0] && s[1]; s += 2) {
		unsigned v;
		ck_assert_msg(sscanf(s, "%2x", &v) == 1, "bad hex near %.8s", s);
		ck_assert(n < cap);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void assert_hex(const uint8_t *got, size_t n, const char *want)
{
	uint8_t w[64];
	size_t wn = unhex(want, w, sizeof(w));

	ck_assert_uint_eq(wn, n);
	ck_assert_msg(memcmp(got, w, n) == 0, "bytes differ from %s", want);
}

/* The ClientHello handshake message of the RFC vectors (241 bytes). */
static size_t rfc_client_hello(uint8_t *out)
{
	uint8_t frames[512];
	size_t n = unhex(rfc_a2_frames, frames, sizeof(frames));

	ck_assert_uint_eq(n, RFC_CH_OFFSET + RFC_CH_LEN);
	memcpy(out, frames + RFC_CH_OFFSET, RFC_CH_LEN);
	return RFC_CH_LEN;
}

struct buf {
	uint8_t b[2048];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	ck_assert(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put_u8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put_be(struct buf *b, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		put_u8(b, (uint8_t)(v >> (8 * (n - 1 - i))));
}

static void put_varint(struct buf *b, uint64_t v)
{
	if (v < 64)
		put_be(b, v, 1);
	else if (v < 16384)
		put_be(b, v | 0x4000, 2);
	else if (v < (1u << 30))
		put_be(b, v | 0x80000000u, 4);
	else
		put_be(b, v | 0xc000000000000000ull, 8);
}

static void put_crypto(struct buf *b, uint64_t off, const uint8_t *data, size_t len)
{
	put_u8(b, 0x06);
	put_varint(b, off);
	put_varint(b, len);
	put(b, data, len);
}

static void pad_to(struct buf *b, size_t n)
{
	while (b->n < n)
		put_u8(b, 0);
}

/* A long-header packet as a client would protect it. */
struct lh {
	uint32_t version;
	uint8_t type_bits;           /* long packet type as on the wire */
	const uint8_t *dcid;         /* in the header */
	size_t dcid_len;
	const uint8_t *kcid;         /* keys derived from this (NULL: dcid) */
	size_t kcid_len;
	const uint8_t *scid;
	size_t scid_len;
	uint64_t pn;
	unsigned pn_len;
	bool no_token;               /* 0-RTT/Handshake: no token field */
};

static const uint8_t client_scid[8] = { 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8 };

static size_t seal(const struct lh *h, const uint8_t *payload, size_t plen, uint8_t *out,
		   size_t cap)
{
	struct buf hdr = { .n = 0 };
	struct quic_keys k;
	uint8_t nonce[QUIC_IV_LEN], mask[5];
	int l = 0;

	put_u8(&hdr, (uint8_t)(0xc0 | (h->type_bits << 4) | (h->pn_len - 1)));
	put_be(&hdr, h->version, 4);
	put_u8(&hdr, (uint8_t)h->dcid_len);
	put(&hdr, h->dcid, h->dcid_len);
	put_u8(&hdr, (uint8_t)h->scid_len);
	put(&hdr, h->scid, h->scid_len);
	if (!h->no_token)
		put_u8(&hdr, 0);
	put_be(&hdr, 0x4000 | (h->pn_len + plen + QUIC_TAG_LEN), 2);
	size_t pn_off = hdr.n;
	put_be(&hdr, h->pn, h->pn_len);
	ck_assert(hdr.n + plen + QUIC_TAG_LEN <= cap);

	ck_assert(quic_derive_client_keys(h->version, h->kcid ? h->kcid : h->dcid,
					  h->kcid ? h->kcid_len : h->dcid_len, &k, NULL));
	memcpy(nonce, k.iv, sizeof(nonce));
	for (int i = 0; i < 8; i++)
		nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(h->pn >> (8 * i));
	memcpy(out, hdr.b, hdr.n);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	ck_assert(ctx);
	ck_assert(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k.key, nonce) == 1);
	ck_assert(EVP_EncryptUpdate(ctx, NULL, &l, hdr.b, (int)hdr.n) == 1);
	ck_assert(EVP_EncryptUpdate(ctx, out + hdr.n, &l, payload, (int)plen) == 1);
	ck_assert(EVP_EncryptFinal_ex(ctx, out + hdr.n + l, &l) == 1);
	ck_assert(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, QUIC_TAG_LEN,
				      out + hdr.n + plen) == 1);
	EVP_CIPHER_CTX_free(ctx);

	ck_assert(quic_hp_mask(k.hp, out + pn_off + 4, mask));
	out[0] ^= mask[0] & 0x0f;
	for (unsigned i = 0; i < h->pn_len; i++)
		out[pn_off + i] ^= mask[1 + i];
	return hdr.n + plen + QUIC_TAG_LEN;
}

/* A v1 Initial (header DCID `dcid`, keys from `kcid`) carrying `frames`,
 * padded to a 1200-byte datagram. */
static size_t v1_initial(const uint8_t *dcid, const uint8_t *kcid, uint64_t pn,
			 struct buf *frames, uint8_t *out, size_t cap)
{
	struct lh h = { V1, 0, dcid, 8, kcid, 8, client_scid, 8, pn, 2, false };

	pad_to(frames, 1200 - (1 + 4 + 1 + 8 + 1 + 8 + 1 + 2 + 2 + QUIC_TAG_LEN));
	return seal(&h, frames->b, frames->n, out, cap);
}

static enum quic_result feed(struct quic_state *st, const uint8_t *p, size_t n,
			     struct tls_client_hello *ch)
{
	memset(ch, 0x5a, sizeof(*ch));         /* the result must not depend on garbage */
	return quic_client_datagram(st, p, n, ch);
}

static void assert_example_com(enum quic_result r, const struct tls_client_hello *ch)
{
	ck_assert_int_eq(r, QUIC_OK);
	ck_assert(ch->has_sni);
	ck_assert_str_eq(ch->sni, "example.com");
	ck_assert_str_eq(ch->alpn, "alpn");
	ck_assert_uint_eq(ch->version, 0x0303);
	ck_assert_uint_eq(ch->record_version, 0);
}

static const uint8_t cid_a[8] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7 };
static const uint8_t cid_s[8] = { 0x5e, 0x5e, 0x5e, 0x5e, 0x01, 0x02, 0x03, 0x04 };
static const uint8_t cid_r[8] = { 0x7e, 0x7e, 0x7e, 0x7e, 0x09, 0x08, 0x07, 0x06 };

/* ---- RFC 9001 / RFC 9369 Appendix A ---- */

START_TEST(test_rfc9001_keys)
{
	struct quic_keys k;
	uint8_t secret[QUIC_SECRET_LEN];

	ck_assert(quic_derive_client_keys(V1, rfc_dcid, sizeof(rfc_dcid), &k, secret));
	assert_hex(secret, sizeof(secret),
		   "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
	assert_hex(k.key, sizeof(k.key), "1f369613dd76d5467730efcbe3b1a22d");
	assert_hex(k.iv, sizeof(k.iv), "fa044b2f42a3fd3b46fb255c");
	assert_hex(k.hp, sizeof(k.hp), "9f50449e04a0e810283a1e9933adedd2");
}
END_TEST

START_TEST(test_rfc9369_keys)
{
	struct quic_keys k;
	uint8_t secret[QUIC_SECRET_LEN];

	ck_assert(quic_derive_client_keys(V2, rfc_dcid, sizeof(rfc_dcid), &k, secret));
	assert_hex(secret, sizeof(secret),
		   "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b");
	assert_hex(k.key, sizeof(k.key), "8b1a0bc121284290a29e0971b5cd045d");
	assert_hex(k.iv, sizeof(k.iv), "91f73e2351d8fa91660e909f");
	assert_hex(k.hp, sizeof(k.hp), "45b95e15235d6f45a6b19cbcb0294ba9");
}
END_TEST

START_TEST(test_unknown_version_has_no_keys)
{
	struct quic_keys k;

	ck_assert(!quic_derive_client_keys(0x1a2a3a4a, rfc_dcid, 8, &k, NULL));
	ck_assert(!quic_derive_client_keys(0xff000015, rfc_dcid, 8, &k, NULL));  /* draft-21 */
	ck_assert(!quic_derive_client_keys(V1, rfc_dcid, 0, &k, NULL));
	ck_assert(!quic_derive_client_keys(V1, rfc_dcid, 21, &k, NULL));
	ck_assert(quic_crypto_known_version(0xff00001d));
	ck_assert(quic_crypto_known_version(0xfaceb002));
	ck_assert(quic_crypto_known_version(0x54303531));
}
END_TEST

/* The encoder used by the other tests reproduces A.2 (and RFC 9369 A.2). */
START_TEST(test_encoder_reproduces_rfc)
{
	uint8_t want[1300], got[1300];
	struct buf frames = { .n = 0 };

	frames.n = unhex(rfc_a2_frames, frames.b, sizeof(frames.b));
	pad_to(&frames, RFC_PAYLOAD_LEN);

	struct lh h = { V1, 0, rfc_dcid, 8, NULL, 0, NULL, 0, RFC_PN, 4, false };
	size_t wn = unhex(rfc9001_a2_packet, want, sizeof(want));
	size_t gn = seal(&h, frames.b, frames.n, got, sizeof(got));
	ck_assert_uint_eq(wn, 1200);
	ck_assert_uint_eq(gn, wn);
	ck_assert(memcmp(want, got, wn) == 0);

	h.version = V2;
	h.type_bits = 1;                       /* RFC 9369: Initial is 0b01 */
	wn = unhex(rfc9369_a2_packet, want, sizeof(want));
	gn = seal(&h, frames.b, frames.n, got, sizeof(got));
	ck_assert_uint_eq(gn, wn);
	ck_assert(memcmp(want, got, wn) == 0);
}
END_TEST

START_TEST(test_rfc9001_client_initial)
{
	uint8_t pkt[1300];
	size_t n = unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	struct quic_state *st = quic_state_new();
	struct tls_client_hello ch;

	ck_assert(st);
	ck_assert_uint_eq(quic_state_version(st), 0);
	ck_assert(quic_plausible(pkt, n));
	assert_example_com(feed(st, pkt, n, &ch), &ch);
	ck_assert_uint_eq(quic_state_version(st), V1);
	/* The same Initial again (a retransmission) is read again. */
	assert_example_com(feed(st, pkt, n, &ch), &ch);
	quic_state_free(st);
}
END_TEST

START_TEST(test_rfc9369_client_initial)
{
	uint8_t pkt[1300];
	size_t n = unhex(rfc9369_a2_packet, pkt, sizeof(pkt));
	struct quic_state *st = quic_state_new();
	struct tls_client_hello ch;

	ck_assert(quic_plausible(pkt, n));
	assert_example_com(feed(st, pkt, n, &ch), &ch);
	ck_assert_uint_eq(quic_state_version(st), V2);
	quic_state_free(st);
}
END_TEST

/* ---- reassembly ---- */

START_TEST(test_crypto_out_of_order_two_packets)
{
	uint8_t hello[RFC_CH_LEN], pkt[1300];
	struct tls_client_hello ch;
	struct quic_state *st = quic_state_new();
	struct buf f = { .n = 0 };
	size_t n;

	rfc_client_hello(hello);
	/* First datagram: the tail and a middle piece, tail first. */
	put_crypto(&f, 150, hello + 150, RFC_CH_LEN - 150);
	put_crypto(&f, 60, hello + 60, 60);
	n = v1_initial(cid_a, cid_a, 0, &f, pkt, sizeof(pkt));
	ck_assert_int_eq(feed(st, pkt, n, &ch), QUIC_NEED_MORE);

	/* Second datagram carries the server's chosen CID but the first keys
	 * (RFC 9001 5.2), an ACK and a PING, and overlapping and repeated data. */
	f.n = 0;
	put_u8(&f, 0x01);                              /* PING */
	put_u8(&f, 0x02);                              /* ACK */
	put_varint(&f, 5);                             /* largest */
	put_varint(&f, 0);                             /* delay */
	put_varint(&f, 2);                             /* range count */
	put_varint(&f, 0);                             /* first range */
	put_varint(&f, 0);                             /* gap, len */
	put_varint(&f, 0);
	put_varint(&f, 1);
	put_varint(&f, 0);
	put_crypto(&f, 100, hello + 100, 60);          /* overlaps both neighbours */
	put_crypto(&f, 60, hello + 60, 60);            /* repeated */
	put_crypto(&f, 0, hello, 80);
	n = v1_initial(cid_s, cid_a, 1, &f, pkt, sizeof(pkt));
	assert_example_com(feed(st, pkt, n, &ch), &ch);
	quic_state_free(st);
}
END_TEST

/* One byte per CRYPTO frame, in reverse order, over several datagrams. */
START_TEST(test_crypto_byte_by_byte_reverse)
{
	uint8_t hello[RFC_CH_LEN], pkt[1300];
	struct tls_client_hello ch;
	struct quic_state *st = quic_state_new();
	int pos = RFC_CH_LEN;
	uint64_t pn = 0;

	rfc_client_hello(hello);
	while (pos > 0) {
		struct buf f = { .n = 0 };
		for (int k = 0; k < 100 && pos > 0; k++) {
			pos--;
			put_crypto(&f, (uint64_t)pos, hello + pos, 1);
		}
		size_t n = v1_initial(cid_a, cid_a, pn++, &f, pkt, sizeof(pkt));
		enum quic_result r = feed(st, pkt, n, &ch);
		if (pos > 0)
			ck_assert_int_eq(r, QUIC_NEED_MORE);
		else
			assert_example_com(r, &ch);
	}
	quic_state_free(st);
}
END_TEST

/* Initial + Handshake + Initial + trailing zeros in one datagram. */
START_TEST(test_coalesced_packets)
{
	uint8_t hello[RFC_CH_LEN], dg[2600], junk[40];
	struct tls_client_hello ch;
	struct quic_state *st = quic_state_new();
	struct buf f = { .n = 0 };
	size_t n = 0;

	rfc_client_hello(hello);
	memset(junk, 0xee, sizeof(junk));

	/* A 0-RTT packet first (v1 type 1): it must be stepped over. */
	struct lh z = { V1, 1, cid_a, 8, NULL, 0, client_scid, 8, 7, 1, true };
	n += seal(&z, junk, sizeof(junk), dg + n, sizeof(dg) - n);

	put_crypto(&f, 0, hello, 100);
	pad_to(&f, 30);
	struct lh i1 = { V1, 0, cid_a, 8, NULL, 0, client_scid, 8, 0, 1, false };
	n += seal(&i1, f.b, f.n, dg + n, sizeof(dg) - n);

	struct lh hs = { V1, 2, cid_a, 8, NULL, 0, client_scid, 8, 0, 1, true };
	n += seal(&hs, junk, sizeof(junk), dg + n, sizeof(dg) - n);

	f.n = 0;
	put_crypto(&f, 100, hello + 100, RFC_CH_LEN - 100);
	struct lh i2 = { V1, 0, cid_a, 8, NULL, 0, client_scid, 8, 1, 4, false };
	n += seal(&i2, f.b, f.n, dg + n, sizeof(dg) - n);
	memset(dg + n, 0, 64);                 /* datagram padding after the packets */
	n += 64;

	assert_example_com(feed(st, dg, n, &ch), &ch);
	quic_state_free(st);
}
END_TEST

/* After a Retry the client's Initials are keyed by the Retry's SCID, even
 * when their header carries yet another (server-chosen) CID. */
START_TEST(test_retry_changes_keys)
{
	uint8_t hello[RFC_CH_LEN], p1[1300], p2[1300];
	struct tls_client_hello ch;
	struct buf f = { .n = 0 };
	struct buf retry = { .n = 0 };

	rfc_client_hello(hello);
	put_crypto(&f, 0, hello, 100);
	size_t n1 = v1_initial(cid_a, cid_a, 0, &f, p1, sizeof(p1));
	f.n = 0;
	put_crypto(&f, 100, hello + 100, RFC_CH_LEN - 100);
	size_t n2 = v1_initial(cid_s, cid_r, 1, &f, p2, sizeof(p2));

	put_u8(&retry, 0xf0);                  /* long header, type Retry (0b11) */
	put_be(&retry, V1, 4);
	put_u8(&retry, 8);
	put(&retry, client_scid, 8);
	put_u8(&retry, 8);
	put(&retry, cid_r, 8);
	put(&retry, "token-bytes", 11);
	for (int i = 0; i < 16; i++)           /* integrity tag, not checked */
		put_u8(&retry, (uint8_t)i);

	struct quic_state *st = quic_state_new();
	ck_assert_int_eq(feed(st, p1, n1, &ch), QUIC_NEED_MORE);
	quic_server_datagram(st, retry.b, retry.n);
	assert_example_com(feed(st, p2, n2, &ch), &ch);
	quic_state_free(st);

	/* Without having seen the Retry those keys are unknowable. */
	st = quic_state_new();
	ck_assert_int_eq(feed(st, p1, n1, &ch), QUIC_NEED_MORE);
	ck_assert_int_eq(feed(st, p2, n2, &ch), QUIC_UNDECRYPTABLE);
	quic_state_free(st);

	/* The usual case: the Initial after a Retry names the Retry's SCID. */
	st = quic_state_new();
	f.n = 0;
	put_crypto(&f, 0, hello, RFC_CH_LEN);
	n2 = v1_initial(cid_r, cid_r, 1, &f, p2, sizeof(p2));
	ck_assert_int_eq(feed(st, p1, n1, &ch), QUIC_NEED_MORE);
	quic_server_datagram(st, retry.b, retry.n);
	assert_example_com(feed(st, p2, n2, &ch), &ch);
	quic_state_free(st);
}
END_TEST

START_TEST(test_server_version_negotiation_ignored)
{
	uint8_t pkt[1300], vn[] = { 0x80, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 8,
				    0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08,
				    0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf };
	size_t n = unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	struct quic_state *st = quic_state_new();
	struct tls_client_hello ch;

	quic_server_datagram(st, vn, sizeof(vn));
	quic_server_datagram(st, vn, 3);
	quic_server_datagram(st, NULL, 0);
	ck_assert(!quic_plausible(vn, sizeof(vn)));
	ck_assert_int_eq(feed(st, vn, sizeof(vn), &ch), QUIC_NOT_QUIC);
	assert_example_com(feed(st, pkt, n, &ch), &ch);
	quic_state_free(st);
}
END_TEST

/* ---- hostile input ---- */

START_TEST(test_truncated_at_every_length)
{
	uint8_t pkt[1300];
	size_t n = unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	struct quic_state *st = quic_state_new();
	struct tls_client_hello ch;

	for (size_t cut = 0; cut < n; cut++) {
		/* A heap copy of exactly `cut` bytes, so ASan sees any overread. */
		uint8_t *p = malloc(cut ? cut : 1);
		ck_assert(p);
		memcpy(p, pkt, cut);
		enum quic_result r = feed(st, p, cut, &ch);
		ck_assert_msg(r == QUIC_NOT_QUIC || r == QUIC_UNDECRYPTABLE,
			      "cut %zu gave %d", cut, r);
		quic_plausible(p, cut);
		quic_server_datagram(st, p, cut);
		free(p);
	}
	/* The length field (unprotected, but authenticated) made to fit the cut. */
	for (size_t cut = 22; cut < n; cut++) {
		uint8_t *p = malloc(cut);
		ck_assert(p);
		memcpy(p, pkt, cut);
		size_t len = cut - 18;         /* bytes after the length field */
		p[16] = (uint8_t)(0x40 | (len >> 8));
		p[17] = (uint8_t)len;
		enum quic_result r = feed(st, p, cut, &ch);
		ck_assert_msg(r == QUIC_UNDECRYPTABLE, "cut %zu gave %d", cut, r);
		free(p);
	}
	assert_example_com(feed(st, pkt, n, &ch), &ch);
	quic_state_free(st);
}
END_TEST

START_TEST(test_corrupt_packet_undecryptable)
{
	uint8_t pkt[1300];
	size_t n = unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	struct quic_state *st = quic_state_new();
	struct tls_client_hello ch;
	static const size_t spots[] = { 1199, 1190, 600, 30, 22, 18, 7, 0 };

	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
		pkt[spots[i]] ^= 0x01;
		enum quic_result r = feed(st, pkt, n, &ch);
		ck_assert_msg(r == QUIC_UNDECRYPTABLE, "flip at %zu gave %d", spots[i], r);
		pkt[spots[i]] ^= 0x01;
	}
	/* The failures left the flow usable. */
	assert_example_com(feed(st, pkt, n, &ch), &ch);
	quic_state_free(st);
}
END_TEST

/* Frames that lie about their sizes, inside correctly protected packets. */
START_TEST(test_hostile_frames)
{
	uint8_t pkt[1300], hello[RFC_CH_LEN];
	struct tls_client_hello ch;
	struct buf f;

	rfc_client_hello(hello);
	for (int t = 0; t < 9; t++) {
		struct quic_state *st = quic_state_new();
		f.n = 0;
		switch (t) {
		case 0:         /* CRYPTO at the largest offset */
			put_u8(&f, 0x06);
			put_varint(&f, 0x3fffffffffffffffull);
			put_varint(&f, 4);
			put(&f, "abcd", 4);
			break;
		case 1:         /* CRYPTO longer than the packet */
			put_u8(&f, 0x06);
			put_varint(&f, 0);
			put_varint(&f, 0x3fffffffffffffffull);
			break;
		case 2:         /* ACK with an absurd range count */
			put_u8(&f, 0x02);
			put_varint(&f, 1);
			put_varint(&f, 0);
			put_varint(&f, 0x3fffffffffffffffull);
			put_varint(&f, 0);
			break;
		case 3:         /* CONNECTION_CLOSE with a reason past the end */
			put_u8(&f, 0x1c);
			put_varint(&f, 0);
			put_varint(&f, 0);
			put_varint(&f, 100000);
			break;
		case 4:         /* a frame type an Initial cannot carry, then data */
			put_u8(&f, 0x08);
			put_crypto(&f, 0, hello, RFC_CH_LEN);
			break;
		case 5:         /* a ClientHello claiming 16 MB */
			put_crypto(&f, 0, (const uint8_t *)"\x01\xff\xff\xff", 4);
			break;
		case 6:         /* not a ClientHello (ServerHello) */
			put_crypto(&f, 0, (const uint8_t *)"\x02\x00\x00\x02\x03\x03", 6);
			break;
		case 7:         /* a ClientHello whose body is garbage */
			put_crypto(&f, 0, (const uint8_t *)"\x01\x00\x00\x03\x09\x09\x09", 7);
			break;
		case 8:         /* data at the edge of the window */
			put_crypto(&f, 16384 - 2, hello, 10);
			put_crypto(&f, 16384, hello, 10);
			break;
		}
		size_t n = v1_initial(cid_a, cid_a, 0, &f, pkt, sizeof(pkt));
		enum quic_result r = feed(st, pkt, n, &ch);
		if (t >= 5 && t <= 7)
			ck_assert_msg(r == QUIC_UNDECRYPTABLE, "case %d gave %d", t, r);
		else
			ck_assert_msg(r == QUIC_NEED_MORE, "case %d gave %d", t, r);
		quic_state_free(st);
	}
}
END_TEST

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Random mutations of a real Initial, and random plaintexts in valid ones. */
START_TEST(test_random_mutations)
{
	uint8_t orig[1300], pkt[1300];
	size_t n = unhex(rfc9001_a2_packet, orig, sizeof(orig));
	struct quic_state *st = quic_state_new();
	struct tls_client_hello ch;

	for (int it = 0; it < 3000; it++) {
		memcpy(pkt, orig, n);
		int flips = 1 + (int)(rnd() % 4);
		for (int k = 0; k < flips; k++)
			pkt[rnd() % (it % 2 ? 40 : n)] = (uint8_t)rnd();
		size_t len = (it % 3) ? n : rnd() % (n + 1);
		uint8_t *p = malloc(len ? len : 1);
		ck_assert(p);
		memcpy(p, pkt, len);
		feed(st, p, len, &ch);
		quic_server_datagram(st, p, len);
		quic_plausible(p, len);
		free(p);
	}
	for (int it = 0; it < 400; it++) {
		struct buf f = { .n = 0 };
		size_t fl = 1 + rnd() % 600;
		for (size_t k = 0; k < fl; k++) {
			/* bias toward frame types the parser knows */
			static const uint8_t types[] = { 0, 1, 2, 3, 6, 0x1c, 0x1d, 0x40, 0x80, 0xc0 };
			put_u8(&f, (rnd() & 1) ? types[rnd() % sizeof(types)] : (uint8_t)rnd());
		}
		size_t len = v1_initial(cid_a, cid_a, (uint64_t)it, &f, pkt, sizeof(pkt));
		enum quic_result r = feed(st, pkt, len, &ch);
		ck_assert(r != QUIC_NOT_QUIC);
	}
	quic_state_free(st);
}
END_TEST

START_TEST(test_plausible)
{
	uint8_t pkt[1300], zeros[1200] = { 0 };
	size_t n = unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	uint8_t shorthdr[1200];

	ck_assert(quic_plausible(pkt, n));
	ck_assert(!quic_plausible(pkt, 10));
	ck_assert(!quic_plausible(zeros, sizeof(zeros)));
	memcpy(shorthdr, pkt, sizeof(shorthdr));
	shorthdr[0] = 0x41;
	ck_assert(!quic_plausible(shorthdr, sizeof(shorthdr)));
	pkt[1] = 0x1a;                         /* version 0x1a000001: unknown */
	ck_assert(!quic_plausible(pkt, n));
	ck_assert(!quic_plausible(NULL, 0));
	ck_assert(!quic_plausible((const uint8_t *)"\x09", 1));
}
END_TEST

/* ---- gQUIC ---- */

/* A CHLO: tags SNI, VER, PAD (values back to back, ends little-endian). */
static void put_chlo(struct buf *b, const char *sni)
{
	const char *vals[3] = { sni, "Q046", "xxxxxxxx" };
	const char *tags[3] = { "SNI", "VER", "PAD" };
	uint32_t end = 0;

	put(b, "CHLO", 4);
	put_u8(b, 3);
	put_u8(b, 0);
	put_u8(b, 0);
	put_u8(b, 0);
	for (int i = 0; i < 3; i++) {
		uint8_t tag[4] = { 0 };
		memcpy(tag, tags[i], strlen(tags[i]));
		put(b, tag, 4);
		end += (uint32_t)strlen(vals[i]);
		for (int k = 0; k < 4; k++)
			put_u8(b, (uint8_t)(end >> (8 * k)));
	}
	for (int i = 0; i < 3; i++)
		put(b, vals[i], strlen(vals[i]));
}

/* gQUIC STREAM frame on stream 1: 1 f d ooo ss, offset in 2 bytes when set. */
static void put_gquic_stream(struct buf *b, uint16_t off, const uint8_t *d, size_t n, bool be)
{
	put_u8(b, off ? 0xa4 : 0xa0);
	put_u8(b, 0x01);
	if (off) {
		if (be)
			put_be(b, off, 2);
		else {
			put_u8(b, (uint8_t)off);
			put_u8(b, (uint8_t)(off >> 8));
		}
	}
	if (be)
		put_be(b, n, 2);
	else {
		put_u8(b, (uint8_t)n);
		put_u8(b, (uint8_t)(n >> 8));
	}
	put(b, d, n);
}

START_TEST(test_gquic_q046_split)
{
	struct buf chlo = { .n = 0 }, p1 = { .n = 0 }, p2 = { .n = 0 };
	struct tls_client_hello ch;
	struct quic_state *st = quic_state_new();
	const uint8_t hash[12] = { 0 };

	put_chlo(&chlo, "WWW.Example.COM.");
	for (int i = 0; i < 2; i++) {
		struct buf *p = i ? &p2 : &p1;
		put_u8(p, 0xc3);
		put(p, "Q046", 4);
		put_u8(p, 0x50);
		put(p, cid_a, 8);
		put_be(p, (uint64_t)i + 1, 4);
		put(p, hash, sizeof(hash));
	}
	put_gquic_stream(&p2, 20, chlo.b + 20, chlo.n - 20, true);
	put_gquic_stream(&p1, 0, chlo.b, 20, true);
	pad_to(&p1, 1350);
	pad_to(&p2, 1350);

	ck_assert(quic_plausible(p1.b, p1.n));
	ck_assert_int_eq(feed(st, p2.b, p2.n, &ch), QUIC_NEED_MORE);
	ck_assert_int_eq(feed(st, p1.b, p1.n, &ch), QUIC_OK);
	ck_assert(ch.has_sni);
	ck_assert_str_eq(ch.sni, "www.example.com");
	ck_assert_uint_eq(quic_state_version(st), 0x51303436);
	quic_state_free(st);
}
END_TEST

START_TEST(test_gquic_public_header)
{
	static const char *versions[] = { "Q043", "Q035", "Q025" };
	const uint8_t hash[12] = { 0 };

	for (int v = 0; v < 3; v++) {
		struct buf chlo = { .n = 0 }, p = { .n = 0 };
		struct tls_client_hello ch;
		struct quic_state *st = quic_state_new();
		bool be = v == 0;                       /* big-endian from Q039 */

		put_chlo(&chlo, "www.google.it");
		put_u8(&p, 0x09);                       /* version, 8-byte CID, 1-byte PN */
		put(&p, cid_a, 8);
		put(&p, versions[v], 4);
		put_u8(&p, 1);
		put(&p, hash, sizeof(hash));
		if (v == 2)
			put_u8(&p, 0);                  /* private flags up to Q033 */
		put_gquic_stream(&p, 0, chlo.b, chlo.n, be);
		pad_to(&p, 1350);
		ck_assert(quic_plausible(p.b, p.n));
		ck_assert_int_eq(feed(st, p.b, p.n, &ch), QUIC_OK);
		ck_assert_str_eq(ch.sni, "www.google.it");
		quic_state_free(st);
	}
}
END_TEST

/* Q050 and T051: Initial protection with their own salts, gQUIC frames. */
START_TEST(test_gquic_q050_t051)
{
	uint8_t pkt[1400], hello[RFC_CH_LEN];
	struct tls_client_hello ch;

	rfc_client_hello(hello);
	for (int v = 0; v < 2; v++) {
		struct buf f = { .n = 0 }, chlo = { .n = 0 };
		struct quic_state *st = quic_state_new();
		uint32_t version = v ? 0x54303531 : 0x51303530;
		struct lh h = { version, 0, cid_a, 8, NULL, 0, NULL, 0, 1, 4, false };

		put_u8(&f, 0x40);                       /* gQUIC ACK, all fields 1 byte */
		put_u8(&f, 0);
		put_be(&f, 0, 2);
		put_u8(&f, 0);
		put_u8(&f, 0);
		put_u8(&f, 0x08);                       /* CRYPTO */
		put_varint(&f, 0);
		if (v) {
			put_varint(&f, RFC_CH_LEN);
			put(&f, hello, RFC_CH_LEN);
		} else {
			put_chlo(&chlo, "www.youtube.com");
			put_varint(&f, chlo.n);
			put(&f, chlo.b, chlo.n);
		}
		pad_to(&f, 1300);
		size_t n = seal(&h, f.b, f.n, pkt, sizeof(pkt));
		ck_assert(quic_plausible(pkt, n));
		ck_assert_int_eq(feed(st, pkt, n, &ch), QUIC_OK);
		ck_assert_str_eq(ch.sni, v ? "example.com" : "www.youtube.com");
		ck_assert_uint_eq(quic_state_version(st), version);
		quic_state_free(st);
	}
}
END_TEST

/* Draft and mvfst versions take the IETF path with their own salts. */
START_TEST(test_draft_versions)
{
	static const uint32_t versions[] = { 0xff000016, 0xff00001b, 0xff00001d, 0xff000020,
					     0xff000022, 0xfaceb001, 0xfaceb002, 0x709a50c4 };
	uint8_t pkt[1400], hello[RFC_CH_LEN];
	struct tls_client_hello ch;

	rfc_client_hello(hello);
	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
		struct buf f = { .n = 0 };
		struct quic_state *st = quic_state_new();
		struct lh h = { versions[v], versions[v] == 0x709a50c4 ? 1 : 0, cid_a, 8, NULL, 0,
				client_scid, 8, 0, 2, false };

		put_crypto(&f, 0, hello, RFC_CH_LEN);
		pad_to(&f, 1150);
		size_t n = seal(&h, f.b, f.n, pkt, sizeof(pkt));
		assert_example_com(feed(st, pkt, n, &ch), &ch);
		quic_state_free(st);
	}
}
END_TEST

/* ---- the shared corpus ---- */

/* A UDP datagram as the sensor's decoder (decode.h) hands it over. IP
 * fragments are skipped: no capture here fragments a client Initial. */
struct udp_view {
	struct ip_addr src, dst;
	uint16_t sport, dport;
	const uint8_t *data;
	size_t len;
};

static bool udp_from_frame(int dlt, const struct pcap_pkthdr *hdr, const uint8_t *bytes,
			   struct udp_view *u)
{
	struct packet p;

	if (decode_packet(&p, dlt, bytes, hdr->caplen, hdr->len, 0, NULL) != DECODE_OK ||
	    p.l4proto != IPPROTO_UDP)
		return false;
	u->src = p.src;
	u->dst = p.dst;
	u->sport = p.sport;
	u->dport = p.dport;
	u->data = p.payload;
	u->len = p.payload_len;
	return true;
}

#define MAX_FLOWS 256
#define MAX_FOUND 32

struct corpus_flow {
	struct ip_addr client, server;
	uint16_t cport, sport;
	struct quic_state *st;
};

struct found {
	char client[ADDR_STRLEN];
	char server[ADDR_STRLEN];
	unsigned port;
	bool has_sni;
	char sni[TLS_SNI_MAX];
	char alpn[TLS_ALPN_MAX];
};

struct capture_run {
	struct found f[MAX_FOUND];
	int n;
	unsigned undecryptable;     /* datagrams that looked like Initials but did not open */
	unsigned flows;
};

static void note_found(struct capture_run *run, const struct corpus_flow *fl,
		       const struct tls_client_hello *ch)
{
	struct found f;

	memset(&f, 0, sizeof(f));
	addr_format(&fl->client, f.client);
	addr_format(&fl->server, f.server);
	f.port = fl->sport;
	f.has_sni = ch->has_sni;
	snprintf(f.sni, sizeof(f.sni), "%s", ch->has_sni ? ch->sni : "");
	snprintf(f.alpn, sizeof(f.alpn), "%s", ch->alpn);
	for (int i = 0; i < run->n; i++)
		if (!strcmp(run->f[i].client, f.client) && !strcmp(run->f[i].server, f.server) &&
		    run->f[i].port == f.port && !strcmp(run->f[i].sni, f.sni))
			return;
	if (run->n < MAX_FOUND)
		run->f[run->n++] = f;
}

static void run_capture(const char *path, struct capture_run *run)
{
	char err[PCAP_ERRBUF_SIZE];
	struct corpus_flow *flows = calloc(MAX_FLOWS, sizeof(*flows));
	int nflows = 0;
	pcap_t *pc = pcap_open_offline(path, err);
	struct pcap_pkthdr *hdr;
	const u_char *bytes;

	memset(run, 0, sizeof(*run));
	ck_assert(flows);
	if (!pc) {
		free(flows);
		return;
	}
	int dlt = pcap_datalink(pc);
	while (pcap_next_ex(pc, &hdr, &bytes) == 1) {
		struct udp_view u;
		if (!udp_from_frame(dlt, hdr, bytes, &u) || u.len == 0)
			continue;
		struct corpus_flow *fl = NULL;
		bool from_client = true;
		for (int i = 0; i < nflows && !fl; i++) {
			struct corpus_flow *x = &flows[i];
			if (addr_eq(&x->client, &u.src) && addr_eq(&x->server, &u.dst) &&
			    x->cport == u.sport && x->sport == u.dport) {
				fl = x;
			} else if (addr_eq(&x->client, &u.dst) && addr_eq(&x->server, &u.src) &&
				   x->cport == u.dport && x->sport == u.sport) {
				fl = x;
				from_client = false;
			}
		}
		if (!fl) {
			/* A flow starts with a client Initial; anything else is not ours. */
			if (!quic_plausible(u.data, u.len) || nflows == MAX_FLOWS)
				continue;
			fl = &flows[nflows++];
			fl->client = u.src;
			fl->server = u.dst;
			fl->cport = u.sport;
			fl->sport = u.dport;
			fl->st = quic_state_new();
			ck_assert(fl->st);
		}
		if (!from_client) {
			quic_server_datagram(fl->st, u.data, u.len);
			continue;
		}
		struct tls_client_hello ch;
		enum quic_result r = quic_client_datagram(fl->st, u.data, u.len, &ch);
		if (r == QUIC_OK)
			note_found(run, fl, &ch);
		else if (r == QUIC_UNDECRYPTABLE)
			run->undecryptable++;
	}
	pcap_close(pc);
	run->flows = (unsigned)nflows;
	for (int i = 0; i < nflows; i++)
		quic_state_free(flows[i].st);
	free(flows);
}

/* A tshark name written the way tls.c writes an SNI, for comparison. */
static void escape_name(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in), o = 0;

	if (n > 0 && in[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n && o + 5 < cap; i++) {
		unsigned char b = (unsigned char)in[i];
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b - 'A' + 'a');
		if ((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' || b == '_' ||
		    b == '.' || b == '*' || b == ':')
			out[o++] = (char)b;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\%03u", b);
	}
	out[o] = '\0';
}

/* Last comma-separated value (tunnelled lines list outer to inner). */
static const char *innermost(char *field)
{
	char *comma = strrchr(field, ',');
	return comma ? comma + 1 : field;
}

struct tally {
	unsigned lines, found;
	char missed[4096];
	char extra[4096];
};

/* Compare one capture's finds with the quic lines tshark listed for it. */
static void compare_with_tshark(const char *corpus, const char *sub, const char *name,
				const struct capture_run *run, struct tally *t)
{
	char path[1024], line[2048];
	bool matched[MAX_FOUND] = { false };
	unsigned lines = 0;

	snprintf(path, sizeof(path), "%s/%s/names/%s.tsv", corpus, sub, name);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *save = NULL;
		char *kind = strtok_r(line, "\t\n", &save);
		char *client = strtok_r(NULL, "\t\n", &save);
		char *server = strtok_r(NULL, "\t\n", &save);
		char *port = strtok_r(NULL, "\t\n", &save);
		char *sni = strtok_r(NULL, "\t\n", &save);
		if (!kind || strcmp(kind, "quic") != 0 || !client || !server || !port || !sni)
			continue;
		char want[TLS_SNI_MAX * 4];
		escape_name(sni, want, sizeof(want));
		lines++;
		bool hit = false;
		for (int i = 0; i < run->n; i++) {
			const struct found *x = &run->f[i];
			if (!strcmp(x->sni, want) && !strcmp(x->client, innermost(client)) &&
			    !strcmp(x->server, innermost(server)) &&
			    x->port == (unsigned)atoi(innermost(port))) {
				matched[i] = true;
				hit = true;
			}
		}
		t->lines++;
		if (hit) {
			t->found++;
		} else {
			size_t o = strlen(t->missed);
			snprintf(t->missed + o, sizeof(t->missed) - o, "    %s/%s: %s (%s -> %s:%s)\n",
				 sub, name, sni, client, server, port);
		}
	}
	if (f)
		fclose(f);
	for (int i = 0; i < run->n; i++) {
		if (matched[i])
			continue;
		size_t o = strlen(t->extra);
		snprintf(t->extra + o, sizeof(t->extra) - o, "    %s/%s: %s (%s -> %s:%u)%s\n", sub,
			 name, run->f[i].has_sni ? run->f[i].sni : "(ClientHello without SNI)",
			 run->f[i].client, run->f[i].server, run->f[i].port,
			 lines ? " [tshark listed other names]" : "");
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What the corpus must keep giving: capture, expected SNI ("" for a
 * ClientHello without one). */
static const struct {
	const char *capture;
	const char *sni;
} corpus_expect[] = {
	{ "ndpi/quic-29.pcap", "localhost" },
	{ "ndpi/quic-v2.pcapng", "test" },
	{ "ndpi/quic_t51.pcap", "www.google.com" },
	{ "ndpi/quic046.pcap", "i.ytimg.com" },
	{ "ndpi/quic_frags_ch_in_multiple_packets.pcapng", "" },
	{ "ndpi/youtube_quic.pcap", "yt3.ggpht.com" },
	{ "ndpi/http_ipv6.pcap", "www.google.it" },
	{ "zeek/quic__quicv2-echo-443.pcap", "localhost" },
	{ "zeek/quic__quicv2-echo-dpd-custom-port-4433.pcap", "localhost" },
	{ "zeek/quic__interop__quic-go_quic-go__retry.pcap", "server4:443" },
	{ "zeek/ppp__quic-interop-retry.pcap", "server4:443" },
};

struct expect_hit {
	bool seen;                  /* the capture was read */
	bool found;
};

START_TEST(test_corpus)
{
	const char *corpus = shared_corpus_dir();
	static const char *subs[] = { "ndpi", "zeek" };
	struct tally t;
	struct expect_hit hits[sizeof(corpus_expect) / sizeof(corpus_expect[0])];
	struct capture_run *run = malloc(sizeof(*run));

	if (!corpus) {
		free(run);
		return;
	}
	ck_assert(run);
	memset(&t, 0, sizeof(t));
	memset(hits, 0, sizeof(hits));
	fprintf(stderr, "QUIC corpus: capture -> ClientHellos read (SNI, client -> server:port)\n");
	for (int s = 0; s < 2; s++) {
		char dirpath[1024];
		char *names[512];
		int nnames = 0;
		snprintf(dirpath, sizeof(dirpath), "%s/%s", corpus, subs[s]);
		DIR *d = opendir(dirpath);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d)) && nnames < 512) {
			const char *dot = strrchr(e->d_name, '.');
			if (e->d_name[0] == '.' || !dot ||
			    (strcmp(dot, ".pcap") && strcmp(dot, ".pcapng")))
				continue;
			names[nnames] = strdup(e->d_name);
			ck_assert(names[nnames]);
			nnames++;
		}
		closedir(d);
		qsort(names, (size_t)nnames, sizeof(names[0]), cmp_str);

		for (int i = 0; i < nnames; i++) {
			char path[2048], key[600];
			snprintf(path, sizeof(path), "%s/%s", dirpath, names[i]);
			snprintf(key, sizeof(key), "%s/%s", subs[s], names[i]);
			run_capture(path, run);
			if (run->n > 0 || run->undecryptable > 0)
				fprintf(stderr, "  %s: %u QUIC flow(s), %u undecryptable datagram(s)\n",
					key, run->flows, run->undecryptable);
			for (int k = 0; k < run->n; k++)
				fprintf(stderr, "      %s (%s -> %s:%u) alpn=%s\n",
					run->f[k].has_sni ? run->f[k].sni : "(no SNI)",
					run->f[k].client, run->f[k].server, run->f[k].port,
					run->f[k].alpn);
			compare_with_tshark(corpus, subs[s], names[i], run, &t);
			for (size_t x = 0; x < sizeof(corpus_expect) / sizeof(corpus_expect[0]); x++) {
				if (strcmp(corpus_expect[x].capture, key) != 0)
					continue;
				hits[x].seen = true;
				for (int k = 0; k < run->n; k++)
					if (!strcmp(run->f[k].sni, corpus_expect[x].sni) &&
					    run->f[k].has_sni == (corpus_expect[x].sni[0] != '\0'))
						hits[x].found = true;
			}
			free(names[i]);
		}
	}
	free(run);
	fprintf(stderr, "tshark `quic` lines: %u, found %u, missed %u\n", t.lines, t.found,
		t.lines - t.found);
	if (t.missed[0])
		fprintf(stderr, "  missed:\n%s", t.missed);
	fprintf(stderr, "  ClientHellos tshark did not list:\n%s", t.extra[0] ? t.extra : "    none\n");

	for (size_t x = 0; x < sizeof(corpus_expect) / sizeof(corpus_expect[0]); x++)
		if (hits[x].seen)
			ck_assert_msg(hits[x].found, "%s: no ClientHello with SNI \"%s\"",
				      corpus_expect[x].capture, corpus_expect[x].sni);
	ck_assert_msg(t.found == t.lines, "%u of tshark's quic names missed", t.lines - t.found);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("quic");
	TCase *rfc = tcase_create("rfc");
	TCase *reasm = tcase_create("reassembly");
	TCase *hostile = tcase_create("hostile");
	TCase *gquic = tcase_create("versions");
	TCase *corpus = tcase_create("corpus");

	tcase_add_test(rfc, test_rfc9001_keys);
	tcase_add_test(rfc, test_rfc9369_keys);
	tcase_add_test(rfc, test_unknown_version_has_no_keys);
	tcase_add_test(rfc, test_encoder_reproduces_rfc);
	tcase_add_test(rfc, test_rfc9001_client_initial);
	tcase_add_test(rfc, test_rfc9369_client_initial);
	tcase_add_test(reasm, test_crypto_out_of_order_two_packets);
	tcase_add_test(reasm, test_crypto_byte_by_byte_reverse);
	tcase_add_test(reasm, test_coalesced_packets);
	tcase_add_test(reasm, test_retry_changes_keys);
	tcase_add_test(reasm, test_server_version_negotiation_ignored);
	tcase_add_test(hostile, test_truncated_at_every_length);
	tcase_add_test(hostile, test_corrupt_packet_undecryptable);
	tcase_add_test(hostile, test_hostile_frames);
	tcase_add_test(hostile, test_random_mutations);
	tcase_add_test(hostile, test_plausible);
	tcase_set_timeout(hostile, 120);
	tcase_add_test(gquic, test_gquic_q046_split);
	tcase_add_test(gquic, test_gquic_public_header);
	tcase_add_test(gquic, test_gquic_q050_t051);
	tcase_add_test(gquic, test_draft_versions);
	tcase_add_test(corpus, test_corpus);
	tcase_set_timeout(corpus, 300);
	suite_add_tcase(s, rfc);
	suite_add_tcase(s, reasm);
	suite_add_tcase(s, hostile);
	suite_add_tcase(s, gquic);
	suite_add_tcase(s, corpus);
	return s;
}

TEST_MAIN(make_suite)
