/* defrag.c - fragment reassembly (see defrag.h).
 *
 * Datagrams in progress sit in a hash table (chained) and on one list in
 * the order they began, oldest first. Because every datagram has the same
 * timeout counted from its first fragment, expiry only ever looks at the
 * head of that list, and so does eviction when a bound is reached.
 *
 * Each datagram keeps its payload bytes at their offsets in a buffer that
 * spans the bytes seen, from the lowest offset to the highest (at most
 * 65535): a lone fragment far into a datagram holds its own bytes, not
 * every offset before it. The filled parts are kept as a
 * short sorted list of [start, end) pieces, merged when they touch (the
 * hole list of RFC 815 seen from the other side). A fragment's bytes are
 * copied only where no piece is yet: the first copy wins. The datagram is
 * complete when the last fragment has told where it ends and one piece
 * covers [0, end). */
#include "defrag.h"
#include "slab.h"

#include <stdlib.h>
#include <string.h>

#include "cursor.h"

#define IPV4_HDR 20
#define IPV6_HDR 40
#define GROW_STEP 2048u

struct piece {
	uint32_t start, end;
};

struct dgram {
	struct dgram *hnext;         /* hash chain */
	struct dgram *older, *newer; /* start order */
	struct ip_addr src, dst;
	uint32_t id;
	uint8_t version, proto;
	bool have_end;               /* the fragment without "more" came */
	uint32_t end;                /* payload length, once have_end */
	uint64_t first_usec;
	uint32_t n;                  /* pieces in use */
	struct piece pieces[DEFRAG_PIECES];
	uint8_t *data;               /* payload bytes at their offsets, from offset lo */
	uint32_t lo;                 /* payload offset of data[0] (0 once the first fragment came) */
	uint32_t cap;                /* bytes allocated for data */
};

struct defrag {
	struct defrag_limits lim;
	struct dgram **buckets;
	uint32_t bucket_mask;
	struct dgram *oldest, *newest;
	struct defrag_stats stats;
	uint8_t out[DEFRAG_DATAGRAM_MAX + IPV6_HDR];
};

struct defrag *defrag_new(const struct defrag_limits *limits)
{
	if (!limits || limits->max_datagrams == 0 || limits->timeout_secs == 0)
		return NULL;
	struct defrag *d = line_zalloc(sizeof(*d));
	if (!d)
		return NULL;
	d->lim = *limits;
	uint32_t nb = 16;
	while (nb < limits->max_datagrams && nb < (1u << 24))
		nb <<= 1;
	d->buckets = calloc(nb, sizeof(*d->buckets));
	if (!d->buckets) {
		free(d);
		return NULL;
	}
	d->bucket_mask = nb - 1;
	return d;
}

static void drop(struct defrag *d, struct dgram *g);

void defrag_free(struct defrag *d)
{
	if (!d)
		return;
	while (d->oldest)
		drop(d, d->oldest);
	free(d->buckets);
	free(d);
}

const struct defrag_stats *defrag_get_stats(const struct defrag *d)
{
	return &d->stats;
}

/* ---- the table ----------------------------------------------------------- */

static uint32_t key_hash(const struct packet *p)
{
	uint32_t h = addr_hash(&p->src, p->frag_id ^ ((uint32_t)p->frag_proto << 24));
	return addr_hash(&p->dst, h);
}

static bool same_key(const struct dgram *g, const struct packet *p)
{
	return g->id == p->frag_id && g->proto == p->frag_proto &&
	       g->version == p->ip_version && addr_eq(&g->src, &p->src) &&
	       addr_eq(&g->dst, &p->dst);
}

static struct dgram **bucket_of(struct defrag *d, const struct dgram *g)
{
	struct packet k;
	k.src = g->src;
	k.dst = g->dst;
	k.frag_id = g->id;
	k.frag_proto = g->proto;
	return &d->buckets[key_hash(&k) & d->bucket_mask];
}

/* Unlink, free, and forget a datagram. */
static void drop(struct defrag *d, struct dgram *g)
{
	struct dgram **pp = bucket_of(d, g);
	while (*pp && *pp != g)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = g->hnext;
	if (g->older)
		g->older->newer = g->newer;
	else
		d->oldest = g->newer;
	if (g->newer)
		g->newer->older = g->older;
	else
		d->newest = g->older;
	d->stats.bytes_held -= g->cap;
	d->stats.in_progress--;
	free(g->data);
	free(g);
}

