/* dns.c - DNS message parsing: header, questions, answer section, CNAME walks.
 *
 * Every byte comes from the network and is read through a cursor over the
 * whole message; nothing here writes outside the caller's struct or
 * allocates. Invariants:
 *
 *  - Name decompression terminates. A compression pointer must point strictly
 *    before the start of the run of labels it ends (the name's first byte, or
 *    the previous pointer's target). Run starts therefore strictly decrease,
 *    which rules out loops and forward pointers; a hop limit and the RFC 1035
 *    255-byte wire limit bound the work further.
 *  - Names are written in one presentation form: lowercase, labels joined by
 *    '.', no trailing dot, the root name as ".". A byte other than a-z, 0-9,
 *    '-', '_' and '*' inside a label (a dot or backslash included) is written
 *    as \DDD (three decimal digits), the convention of Wireshark and of zone
 *    files, so a stored name is plain ASCII without quotes or controls and
 *    two different wire names never share a presentation form.
 *  - A name whose presentation form does not fit DNS_NAME_MAX is refused,
 *    never truncated: a cut name could read as a different, shorter name.
 *  - Every loop is bounded by a header count (at most 65535) and stops at the
 *    first short read, or by the small constants below.
 *  - dns_walk_addresses() hands out chains of at most DNS_MAX_CHAIN names
 *    (question name included), each name once, so callers may copy a chain
 *    into a DNS_MAX_CHAIN array.
 *  - dns_plausible() walks every section (authority and additional too) and
 *    wants the payload to end exactly with the last record: on a port that
 *    is not DNS's, a false "no" costs less than a false "yes".
 */
#include "dns.h"

#include <string.h>
#include <strings.h>

#include "cursor.h"

#define DNS_HEADER_LEN 12
#define DNS_WIRE_NAME_MAX 255   /* RFC 1035 2.3.4, length octets included */
#define DNS_MAX_HOPS 32         /* compression pointers followed per name */

/* dns_plausible() limits: generous for mDNS, tight enough to reject noise. */
#define PLAUSIBLE_MAX_QD 32
#define PLAUSIBLE_MAX_RR 256

enum { DNS_CLASS_IN = 1, DNS_CLASS_CH = 3, DNS_CLASS_HS = 4, DNS_CLASS_NONE = 254,
       DNS_CLASS_ANY = 255 };

/* Move a cursor to an absolute offset of its window (err when outside). */
static bool seek_cursor(struct cursor *c, size_t off)
{
	if (c->err || off > c->len) {
		c->err = true;
		return false;
	}
	c->off = off;
	return true;
}

/* A byte that may stand for itself in a stored label (after lowercasing). */
static bool is_plain_label_byte(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' || b == '_' ||
	       b == '*';
}

/* Bounded string builder: appends fail (sticky) instead of overflowing. */
struct name_buf {
	char *out;
	size_t cap;     /* bytes in out, NUL included */
	size_t len;
	bool overflow;
};

static void append_char(struct name_buf *nb, char ch)
{
	if (nb->overflow || nb->len + 1 >= nb->cap) {
		nb->overflow = true;
		return;
	}
	nb->out[nb->len++] = ch;
	nb->out[nb->len] = '\0';
}

static void append_label_byte(struct name_buf *nb, uint8_t b)
{
	if (b >= 'A' && b <= 'Z')
		b = (uint8_t)(b - 'A' + 'a');
	if (is_plain_label_byte(b)) {
		append_char(nb, (char)b);
		return;
	}
	append_char(nb, '\\');
	append_char(nb, (char)('0' + b / 100));
	append_char(nb, (char)('0' + (b / 10) % 10));
	append_char(nb, (char)('0' + b % 10));
}

/* Read the (possibly compressed) name at c's offset. c is a cursor over the
 * whole message; on success it is advanced past the name's in-place bytes
 * (up to and including the first pointer) and out holds the presentation
 * form. On failure c carries err and out is "". */
static bool read_name(struct cursor *c, char *out, size_t cap)
{
	struct name_buf nb = { out, cap, 0, false };
	struct cursor w = *c;
	size_t run_start = w.off;
	size_t resume = 0;
	bool jumped = false;
	size_t wire = 0;
	unsigned hops = 0;

	out[0] = '\0';
	/* Each pass either consumes a label (wire grows, capped at 255) or
	 * follows a pointer (hops grows, capped), so the loop is bounded. */
	for (;;) {
		uint8_t n = cur_u8(&w);
		if (w.err)
			goto bad;
		if (n == 0)
			break;
		if ((n & 0xc0) == 0xc0) {
			uint8_t lo = cur_u8(&w);
			size_t target = ((size_t)(n & 0x3f) << 8) | lo;
			if (w.err || target >= run_start || ++hops > DNS_MAX_HOPS)
				goto bad;
			if (!jumped) {
				resume = w.off;
				jumped = true;
			}
			run_start = target;
			if (!seek_cursor(&w, target))
				goto bad;
			continue;
		}
		if (n & 0xc0)   /* 0x40 extended and 0x80 reserved label types */
			goto bad;
		wire += 1u + n;
		if (wire + 1 > DNS_WIRE_NAME_MAX)
			goto bad;
		struct cursor label = cur_sub(&w, n);
		if (w.err)
			goto bad;
		if (nb.len > 0)
			append_char(&nb, '.');
		for (uint8_t i = 0; i < n; i++)
			append_label_byte(&nb, cur_u8(&label));
		if (nb.overflow)
			goto bad;
	}
	if (nb.len == 0)
		append_char(&nb, '.');
	if (nb.overflow)
		goto bad;
	if (!seek_cursor(c, jumped ? resume : w.off))
		goto bad;
	return true;
bad:
	c->err = true;
	out[0] = '\0';
	return false;
}

