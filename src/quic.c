/* quic.c - read the ClientHello (or gQUIC CHLO) out of a client's QUIC Initials.
 *
 * Wire formats handled, by version family:
 *  - IETF: v1 (RFC 9000/9001), v2 (RFC 9369: other long-header type bits and
 *    labels), drafts 22..34 and mvfst. Long header, Initial packets protected
 *    with keys derived from a Destination Connection ID (quic_crypto.c); the
 *    TLS ClientHello travels in CRYPTO frames.
 *  - gQUIC with Initial encryption: Q050, T050, T051. IETF long header and
 *    Initial protection with their own salts, but Google's frame encoding
 *    (CRYPTO is type 0x08); Q050 carries a CHLO, T05x a TLS ClientHello.
 *  - gQUIC in the clear: Q046 (long header with one CID-length byte, no
 *    length field) and Q024..Q043 (public header). The CHLO is the start of
 *    stream 1, behind a 12-byte message hash.
 *
 * Per-flow state (struct quic_state, fixed size, allocated once per flow):
 *  - A reassembly window of QUIC_CRYPTO_WINDOW bytes for the client's crypto
 *    stream (CRYPTO frames, or stream 1 for cleartext gQUIC), with one bit per
 *    byte saying it has arrived. Frames may come in any order, overlap, repeat
 *    and span packets and datagrams; bytes past the window are dropped. Only
 *    the contiguous prefix from offset 0 is ever parsed, and only once the
 *    handshake message at its start is complete (TLS: 4-byte header plus
 *    length; CHLO: tag table plus the last tag's end offset).
 *  - A small cache of derived keys keyed by (version, DCID). A client Initial
 *    is tried with keys from its own DCID first (a fresh connection, or the
 *    Initial after a Retry, which uses the Retry's SCID as DCID), then with
 *    the keys of the first DCID that decrypted (later Initials carry the
 *    server's chosen CID but keep the original keys, RFC 9001 5.2), then with
 *    a Retry's SCID seen from the server. Keys that have failed and never
 *    succeeded are tried last, so the common later-Initial case costs one
 *    AEAD attempt. Each key set keeps the largest packet number it opened,
 *    the reference for expanding truncated packet numbers (RFC 9000 A.3).
 *
 * Invariants: every packet byte is read through a cursor; every length is
 * checked against its enclosing packet before use; loops over packets and
 * frames consume at least one byte per pass; nothing is allocated per packet
 * (plaintext goes to a per-thread scratch buffer as large as any UDP payload).
 * After a ClientHello has been returned (or found malformed) the next datagram
 * starts a fresh crypto stream on the same keys, so a retransmitted or new
 * ClientHello on the same flow is read again. */
#include "quic.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "quic_crypto.h"
#include "slab.h"
#include "text.h"

#define QUIC_CRYPTO_WINDOW 16384   /* crypto-stream bytes buffered per flow */
#define QUIC_KEY_SLOTS 4
#define QUIC_UDP_MAX 65535
#define GQUIC_HASH_LEN 12          /* FNV-1a message hash of cleartext gQUIC packets */

enum family {
	FAM_IETF,        /* TLS in IETF frames */
	FAM_GQUIC_ENC,   /* Q050/T05x: protected like IETF, gQUIC frames */
	FAM_Q046,        /* cleartext long header */
	FAM_GQUIC_PUB,   /* cleartext public header, Q024..Q043 */
};

enum long_type { LT_INITIAL, LT_0RTT, LT_HANDSHAKE, LT_RETRY };

enum msg_kind { MSG_NONE = 0, MSG_TLS, MSG_CHLO };

struct vinfo {
	enum family fam;
	bool v2_types;      /* RFC 9369 long-header type codes */
	enum msg_kind msg;  /* what the crypto stream carries */
	unsigned gver;      /* gQUIC version number (35 for Q035), 0 for IETF */
};

struct key_slot {
	uint32_t version;            /* 0: slot unused */
	uint8_t dcid_len;
	uint8_t dcid[QUIC_CID_MAX];
	bool verified;               /* opened at least one packet */
	bool failed;                 /* failed at least once */
	int64_t largest_pn;          /* largest packet number opened, -1 before */
	struct quic_keys keys;
};

