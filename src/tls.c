/* tls.c - TLS ClientHello extraction from a record stream or a bare handshake.
 *
 * The record layer is read from the first byte of a client's TCP stream: each
 * record must be a handshake record (type 22) with version 3.x. When the
 * ClientHello fits in the first record it is parsed in place; otherwise the
 * record fragments are joined into the caller's scratch buffer (bounded by
 * TLS_CH_MAX), which is the only memory written besides the output struct.
 * Invariants:
 *
 *  - Every read goes through a cursor; every length field is checked against
 *    the bytes of its enclosing structure before it is trusted.
 *  - Loops over records and extensions consume at least one byte per pass,
 *    so they end with the input.
 *  - Strings written to the output are NUL-terminated ASCII: the SNI is
 *    lowercased, loses one trailing dot, and any byte other than a-z, 0-9,
 *    '-', '_', '.' and '*' is written as \DDD (as dns.c does), so that it
 *    stays comparable with names seen in DNS. An SNI that does not fit is
 *    dropped (has_sni false) rather than cut, since a cut name could match a
 *    different one.
 */
#include "tls.h"

#include <string.h>

#include "cursor.h"
#include "text.h"

#define TLS_RECORD_HEADER_LEN 5
#define TLS_RECORD_MAX (16384 + 2048)   /* RFC 5246 6.2.3 upper bound on a record */
#define TLS_HS_HEADER_LEN 4

enum {
	TLS_CONTENT_HANDSHAKE = 22,
	TLS_HS_CLIENT_HELLO = 1,
	TLS_EXT_SERVER_NAME = 0,
	TLS_EXT_ALPN = 16,
	TLS_EXT_SUPPORTED_VERSIONS = 43,
	TLS_EXT_ECH = 0xfe0d,
	TLS_SNI_HOST_NAME = 0,
};

/* server_name (RFC 6066 3): the first host_name entry. */
static bool read_server_name(struct cursor ext, struct tls_client_hello *ch)
{
	uint16_t list_len = cur_be16(&ext);
	struct cursor list = cur_sub(&ext, list_len);
	if (ext.err)
		return false;
	while (cur_left(&list) > 0) {
		uint8_t type = cur_u8(&list);
		uint16_t n = cur_be16(&list);
		struct cursor name = cur_sub(&list, n);
		if (list.err)
			return false;
		if (type == TLS_SNI_HOST_NAME && !ch->has_sni) {
			ch->has_sni = text_copy_host(name, ch->sni, sizeof(ch->sni), "");
			return true;
		}
	}
	return true;
}

/* A byte of an ALPN protocol id that may stand for itself in the joined list. */
static bool is_plain_alpn_byte(uint8_t b)
{
	return b > 0x20 && b < 0x7f && b != ',' && b != '\\' && b != '"';
}

/* Append one protocol to ch->alpn; a protocol that does not fit is left out
 * whole, and so is everything after it. */
static void append_alpn(struct tls_client_hello *ch, struct cursor proto, bool *full)
{
	char tmp[TLS_ALPN_MAX];
	size_t base = strlen(ch->alpn);
	struct text_buf sb = text_buf_over(tmp, sizeof(tmp));

	if (base > 0)
		text_putc(&sb, ',');
	while (cur_left(&proto) > 0) {
		uint8_t b = cur_u8(&proto);
		if (is_plain_alpn_byte(b))
			text_putc(&sb, (char)b);
		else
			text_put_escaped(&sb, b);
	}
	if (sb.overflow || base + sb.len >= sizeof(ch->alpn)) {
		*full = true;
		return;
	}
	memcpy(ch->alpn + base, tmp, sb.len + 1);
}

/* application_layer_protocol_negotiation (RFC 7301 3.1). */
static bool read_alpn(struct cursor ext, struct tls_client_hello *ch)
{
	uint16_t list_len = cur_be16(&ext);
	struct cursor list = cur_sub(&ext, list_len);
	bool full = false;

	if (ext.err)
		return false;
	while (cur_left(&list) > 0) {
		uint8_t n = cur_u8(&list);
		struct cursor proto = cur_sub(&list, n);
		if (list.err || n == 0)
			return false;
		if (!full)
			append_alpn(ch, proto, &full);
	}
	return true;
}

static bool read_extension(uint16_t type, struct cursor ext, struct tls_client_hello *ch)
{
	switch (type) {
	case TLS_EXT_SERVER_NAME:
		/* A repeated server_name is refused by servers; keep the first. */
		return ch->has_sni ? true : read_server_name(ext, ch);
	case TLS_EXT_ALPN:
		return ch->alpn[0] != '\0' ? true : read_alpn(ext, ch);
	case TLS_EXT_SUPPORTED_VERSIONS:
		ch->has_supported_versions = true;
		return true;
	case TLS_EXT_ECH:
		ch->ech = true;
		return true;
	default:
		return true;
	}
}