static void read_header(struct cursor *c, struct dns_message *m)
{
	m->id = cur_be16(c);
	uint16_t flags = cur_be16(c);
	m->response = (flags & 0x8000) != 0;
	m->opcode = (uint8_t)((flags >> 11) & 0x0f);
	m->rcode = (uint8_t)(flags & 0x0f);
	m->qdcount = cur_be16(c);
	m->ancount = cur_be16(c);
	cur_skip(c, 4);   /* nscount, arcount: those sections are not read */
}

/* Read all qdcount questions, storing the first DNS_MAX_QUESTIONS. */
static bool read_questions(struct cursor *c, struct dns_message *m)
{
	char scratch[DNS_NAME_MAX];

	for (uint32_t i = 0; i < m->qdcount; i++) {
		bool keep = m->n_questions < DNS_MAX_QUESTIONS;
		char *name = keep ? m->qname[m->n_questions] : scratch;
		if (!read_name(c, name, DNS_NAME_MAX))
			return false;
		uint16_t qtype = cur_be16(c);
		cur_skip(c, 2);   /* qclass */
		if (c->err)
			return false;
		if (keep)
			m->qtype[m->n_questions++] = qtype;
	}
	return true;
}

/* Read the record data of a stored answer. false if it is inconsistent. */
static bool read_rdata(struct cursor *c, struct cursor *rdata, size_t rdlen,
		       struct dns_answer *a)
{
	switch (a->type) {
	case DNS_TYPE_A: {
		const uint8_t *v4 = cur_take(rdata, 4);
		if (rdlen != 4 || v4 == NULL)
			return false;
		addr_from_v4(&a->addr, v4);
		return true;
	}
	case DNS_TYPE_AAAA: {
		const uint8_t *v6 = cur_take(rdata, 16);
		if (rdlen != 16 || v6 == NULL)
			return false;
		addr_from_v6(&a->addr, v6);
		return true;
	}
	case DNS_TYPE_CNAME: {
		/* The target may point anywhere earlier in the message, so it is
		 * read with the whole-message cursor; its in-place bytes must stay
		 * inside rdata. */
		struct cursor t = *c;
		if (!read_name(&t, a->target, sizeof(a->target)))
			return false;
		return t.off - c->off <= rdlen;
	}
	default:
		return true;
	}
}

/* Read the answer section until it ends, turns bad or storage is full. */
static void read_answers(struct cursor *c, struct dns_message *m)
{
	for (uint32_t i = 0; i < m->ancount; i++) {
		if (m->n_answers >= DNS_MAX_ANSWERS) {
			m->answers_cut = true;
			return;
		}
		struct dns_answer *a = &m->answers[m->n_answers];
		/* Only what read_rdata may leave unset: the names are written
		 * whole by read_name, and a full clear is 0.5 KB per answer. */
		a->target[0] = '\0';
		memset(&a->addr, 0, sizeof(a->addr));
		if (!read_name(c, a->name, sizeof(a->name)))
			goto cut;
		a->type = cur_be16(c);
		cur_skip(c, 2);   /* class (mDNS sets the cache-flush bit) */
		a->ttl = cur_be32(c);
		uint16_t rdlen = cur_be16(c);
		struct cursor at_rdata = *c;
		struct cursor rdata = cur_sub(c, rdlen);
		if (c->err || !read_rdata(&at_rdata, &rdata, rdlen, a))
			goto cut;
		m->n_answers++;
	}
	return;
cut:
	m->answers[m->n_answers].name[0] = '\0';
	m->answers[m->n_answers].target[0] = '\0';
	m->answers_cut = true;
}

enum dns_result dns_parse(const uint8_t *data, size_t len, struct dns_message *m)
{
	struct cursor c = cur_make(data, len);

	/* The header fields and counts; the stored names and answers are only
	 * read below their counts (the whole struct is ~28 KB). */
	memset(m, 0, offsetof(struct dns_message, qname));
	m->n_answers = 0;
	m->answers_cut = false;
	read_header(&c, m);
	if (c.err)
		return DNS_MALFORMED;
	if (!read_questions(&c, m)) {
		m->n_questions = 0;
		return DNS_MALFORMED;
	}
	read_answers(&c, m);
	return DNS_OK;
}