struct quic_state {
	uint32_t version;            /* version of the client's latest long header */
	uint8_t odcid_len;           /* DCID whose keys opened the first Initial */
	uint8_t odcid[QUIC_CID_MAX];
	uint8_t retry_len;           /* SCID of a server Retry (0: none seen) */
	uint8_t retry_scid[QUIC_CID_MAX];
	struct key_slot slots[QUIC_KEY_SLOTS];
	unsigned next_victim;        /* round-robin replacement in slots */
	bool finished;               /* ClientHello returned or refused: restart next time */
	enum msg_kind msg;           /* what the buffered stream holds */
	uint32_t prefix;             /* bytes contiguous from offset 0 */
	uint8_t have[QUIC_CRYPTO_WINDOW / 8];
	uint8_t buf[QUIC_CRYPTO_WINDOW];
};

/* Outcome of one packet, ordered so that the best of a datagram wins. */
enum pkt_res { PR_NONE, PR_UNDECRYPTABLE, PR_PROGRESS, PR_MSG_DONE };

static _Thread_local uint8_t plain_scratch[QUIC_UDP_MAX];

/* ---- small readers ---- */

/* RFC 9000 16 variable-length integer. */
static uint64_t cur_varint(struct cursor *c)
{
	uint8_t b = cur_u8(c);
	size_t n = (size_t)1 << (b >> 6);
	uint64_t v = b & 0x3f;

	for (size_t i = 1; i < n; i++)
		v = (v << 8) | cur_u8(c);
	return v;
}

/* gQUIC integers of 1..8 bytes: little-endian before Q039, big-endian after. */
static uint64_t cur_gint(struct cursor *c, unsigned n, bool big_endian)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t b = cur_u8(c);
		v = big_endian ? (v << 8) | b : v | (b << (8 * i));
	}
	return v;
}

/* ---- versions ---- */

/* "Q043" -> 43 when the last three bytes are digits and the first is want. */
static unsigned gquic_number(uint32_t version, char want)
{
	uint8_t b[4] = { (uint8_t)(version >> 24), (uint8_t)(version >> 16),
			 (uint8_t)(version >> 8), (uint8_t)version };

	if (b[0] != (uint8_t)want)
		return 0;
	for (int i = 1; i < 4; i++)
		if (b[i] < '0' || b[i] > '9')
			return 0;
	return (unsigned)((b[1] - '0') * 100 + (b[2] - '0') * 10 + (b[3] - '0'));
}

/* Describe a long-header version we can read; false for anything else. */
static bool long_version(uint32_t version, struct vinfo *vi)
{
	memset(vi, 0, sizeof(*vi));
	if (version == 0x51303436) {            /* Q046 */
		vi->fam = FAM_Q046;
		vi->msg = MSG_CHLO;
		vi->gver = 46;
		return true;
	}
	if (!quic_crypto_known_version(version))
		return false;
	if (version == 0x51303530) {            /* Q050 */
		vi->fam = FAM_GQUIC_ENC;
		vi->msg = MSG_CHLO;
		vi->gver = 50;
	} else if (version == 0x54303530 || version == 0x54303531) {
		vi->fam = FAM_GQUIC_ENC;
		vi->msg = MSG_TLS;
		vi->gver = 50;
	} else {
		vi->fam = FAM_IETF;
		vi->msg = MSG_TLS;
		vi->v2_types = (version == 0x6b3343cf || version == 0x709a50c4);
	}
	return true;
}

/* Public-header gQUIC versions with a cleartext CHLO. */
static bool public_version(uint32_t version, struct vinfo *vi)
{
	unsigned n = gquic_number(version, 'Q');

	memset(vi, 0, sizeof(*vi));
	if (n < 24 || n > 43)
		return false;
	vi->fam = FAM_GQUIC_PUB;
	vi->msg = MSG_CHLO;
	vi->gver = n;
	return true;
}

static enum long_type long_type_of(uint8_t first, const struct vinfo *vi)
{
	unsigned t = (first >> 4) & 3;

	/* RFC 9369 3.2: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00. */
	if (vi->v2_types) {
		static const enum long_type v2[4] = { LT_RETRY, LT_INITIAL, LT_0RTT, LT_HANDSHAKE };
		return v2[t];
	}
	return (enum long_type)t;
}

/* ---- reassembly ---- */

static void stream_reset(struct quic_state *st)
{
	memset(st->have, 0, sizeof(st->have));
	st->prefix = 0;
	st->msg = MSG_NONE;
	st->finished = false;
}

static bool have_byte(const struct quic_state *st, uint32_t i)
{
	return st->have[i >> 3] & (1u << (i & 7));
}