static bool read_extensions(struct cursor *body, struct tls_client_hello *ch)
{
	/* Extensions are optional before TLS 1.2 (RFC 5246 7.4.1.2). */
	if (cur_left(body) == 0)
		return true;
	uint16_t total = cur_be16(body);
	struct cursor exts = cur_sub(body, total);
	if (body->err)
		return false;
	while (cur_left(&exts) > 0) {
		uint16_t type = cur_be16(&exts);
		uint16_t n = cur_be16(&exts);
		struct cursor ext = cur_sub(&exts, n);
		if (exts.err)
			return false;
		if (ch->n_extensions < UINT16_MAX)
			ch->n_extensions++;
		if (!read_extension(type, ext, ch))
			return false;
	}
	return true;
}

/* The ClientHello body (RFC 8446 4.1.2), after the handshake header. */
static bool read_client_hello_body(struct cursor body, struct tls_client_hello *ch)
{
	ch->version = cur_be16(&body);
	cur_skip(&body, 32);   /* random */
	uint8_t sid_len = cur_u8(&body);
	if (sid_len > 32)
		return false;
	cur_skip(&body, sid_len);
	uint16_t suites_len = cur_be16(&body);
	if (suites_len < 2 || (suites_len & 1))
		return false;
	cur_skip(&body, suites_len);
	uint8_t comp_len = cur_u8(&body);
	if (comp_len < 1)
		return false;
	cur_skip(&body, comp_len);
	if (body.err || (ch->version >> 8) != 3)
		return false;
	return read_extensions(&body, ch);
}

enum tls_result tls_parse_client_hello(const uint8_t *hs, size_t len, struct tls_client_hello *ch)
{
	struct cursor c = cur_make(hs, len);

	memset(ch, 0, sizeof(*ch));
	if (len == 0)
		return TLS_NEED_MORE;
	if (cur_u8(&c) != TLS_HS_CLIENT_HELLO)
		return TLS_NOT_TLS;
	uint32_t body_len = cur_be24(&c);
	if (c.err)
		return TLS_NEED_MORE;
	if (body_len > TLS_CH_MAX - TLS_HS_HEADER_LEN)
		return TLS_MALFORMED;
	struct cursor body = cur_sub(&c, body_len);
	if (c.err)
		return TLS_NEED_MORE;
	if (!read_client_hello_body(body, ch)) {
		memset(ch, 0, sizeof(*ch));
		return TLS_MALFORMED;
	}
	return TLS_OK;
}

/* Record header check shared by the stream parser and tls_plausible(). The
 * bytes present (fewer than 5 is fine) must agree with a handshake record. */
static bool is_handshake_record_prefix(const struct cursor *c)
{
	size_t n = cur_left(c);

	if (n > 0 && cur_peek_u8(c, 0) != TLS_CONTENT_HANDSHAKE)
		return false;
	if (n > 1 && cur_peek_u8(c, 1) != 3)
		return false;
	if (n > 2 && cur_peek_u8(c, 2) > 4)
		return false;
	if (n > 4) {
		size_t rec_len = ((size_t)cur_peek_u8(c, 3) << 8) | cur_peek_u8(c, 4);
		if (rec_len == 0 || rec_len > TLS_RECORD_MAX)
			return false;
	}
	return n > 0;
}

bool tls_plausible(const uint8_t *data, size_t len)
{
	struct cursor c = cur_make(data, len);
	return is_handshake_record_prefix(&c);
}

/* Where the handshake bytes of the records read so far are gathered. */
struct hs_join {
	uint8_t *scratch;   /* caller's buffer, TLS_CH_MAX bytes, or NULL */
	size_t have;        /* handshake bytes seen across records */
	size_t want;        /* 4 + body length once the header is known, else 0 */
};

/* Append one record's fragment to the joined handshake bytes. */
static bool join_fragment(struct hs_join *j, struct cursor frag)
{
	size_t n = cur_left(&frag);

	/* Bytes after the ClientHello (another message) are not needed. */
	if (j->want != 0 && n > j->want - j->have)
		n = j->want - j->have;
	const uint8_t *b = cur_take(&frag, n);

	if (j->scratch == NULL || n > TLS_CH_MAX - j->have || (n > 0 && b == NULL))
		return false;
	if (n > 0)
		memcpy(j->scratch + j->have, b, n);
	j->have += n;
	return true;
}