static struct dgram *find(struct defrag *d, const struct packet *p)
{
	for (struct dgram *g = d->buckets[key_hash(p) & d->bucket_mask]; g; g = g->hnext)
		if (same_key(g, p))
			return g;
	return NULL;
}

static struct dgram *create(struct defrag *d, const struct packet *p)
{
	while (d->stats.in_progress >= d->lim.max_datagrams && d->oldest) {
		d->stats.evicted++;
		drop(d, d->oldest);
	}
	struct dgram *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->src = p->src;
	g->dst = p->dst;
	g->id = p->frag_id;
	g->proto = p->frag_proto;
	g->version = p->ip_version;
	g->first_usec = p->ts_usec;
	struct dgram **b = &d->buckets[key_hash(p) & d->bucket_mask];
	g->hnext = *b;
	*b = g;
	g->older = d->newest;
	if (d->newest)
		d->newest->newer = g;
	else
		d->oldest = g;
	d->newest = g;
	d->stats.in_progress++;
	return g;
}

void defrag_expire(struct defrag *d, uint64_t now_usec)
{
	uint64_t limit = (uint64_t)d->lim.timeout_secs * 1000000u;
	while (d->oldest && now_usec > d->oldest->first_usec &&
	       now_usec - d->oldest->first_usec > limit) {
		d->stats.timeouts++;
		drop(d, d->oldest);
	}
}

/* ---- one datagram --------------------------------------------------------- */

/* Room for payload bytes [start, end) beside those held, within the memory
 * bound (evicting older datagrams if need be). The buffer grows upwards in
 * place (realloc); a fragment below the lowest held offset moves the held
 * bytes up in a new buffer. */
static bool make_room(struct defrag *d, struct dgram *g, uint32_t start, uint32_t end)
{
	uint32_t lo = g->data ? g->lo : start;
	if (start >= lo && end <= lo + g->cap)
		return true;
	uint32_t top = g->n ? g->pieces[g->n - 1].end : end;
	if (top < end)
		top = end;
	/* Below what is held: room below as large as the span, so fragments
	 * that come lowest offset last move the bytes a few times, not once
	 * each (tiny fragments in that order would cost a 64 KiB copy each). */
	if (start < lo) {
		uint32_t below = top - start > GROW_STEP ? top - start : GROW_STEP;
		lo = start > below ? start - below : 0;
	}
	uint32_t want = (top - lo + GROW_STEP - 1) / GROW_STEP * GROW_STEP;
	if (want > DEFRAG_DATAGRAM_MAX)
		want = DEFRAG_DATAGRAM_MAX;
	uint64_t more = want > g->cap ? want - g->cap : 0;
	while (d->stats.bytes_held + more > DEFRAG_MEMORY && d->oldest && d->oldest != g) {
		d->stats.evicted++;
		drop(d, d->oldest);
	}
	if (d->stats.bytes_held + more > DEFRAG_MEMORY)
		return false;
	uint8_t *grown;
	if (!g->data || lo == g->lo) {
		grown = realloc(g->data, want);
		if (!grown)
			return false;
	} else {
		grown = malloc(want);
		if (!grown)
			return false;
		if (g->n) {   /* the held bytes, from the lowest piece to the highest */
			uint32_t from = g->pieces[0].start;
			memcpy(grown + (from - lo), g->data + (from - g->lo), g->pieces[g->n - 1].end - from);
		}
		free(g->data);
	}
	g->data = grown;
	g->lo = lo;
	d->stats.bytes_held = d->stats.bytes_held - g->cap + want;   /* it held g->cap */
	g->cap = want;
	return true;
}

static uint32_t pieces_after_merge(const struct dgram *g, uint32_t s, uint32_t e)
{
	uint32_t touching = 0;
	for (uint32_t i = 0; i < g->n; i++)
		if (g->pieces[i].start <= e && g->pieces[i].end >= s)
			touching++;
	return g->n - touching + 1;
}

static void merge_piece(struct dgram *g, uint32_t s, uint32_t e)
{
	struct piece out[DEFRAG_PIECES];
	uint32_t n = 0, i = 0;
	while (i < g->n && g->pieces[i].end < s)
		out[n++] = g->pieces[i++];
	struct piece m = { s, e };
	while (i < g->n && g->pieces[i].start <= e) {
		if (g->pieces[i].start < m.start)
			m.start = g->pieces[i].start;
		if (g->pieces[i].end > m.end)
			m.end = g->pieces[i].end;
		i++;
	}
	out[n++] = m;
	while (i < g->n)
		out[n++] = g->pieces[i++];
	memcpy(g->pieces, out, n * sizeof(out[0]));
	g->n = n;
}