/* Place crypto-stream bytes at `off`; what lies beyond the window is dropped. */
static void stream_insert(struct quic_state *st, enum msg_kind msg, uint64_t off,
			  const uint8_t *data, size_t len)
{
	if (st->msg == MSG_NONE)
		st->msg = msg;
	if (st->msg != msg || len == 0 || off >= QUIC_CRYPTO_WINDOW)
		return;
	if (len > QUIC_CRYPTO_WINDOW - off)
		len = (size_t)(QUIC_CRYPTO_WINDOW - off);
	memcpy(st->buf + off, data, len);
	/* Bits one by one up to a byte boundary, whole bytes, the rest one by
	 * one; the contiguous prefix likewise skips whole bytes of the map. */
	uint32_t i = (uint32_t)off, end = (uint32_t)(off + len);
	for (; i < end && (i & 7); i++)
		st->have[i >> 3] |= (uint8_t)(1u << (i & 7));
	if (end - i >= 8) {
		memset(st->have + (i >> 3), 0xff, (end - i) >> 3);
		i += (end - i) & ~7u;
	}
	for (; i < end; i++)
		st->have[i >> 3] |= (uint8_t)(1u << (i & 7));
	while (st->prefix < QUIC_CRYPTO_WINDOW) {
		if (!(st->prefix & 7) && st->have[st->prefix >> 3] == 0xff)
			st->prefix += 8;
		else if (have_byte(st, st->prefix))
			st->prefix++;
		else
			break;
	}
}

/* ---- gQUIC CHLO ---- */

/* Total CHLO length once its tag table is buffered; 0 while unknown,
 * SIZE_MAX if the message can never be complete in the window. */
static size_t chlo_length(const struct quic_state *st)
{
	struct cursor c = cur_make(st->buf, st->prefix);
	const uint8_t *magic = cur_take(&c, 4);
	size_t ntags = cur_le16(&c);

	if (c.err)
		return 0;
	if (memcmp(magic, "CHLO", 4) != 0)
		return SIZE_MAX;
	size_t table = 8 + 8 * ntags;
	if (table > QUIC_CRYPTO_WINDOW)
		return SIZE_MAX;
	if (ntags == 0)
		return table;
	cur_skip(&c, table - 4 - 6);    /* to the last tag's end offset */
	size_t end = cur_le32(&c);
	if (c.err)
		return 0;
	if (end > QUIC_CRYPTO_WINDOW - table)
		return SIZE_MAX;
	return table + end;
}

/* Tag/value message (gQUIC crypto handshake): "CHLO", u16 tag count, u16
 * padding, then (tag, u32 end offset) pairs with non-decreasing ends, then
 * the values. All little-endian. The tag count stands in for the number of
 * extensions. */
static bool parse_chlo(struct cursor c, struct tls_client_hello *ch)
{
	memset(ch, 0, sizeof(*ch));
	cur_skip(&c, 4);
	uint16_t ntags = cur_le16(&c);
	cur_skip(&c, 2);
	struct cursor table = cur_sub(&c, (size_t)ntags * 8);
	struct cursor values = cur_rest(&c);
	uint32_t prev = 0;

	if (c.err)
		return false;
	for (uint16_t i = 0; i < ntags; i++) {
		const uint8_t *tag = cur_take(&table, 4);
		uint32_t end = cur_le32(&table);
		if (table.err || end < prev || end > cur_left(&values))
			return false;
		if (memcmp(tag, "SNI\0", 4) == 0 && !ch->has_sni) {
			struct cursor v = values;
			cur_skip(&v, prev);
			ch->has_sni = text_copy_host(cur_sub(&v, end - prev), ch->sni,
						     sizeof(ch->sni), "");
		}
		prev = end;
	}
	ch->n_extensions = ntags;
	return true;
}

/* Is the message at the start of the stream complete? Parse it if so.
 * Returns PR_MSG_DONE with *ok telling whether it parsed. */
static enum pkt_res stream_check(struct quic_state *st, struct tls_client_hello *ch, bool *ok)
{
	struct cursor c = cur_make(st->buf, st->prefix);
	size_t need;