/* Learn the message length from the first four joined bytes. */
static enum tls_result check_hs_header(struct hs_join *j)
{
	if (j->want != 0 || j->have < TLS_HS_HEADER_LEN)
		return TLS_OK;
	struct cursor h = cur_make(j->scratch, TLS_HS_HEADER_LEN);
	if (cur_u8(&h) != TLS_HS_CLIENT_HELLO)
		return TLS_NOT_TLS;
	size_t body_len = cur_be24(&h);
	if (body_len > TLS_CH_MAX - TLS_HS_HEADER_LEN)
		return TLS_MALFORMED;
	j->want = TLS_HS_HEADER_LEN + body_len;
	return TLS_OK;
}

static void set_needed(size_t *needed, size_t v)
{
	if (needed)
		*needed = v;
}

/* A parsed hello carries the version of the record it arrived in. */
static enum tls_result stamp_record_version(enum tls_result r, uint16_t record_version,
					    struct tls_client_hello *ch)
{
	if (r == TLS_OK)
		ch->record_version = record_version;
	return r;
}

/* The handshake message length (header included) at the start of a
 * fragment, or 0 when fewer than four bytes are there. */
static size_t peek_hs_length(const struct cursor *frag)
{
	if (cur_left(frag) < TLS_HS_HEADER_LEN)
		return 0;
	return TLS_HS_HEADER_LEN + (((size_t)cur_peek_u8(frag, 1) << 16) |
				    ((size_t)cur_peek_u8(frag, 2) << 8) | cur_peek_u8(frag, 3));
}

enum tls_result tls_parse_client_stream(const uint8_t *data, size_t len, uint8_t *scratch,
					struct tls_client_hello *ch, size_t *needed)
{
	struct cursor c = cur_make(data, len);
	struct hs_join j = { scratch, 0, 0 };
	uint16_t record_version = 0;

	memset(ch, 0, sizeof(*ch));
	set_needed(needed, 0);
	if (!is_handshake_record_prefix(&c))
		return len == 0 ? TLS_NEED_MORE : TLS_NOT_TLS;

	/* Each pass consumes a record header and at least one fragment byte
	 * (empty records are refused), so the loop ends with the data. */
	for (unsigned rec = 0;; rec++) {
		if (cur_left(&c) > 0 && !is_handshake_record_prefix(&c))
			return TLS_MALFORMED;
		if (cur_left(&c) < TLS_RECORD_HEADER_LEN) {
			if (j.want)
				set_needed(needed, c.off + TLS_RECORD_HEADER_LEN + (j.want - j.have));
			return TLS_NEED_MORE;
		}
		cur_skip(&c, 1);
		uint16_t version = cur_be16(&c);
		size_t rec_len = cur_be16(&c);
		size_t avail = cur_left(&c) < rec_len ? cur_left(&c) : rec_len;
		struct cursor peek = c;
		struct cursor frag = cur_sub(&peek, avail);

		if (rec == 0) {
			record_version = version;
			if (avail == 0) {
				set_needed(needed, c.off + rec_len);
				return TLS_NEED_MORE;
			}
			if (cur_peek_u8(&frag, 0) != TLS_HS_CLIENT_HELLO)
				return TLS_NOT_TLS;
			size_t want = peek_hs_length(&frag);
			if (want > TLS_CH_MAX)
				return TLS_MALFORMED;
			if (want != 0 && want <= avail) {   /* whole in the first record */
				enum tls_result r = tls_parse_client_hello(cur_pos(&frag), want, ch);
				return stamp_record_version(r, record_version, ch);
			}
			if (want != 0 && want <= rec_len) {   /* whole once this record is */
				set_needed(needed, c.off + want);
				return TLS_NEED_MORE;
			}
		}
		if (!join_fragment(&j, frag))
			return TLS_MALFORMED;
		enum tls_result r = check_hs_header(&j);
		if (r != TLS_OK)
			return r;
		if (j.want && j.have >= j.want) {
			r = tls_parse_client_hello(j.scratch, j.want, ch);
			return stamp_record_version(r, record_version, ch);
		}
		if (avail < rec_len) {
			/* The data ends inside this record; what the message needs
			 * beyond it takes at least one more record header. */
			size_t missing = j.want ? j.want - j.have : 0;
			size_t in_record = rec_len - avail;
			size_t after = missing > in_record ? missing - in_record : 0;
			set_needed(needed, c.off + rec_len + (after ? TLS_RECORD_HEADER_LEN + after : 0));
			return TLS_NEED_MORE;
		}
		cur_skip(&c, rec_len);
	}
}