/* Record classes seen in real traffic (mDNS's top bit masked off). */
static bool is_known_class(uint16_t cls)
{
	cls &= 0x7fff;
	return cls == DNS_CLASS_IN || cls == DNS_CLASS_CH || cls == DNS_CLASS_HS ||
	       cls == DNS_CLASS_NONE || cls == DNS_CLASS_ANY;
}

/* Walk every section without storing; true if the payload is exactly one
 * well-formed message. */
static bool walk_message(struct cursor *c, uint16_t qd, uint32_t rr)
{
	char name[DNS_NAME_MAX];

	for (uint16_t i = 0; i < qd; i++) {
		if (!read_name(c, name, sizeof(name)))
			return false;
		cur_skip(c, 2);   /* qtype */
		if (!is_known_class(cur_be16(c)) || c->err)
			return false;
	}
	for (uint32_t i = 0; i < rr; i++) {
		if (!read_name(c, name, sizeof(name)))
			return false;
		uint16_t type = cur_be16(c);
		uint16_t cls = cur_be16(c);
		cur_skip(c, 4);   /* ttl */
		uint16_t rdlen = cur_be16(c);
		cur_skip(c, rdlen);
		if (c->err)
			return false;
		/* OPT (41) reuses the class field for the UDP payload size. */
		if (type != 41 && !is_known_class(cls))
			return false;
	}
	return cur_left(c) == 0;
}

bool dns_plausible(const uint8_t *data, size_t len)
{
	struct cursor c = cur_make(data, len);

	cur_skip(&c, 2);   /* id */
	uint16_t flags = cur_be16(&c);
	uint16_t qd = cur_be16(&c);
	uint16_t an = cur_be16(&c);
	uint16_t ns = cur_be16(&c);
	uint16_t ar = cur_be16(&c);
	if (c.err)
		return false;

	bool response = (flags & 0x8000) != 0;
	unsigned opcode = (flags >> 11) & 0x0f;
	unsigned rcode = flags & 0x0f;
	/* QUERY, STATUS, NOTIFY, UPDATE; the Z bit is always zero. */
	if ((opcode != 0 && opcode != 2 && opcode != 4 && opcode != 5) || (flags & 0x0040))
		return false;
	if (!response && rcode != 0)
		return false;
	if (qd > PLAUSIBLE_MAX_QD || an > PLAUSIBLE_MAX_RR || ns > PLAUSIBLE_MAX_RR ||
	    ar > PLAUSIBLE_MAX_RR)
		return false;
	/* A query asks something; a response (mDNS announcements have no
	 * question) carries something. */
	if (qd == 0 && (!response || an + ns + ar == 0))
		return false;
	return walk_message(&c, qd, (uint32_t)an + ns + ar);
}

/* The chain of names from a question through CNAME records. */
struct name_chain {
	const char *names[DNS_MAX_CHAIN];
	size_t len;
};

static bool chain_contains(const struct name_chain *ch, const char *name)
{
	for (size_t i = 0; i < ch->len; i++)
		if (strcasecmp(ch->names[i], name) == 0)
			return true;
	return false;
}

/* The target of the first CNAME owned by `name`, or NULL. */
static const char *find_cname_target(const struct dns_message *m, const char *name)
{
	for (size_t i = 0; i < m->n_answers; i++) {
		const struct dns_answer *a = &m->answers[i];
		if (a->type == DNS_TYPE_CNAME && strcasecmp(a->name, name) == 0)
			return a->target;
	}
	return NULL;
}

/* Follow CNAMEs from qname; stops at a repeated name or DNS_MAX_CHAIN names. */
static void build_chain(const struct dns_message *m, const char *qname, struct name_chain *ch)
{
	ch->len = 0;
	ch->names[ch->len++] = qname;
	while (ch->len < DNS_MAX_CHAIN) {
		const char *next = find_cname_target(m, ch->names[ch->len - 1]);
		if (next == NULL || chain_contains(ch, next))
			return;
		ch->names[ch->len++] = next;
	}
}

static bool is_address(const struct dns_answer *a)
{
	return a->type == DNS_TYPE_A || a->type == DNS_TYPE_AAAA;
}

/* The question names before index q that equal question q. */
static bool is_repeated_question(const struct dns_message *m, size_t q)
{
	for (size_t i = 0; i < q; i++)
		if (strcasecmp(m->qname[i], m->qname[q]) == 0)
			return true;
	return false;
}

void dns_walk_addresses(const struct dns_message *m, dns_addr_fn fn, void *ctx)
{
	struct name_chain ch;

	for (size_t q = 0; q < m->n_questions && q < DNS_MAX_QUESTIONS; q++) {
		if (is_repeated_question(m, q))
			continue;
		build_chain(m, m->qname[q], &ch);
		for (size_t i = 0; i < m->n_answers && i < DNS_MAX_ANSWERS; i++) {
			const struct dns_answer *a = &m->answers[i];
			if (!is_address(a))
				continue;
			for (size_t k = 0; k < ch.len; k++) {
				if (strcasecmp(a->name, ch.names[k]) == 0) {
					fn(ctx, a, ch.names, k + 1);
					break;
				}
			}
		}
	}
}