	*ok = false;
	if (st->msg == MSG_TLS) {
		uint8_t type = cur_u8(&c);
		need = 4 + (size_t)cur_be24(&c);
		if (c.err)
			return PR_PROGRESS;
		if (type != 1 || need > QUIC_CRYPTO_WINDOW)
			return PR_MSG_DONE;     /* not a ClientHello, or one we cannot hold */
		if (st->prefix < need)
			return PR_PROGRESS;
		*ok = tls_parse_client_hello(st->buf, need, ch) == TLS_OK;
		return PR_MSG_DONE;
	}
	if (st->msg == MSG_CHLO) {
		need = chlo_length(st);
		if (need == SIZE_MAX)
			return PR_MSG_DONE;
		if (need == 0 || st->prefix < need)
			return PR_PROGRESS;
		*ok = parse_chlo(cur_make(st->buf, need), ch);
		return PR_MSG_DONE;
	}
	return PR_PROGRESS;
}

/* ---- frames ---- */

/* ACK / ACK_ECN (RFC 9000 19.3): walk the ranges without trusting the count. */
static void skip_ietf_ack(struct cursor *f, bool ecn)
{
	cur_varint(f);                  /* largest acknowledged */
	cur_varint(f);                  /* ack delay */
	uint64_t ranges = cur_varint(f);
	cur_varint(f);                  /* first range */
	if (ranges > cur_left(f) / 2) { /* each range is at least two bytes */
		f->err = true;
		return;
	}
	for (uint64_t i = 0; i < ranges && !f->err; i++) {
		cur_varint(f);          /* gap */
		cur_varint(f);          /* range length */
	}
	if (ecn) {
		cur_varint(f);
		cur_varint(f);
		cur_varint(f);
	}
}

/* Frames of an IETF Initial: PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE.
 * Anything else cannot appear in an Initial; stop reading the packet there. */
static void ietf_frames(struct quic_state *st, struct cursor f)
{
	while (cur_left(&f) > 0) {
		uint64_t type = cur_varint(&f);
		switch (type) {
		case 0x00:              /* PADDING */
		case 0x01:              /* PING */
			break;
		case 0x02:
		case 0x03:
			skip_ietf_ack(&f, type == 0x03);
			break;
		case 0x06: {            /* CRYPTO */
			uint64_t off = cur_varint(&f);
			uint64_t len = cur_varint(&f);
			const uint8_t *data = len <= cur_left(&f) ? cur_take(&f, (size_t)len) : NULL;
			if (!data)
				return;
			stream_insert(st, MSG_TLS, off, data, (size_t)len);
			break;
		}
		case 0x1c:              /* CONNECTION_CLOSE (transport) */
		case 0x1d: {            /* CONNECTION_CLOSE (application) */
			cur_varint(&f);
			if (type == 0x1c)
				cur_varint(&f);
			uint64_t n = cur_varint(&f);
			if (n > cur_left(&f))
				return;
			cur_skip(&f, (size_t)n);
			break;
		}
		default:
			return;
		}
		if (f.err)
			return;
	}
}

/* gQUIC ACK (Q034 and later layout): type 01nullmm, ll/mm coding 1/2/4/6 bytes. */
static void skip_gquic_ack(struct cursor *f, uint8_t type, bool be)
{
	static const unsigned sizes[4] = { 1, 2, 4, 6 };
	unsigned largest_len = sizes[(type >> 2) & 3];
	unsigned block_len = sizes[type & 3];

	cur_gint(f, largest_len, be);   /* largest acked */
	cur_skip(f, 2);                 /* ack delay (ufloat16) */
	unsigned blocks = (type & 0x20) ? cur_u8(f) : 0;
	cur_skip(f, block_len);         /* first block */
	for (unsigned i = 0; i < blocks && !f->err; i++)
		cur_skip(f, 1 + block_len);
	unsigned stamps = cur_u8(f);
	if (stamps > 0)
		cur_skip(f, 1 + 4 + (size_t)(stamps - 1) * 3);
}

/* Frames of a gQUIC packet. The crypto stream is stream 1 (STREAM frames,
 * up to Q046) or CRYPTO frames (0x08, Q050/T05x). PADDING runs to the end. */