/* The fragment's bytes for payload offsets [from, to). */
static const uint8_t *frag_bytes(const struct packet *p, uint32_t from, uint32_t to)
{
	struct cursor c = cur_make(p->frag_data, p->frag_len);
	cur_skip(&c, from - p->frag_offset);
	return cur_take(&c, to - from);
}

/* Copy the fragment where nothing is held yet; compare where something is. */
static void store(struct defrag *d, struct dgram *g, const struct packet *p, uint32_t s,
		  uint32_t e)
{
	bool overlap = false, conflict = false;
	uint32_t pos = s;
	for (uint32_t i = 0; i < g->n && pos < e; i++) {
		const struct piece *h = &g->pieces[i];
		if (h->end <= pos)
			continue;
		if (h->start >= e)
			break;
		if (h->start > pos) {
			memcpy(g->data + (pos - g->lo), frag_bytes(p, pos, h->start), h->start - pos);
			pos = h->start;
		}
		uint32_t ov_end = h->end < e ? h->end : e;
		overlap = true;
		if (memcmp(g->data + (pos - g->lo), frag_bytes(p, pos, ov_end), ov_end - pos) != 0)
			conflict = true;
		pos = ov_end;
	}
	if (pos < e)
		memcpy(g->data + (pos - g->lo), frag_bytes(p, pos, e), e - pos);
	d->stats.overlaps += overlap;
	d->stats.conflicts += conflict;
	merge_piece(g, s, e);
}

static void put_be16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* The whole datagram: a plain header, then the payload. */
static uint32_t build(struct defrag *d, const struct dgram *g)
{
	uint8_t *o = d->out;
	uint32_t hlen;
	if (g->version == 4) {
		hlen = IPV4_HDR;
		memset(o, 0, IPV4_HDR);
		o[0] = 0x45;
		put_be16(o + 2, IPV4_HDR + g->end);
		put_be16(o + 4, g->id & 0xffff);
		o[8] = 64;
		o[9] = g->proto;
		memcpy(o + 12, g->src.b + 12, 4);
		memcpy(o + 16, g->dst.b + 12, 4);
	} else {
		hlen = IPV6_HDR;
		memset(o, 0, IPV6_HDR);
		o[0] = 0x60;
		put_be16(o + 4, g->end);
		o[6] = g->proto;
		o[7] = 64;
		memcpy(o + 8, g->src.b, 16);
		memcpy(o + 24, g->dst.b, 16);
	}
	memcpy(o + hlen, g->data, g->end);   /* complete: a piece starts at 0, so lo is 0 */
	return hlen + g->end;
}

static bool invalid(struct defrag *d, struct dgram *g)
{
	d->stats.invalid++;
	if (g)
		drop(d, g);
	return false;
}

bool defrag_add(struct defrag *d, const struct packet *p, const uint8_t **dgram, uint32_t *len)
{
	d->stats.fragments++;
	defrag_expire(d, p->ts_usec);
	if (p->ip_version != 4 && p->ip_version != 6)
		return false;
	uint32_t max_payload = DEFRAG_DATAGRAM_MAX - (p->ip_version == 4 ? IPV4_HDR : 0);
	uint32_t s = p->frag_offset, e = s + p->frag_len;
	struct dgram *g = find(d, p);
	if (e > max_payload)
		return invalid(d, g);
	if (!g && !(g = create(d, p)))
		return false;
	if (!p->frag_more) {
		if ((g->have_end && g->end != e) || (g->n && g->pieces[g->n - 1].end > e))
			return invalid(d, g);
		g->have_end = true;
		g->end = e;
	} else if (g->have_end && e > g->end) {
		/* Past the end the last fragment gave: that end came first. */
		d->stats.conflicts++;
		e = g->end;
	}
	if (e > s) {
		if (pieces_after_merge(g, s, e) > DEFRAG_PIECES)
			return invalid(d, g);
		if (!make_room(d, g, s, e)) {
			d->stats.evicted++;
			drop(d, g);
			return false;
		}
		store(d, g, p, s, e);
	}
	if (!g->have_end || g->n != 1 || g->pieces[0].start != 0 || g->pieces[0].end != g->end)
		return false;
	*len = build(d, g);
	*dgram = d->out;
	d->stats.reassembled++;
	drop(d, g);
	return true;
}