static void gquic_frames(struct quic_state *st, const struct vinfo *vi, struct cursor f,
			 unsigned pn_len)
{
	bool be = vi->gver >= 39;

	while (cur_left(&f) > 0) {
		uint8_t type = cur_u8(&f);
		if (type == 0x00) {                     /* PADDING */
			return;
		} else if (type == 0x07) {              /* PING */
			continue;
		} else if (type == 0x06 && vi->gver <= 43) {    /* STOP_WAITING */
			cur_skip(&f, pn_len);
		} else if (type == 0x08 && vi->fam == FAM_GQUIC_ENC) {  /* CRYPTO */
			uint64_t off = cur_varint(&f);
			uint64_t len = cur_varint(&f);
			const uint8_t *data = len <= cur_left(&f) ? cur_take(&f, (size_t)len) : NULL;
			if (!data)
				return;
			stream_insert(st, vi->msg, off, data, (size_t)len);
		} else if ((type & 0xc0) == 0x40) {     /* ACK */
			skip_gquic_ack(&f, type, be);
		} else if (type & 0x80) {               /* STREAM: 1 f d ooo ss */
			unsigned ooo = (type >> 2) & 7;
			unsigned off_len = ooo ? ooo + 1 : 0;
			uint64_t sid = cur_gint(&f, (type & 3) + 1u, be);
			uint64_t off = cur_gint(&f, off_len, be);
			size_t len = (type & 0x20) ? (size_t)cur_gint(&f, 2, be) : cur_left(&f);
			const uint8_t *data = cur_take(&f, len);
			if (!data)
				return;
			if (sid == 1 && vi->fam != FAM_GQUIC_ENC)
				stream_insert(st, vi->msg, off, data, len);
		} else {
			return;
		}
		if (f.err)
			return;
	}
}

/* ---- keys and packet protection ---- */

static struct key_slot *find_slot(struct quic_state *st, uint32_t version, const uint8_t *dcid,
				  size_t dcid_len)
{
	for (int i = 0; i < QUIC_KEY_SLOTS; i++) {
		struct key_slot *s = &st->slots[i];
		if (s->version == version && s->dcid_len == dcid_len &&
		    memcmp(s->dcid, dcid, dcid_len) == 0)
			return s;
	}
	return NULL;
}

static bool is_pinned(const struct quic_state *st, const struct key_slot *s)
{
	return (st->odcid_len && s->dcid_len == st->odcid_len &&
		memcmp(s->dcid, st->odcid, s->dcid_len) == 0) ||
	       (st->retry_len && s->dcid_len == st->retry_len &&
		memcmp(s->dcid, st->retry_scid, s->dcid_len) == 0);
}

/* Keys for (version, dcid): cached, or derived into a free or unpinned slot. */
static struct key_slot *get_keys(struct quic_state *st, uint32_t version, const uint8_t *dcid,
				 size_t dcid_len)
{
	struct key_slot *s = find_slot(st, version, dcid, dcid_len);
	struct key_slot tmp;

	if (s)
		return s;
	if (dcid_len == 0 || dcid_len > QUIC_CID_MAX)
		return NULL;
	memset(&tmp, 0, sizeof(tmp));
	if (!quic_derive_client_keys(version, dcid, dcid_len, &tmp.keys, NULL))
		return NULL;
	tmp.version = version;
	tmp.largest_pn = -1;
	tmp.dcid_len = (uint8_t)dcid_len;
	memcpy(tmp.dcid, dcid, dcid_len);

	s = NULL;
	for (int i = 0; i < QUIC_KEY_SLOTS && !s; i++)
		if (st->slots[i].version == 0)
			s = &st->slots[i];
	for (int i = 0; i < QUIC_KEY_SLOTS && !s; i++) {
		struct key_slot *v = &st->slots[st->next_victim++ % QUIC_KEY_SLOTS];
		if (!is_pinned(st, v))
			s = v;
	}
	if (!s)         /* all pinned cannot happen with more slots than pins */
		s = &st->slots[st->next_victim++ % QUIC_KEY_SLOTS];
	*s = tmp;
	return s;
}

/* RFC 9000 A.3: full packet number from its truncated form. */
static uint64_t decode_pn(int64_t largest, uint64_t truncated, unsigned bits)
{
	uint64_t expected = (uint64_t)(largest + 1);
	uint64_t win = (uint64_t)1 << bits;
	uint64_t hwin = win / 2;
	uint64_t candidate = (expected & ~(win - 1)) | truncated;

	if (candidate + hwin <= expected && candidate < ((uint64_t)1 << 62) - win)
		return candidate + win;
	if (candidate > expected + hwin && candidate >= win)
		return candidate - win;
	return candidate;
}

/* A long-header packet of a datagram. */
struct long_hdr {
	uint8_t first;
	uint32_t version;
	enum long_type type;
	const uint8_t *dcid;
	uint8_t dcid_len;
	const uint8_t *scid;
	uint8_t scid_len;
	struct cursor pkt;  /* the whole packet, first byte to last */
	size_t pn_off;      /* offset in pkt of the (protected) packet number */
};

/* Parse an IETF-style long header at the cursor and step the cursor past the
 * whole packet. Retry runs to the end of the datagram. */
static bool parse_long(struct cursor *c, const struct vinfo *vi, struct long_hdr *h)
{
	struct cursor from = cur_rest(c);      /* this packet and what follows */
	size_t start = c->off;

	h->first = cur_u8(c);
	h->version = cur_be32(c);
	h->type = long_type_of(h->first, vi);
	h->dcid_len = cur_u8(c);
	if (h->dcid_len > QUIC_CID_MAX)
		return false;
	h->dcid = cur_take(c, h->dcid_len);
	h->scid_len = cur_u8(c);
	if (h->scid_len > QUIC_CID_MAX)
		return false;
	h->scid = cur_take(c, h->scid_len);
	if (c->err)
		return false;
	if (h->type == LT_RETRY) {
		h->pn_off = cur_left(&from);
		h->pkt = cur_sub(&from, cur_left(&from));
		cur_skip(c, cur_left(c));
		return true;
	}
	if (h->type == LT_INITIAL) {
		uint64_t token = cur_varint(c);
		if (c->err || token > cur_left(c))
			return false;
		cur_skip(c, (size_t)token);
	}
	uint64_t length = cur_varint(c);
	if (c->err || length > cur_left(c))
		return false;
	h->pn_off = c->off - start;
	h->pkt = cur_sub(&from, h->pn_off + (size_t)length);
	cur_skip(c, (size_t)length);
	return !c->err && !from.err;
}

/* Try to open one Initial with one key set. On success the plaintext is in
 * plain_scratch and *plain_len and *pn_len are set. */
static bool open_with(struct key_slot *ks, const struct long_hdr *h, size_t *plain_len,
		      unsigned *pn_len)
{
	struct cursor c = h->pkt;
	uint8_t mask[5];
	uint8_t pn_bytes[4];
	uint64_t truncated = 0;

	cur_skip(&c, 1);
	const uint8_t *hdr_rest = cur_take(&c, h->pn_off - 1);   /* version .. length */
	/* RFC 9001 5.4.2: the sample starts 4 bytes after the packet number. */
	struct cursor probe = cur_rest(&c);
	cur_skip(&probe, 4);
	const uint8_t *sample = cur_take(&probe, QUIC_SAMPLE_LEN);
	if (!hdr_rest || !sample || !quic_hp_mask(ks->keys.hp, sample, mask))
		return false;
	uint8_t first = (uint8_t)(h->first ^ (mask[0] & 0x0f));
	unsigned n = (first & 3u) + 1;
	for (unsigned i = 0; i < n; i++) {
		pn_bytes[i] = (uint8_t)(cur_u8(&c) ^ mask[1 + i]);
		truncated = (truncated << 8) | pn_bytes[i];
	}
	if (cur_left(&c) < QUIC_TAG_LEN)
		return false;
	size_t ct_len = cur_left(&c) - QUIC_TAG_LEN;
	const uint8_t *ct = cur_take(&c, ct_len);
	const uint8_t *tag = cur_take(&c, QUIC_TAG_LEN);
	uint64_t pn = decode_pn(ks->largest_pn, truncated, 8 * n);
	struct quic_aad aad = {
		{ &first, hdr_rest, pn_bytes },
		{ 1, h->pn_off - 1, n },
	};
	if (c.err || !quic_aead_open(&ks->keys, pn, &aad, ct, ct_len, tag, plain_scratch))
		return false;
	if ((int64_t)pn > ks->largest_pn)
		ks->largest_pn = (int64_t)pn;
	*plain_len = ct_len;
	*pn_len = n;
	return true;
}

static bool same_cid(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* Decrypt a client Initial and feed its frames to the stream. */
static enum pkt_res client_initial(struct quic_state *st, const struct vinfo *vi,
				   const struct long_hdr *h)
{
	const uint8_t *cand[3];
	size_t cand_len[3];
	int n = 0;

	cand[n] = h->dcid;
	cand_len[n++] = h->dcid_len;
	if (st->odcid_len && !same_cid(st->odcid, st->odcid_len, h->dcid, h->dcid_len)) {
		cand[n] = st->odcid;
		cand_len[n++] = st->odcid_len;
	}
	if (st->retry_len && !same_cid(st->retry_scid, st->retry_len, h->dcid, h->dcid_len) &&
	    !same_cid(st->retry_scid, st->retry_len, st->odcid, st->odcid_len)) {
		cand[n] = st->retry_scid;
		cand_len[n++] = st->retry_len;
	}

	/* Keys that failed and never worked (typically those of a server-chosen
	 * DCID) go last; each candidate is tried once. */
	bool late[3];
	for (int i = 0; i < n; i++) {
		struct key_slot *ks = find_slot(st, h->version, cand[i], cand_len[i]);
		late[i] = ks && ks->failed && !ks->verified;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			if (late[i] != (pass == 1))
				continue;
			struct key_slot *ks = get_keys(st, h->version, cand[i], cand_len[i]);
			if (!ks)
				continue;
			size_t plain_len;
			unsigned pn_len;
			if (!open_with(ks, h, &plain_len, &pn_len)) {
				ks->failed = true;
				continue;
			}
			ks->verified = true;
			if (!st->odcid_len && i == 0) {
				st->odcid_len = h->dcid_len;
				memcpy(st->odcid, h->dcid, h->dcid_len);
			}
			struct cursor f = cur_make(plain_scratch, plain_len);
			if (vi->fam == FAM_IETF)
				ietf_frames(st, f);
			else
				gquic_frames(st, vi, f, pn_len);
			return PR_PROGRESS;
		}
	}
	return PR_UNDECRYPTABLE;
}

/* ---- cleartext gQUIC ---- */

/* Q046: 0b11TTxxPP, version, CID-length byte (two nibbles, +3 when non-zero),
 * CIDs, packet number, message hash, frames. */
static enum pkt_res q046_packet(struct quic_state *st, const struct vinfo *vi, struct cursor c)
{
	uint8_t first = cur_u8(&c);
	cur_skip(&c, 4);                       /* version */
	uint8_t cil = cur_u8(&c);
	unsigned dcil = (cil >> 4) ? (cil >> 4) + 3u : 0;
	unsigned scil = (cil & 15) ? (cil & 15) + 3u : 0;
	unsigned pn_len = (first & 3u) + 1;

	if (((first >> 4) & 3) != 0)           /* not an Initial */
		return PR_NONE;
	cur_skip(&c, dcil + scil);
	cur_skip(&c, pn_len);
	cur_skip(&c, GQUIC_HASH_LEN);
	if (c.err)
		return PR_NONE;
	gquic_frames(st, vi, cur_rest(&c), pn_len);
	return PR_PROGRESS;
}

/* Q024..Q043 public header: flags, 8-byte CID, version, packet number (1, 2,
 * 4 or 6 bytes), message hash, private flags up to Q033, frames. Flag 0x04
 * is a diversification nonce only from servers; in older versions it was
 * half of the CID-length field (0x0c: 8 bytes), so a client's is ignored. */
static enum pkt_res public_packet(struct quic_state *st, const struct vinfo *vi, struct cursor c)
{
	static const unsigned pn_sizes[4] = { 1, 2, 4, 6 };
	uint8_t flags = cur_u8(&c);
	unsigned pn_len = pn_sizes[(flags >> 4) & 3];

	cur_skip(&c, 8 + 4);                   /* CID, version */
	cur_skip(&c, pn_len);
	cur_skip(&c, GQUIC_HASH_LEN);
	if (vi->gver <= 33)
		cur_skip(&c, 1);               /* private flags */
	if (c.err)
		return PR_NONE;
	gquic_frames(st, vi, cur_rest(&c), pn_len);
	return PR_PROGRESS;
}

/* Flags of a client's public-header packet carrying a version and a CID
 * (no public reset, top bit clear); *version set when true. */
static bool public_header_ok(const uint8_t *data, size_t len, struct vinfo *vi,
			     uint32_t *version)
{
	struct cursor c = cur_make(data, len);
	uint8_t flags = cur_u8(&c);

	if ((flags & 0x80) || (flags & 0x02) || (flags & 0x09) != 0x09)
		return false;
	cur_skip(&c, 8);
	*version = cur_be32(&c);
	return !c.err && public_version(*version, vi);
}

/* ---- entry points ---- */

struct quic_state *quic_state_new(void)
{
	return calloc(1, sizeof(struct quic_state));
}

void quic_state_free(struct quic_state *st)
{
	free(st);
}

size_t quic_state_size(void)
{
	return sizeof(struct quic_state);
}

struct quic_state *quic_state_new_from(struct slab *pool)
{
	/* All but the 16 KB of stream bytes, which are only read where they
	 * were written (below the contiguous prefix). */
	struct quic_state *st = slab_alloc(pool);
	if (st)
		memset(st, 0, offsetof(struct quic_state, buf));
	return st;
}

void quic_state_free_to(struct slab *pool, struct quic_state *st)
{
	slab_free(pool, st);
}

uint32_t quic_state_version(const struct quic_state *st)
{
	return st ? st->version : 0;
}

bool quic_plausible(const uint8_t *data, size_t len)
{
	struct cursor c = cur_make(data, len);
	struct vinfo vi;
	uint8_t first = cur_u8(&c);

	if (c.err)
		return false;
	uint32_t version;
	if (!(first & 0x80))
		return public_header_ok(data, len, &vi, &version);
	version = cur_be32(&c);
	if (c.err || !long_version(version, &vi))
		return false;
	if (vi.fam == FAM_Q046)
		return ((first >> 4) & 3) == 0 && len >= 1 + 4 + 1 + 8 + 1 + GQUIC_HASH_LEN;
	struct long_hdr h;
	c = cur_make(data, len);
	return parse_long(&c, &vi, &h) && h.type == LT_INITIAL && h.dcid_len > 0;
}

enum quic_result quic_client_datagram(struct quic_state *st, const uint8_t *data, size_t len,
				      struct tls_client_hello *ch)
{
	struct tls_client_hello scratch_ch;
	struct cursor c = cur_make(data, len);
	enum pkt_res best = PR_NONE;
	struct vinfo vi;

	if (!st || !data || len == 0)
		return QUIC_NOT_QUIC;
	if (!ch)
		ch = &scratch_ch;
	if (st->finished)
		stream_reset(st);

	if (!(cur_peek_u8(&c, 0) & 0x80)) {
		uint32_t version;
		if (!public_header_ok(data, len, &vi, &version))
			return QUIC_NOT_QUIC;
		st->version = version;
		best = public_packet(st, &vi, c);
	} else {
		/* Coalesced packets (RFC 9000 12.2): each long header says how long it
		 * is; a short header or trailing padding ends the walk. */
		while (cur_left(&c) > 0 && (cur_peek_u8(&c, 0) & 0x80)) {
			struct cursor vc = cur_rest(&c);
			cur_skip(&vc, 1);
			uint32_t version = cur_be32(&vc);
			if (vc.err || !long_version(version, &vi))
				break;
			st->version = version;
			if (vi.fam == FAM_Q046) {
				if (c.off == 0)
					best = q046_packet(st, &vi, c);
				break;          /* no length field: nothing can follow */
			}
			struct long_hdr h;
			if (!parse_long(&c, &vi, &h))
				break;
			enum pkt_res r = PR_PROGRESS;   /* 0-RTT, Handshake: QUIC, not for us */
			if (h.type == LT_INITIAL)
				r = client_initial(st, &vi, &h);
			else if (h.type == LT_RETRY)
				r = PR_NONE;            /* only servers send Retry */
			if (r > best)
				best = r;
		}
	}

	if (best == PR_NONE)
		return QUIC_NOT_QUIC;
	if (best == PR_UNDECRYPTABLE)
		return QUIC_UNDECRYPTABLE;
	bool ok;
	if (stream_check(st, ch, &ok) != PR_MSG_DONE)
		return QUIC_NEED_MORE;
	st->finished = true;
	return ok ? QUIC_OK : QUIC_UNDECRYPTABLE;
}

void quic_server_datagram(struct quic_state *st, const uint8_t *data, size_t len)
{
	struct cursor c = cur_make(data, len);
	struct vinfo vi;

	if (!st || !data)
		return;
	while (cur_left(&c) > 0 && (cur_peek_u8(&c, 0) & 0x80)) {
		struct cursor vc = cur_rest(&c);
		cur_skip(&vc, 1);
		uint32_t version = cur_be32(&vc);
		/* Version 0 is Version Negotiation: the client answers with a new
		 * Initial whose own DCID we derive from, so there is nothing to keep. */
		if (vc.err || version == 0 || !long_version(version, &vi) || vi.fam == FAM_Q046)
			return;
		struct long_hdr h;
		if (!parse_long(&c, &vi, &h))
			return;
		if (h.type == LT_RETRY && h.scid_len > 0) {
			/* The client's next Initials use this SCID as DCID and as key
			 * input (RFC 9001 5.2); derive now so they hit the cache. */
			st->retry_len = h.scid_len;
			memcpy(st->retry_scid, h.scid, h.scid_len);
			get_keys(st, version, h.scid, h.scid_len);
			return;
		}
	}
}
