/* record_queue.c - bounded multi-producer, single-consumer record queue
 * (record_queue.h). */
#include "record_queue.h"

#include "strbuf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define FREE_KEEP 1024        /* item buffers kept for reuse at most */
#define ITEM_MIN 1024         /* bytes an item buffer holds at least (most alerts fit) */
#define WAKE_LEN_MAX 256      /* records waiting that wake a polling consumer */

struct record_queue {
	pthread_mutex_t mu;
	pthread_cond_t not_full, handled_cv;
	struct rq_item **slots;
	size_t cap, head, len;
	size_t wake_len;
	struct rq_item *free_list[FREE_KEEP];
	size_t n_free;
	uint64_t pushed, handled, dropped;
	int waiting_producers;
	bool consumer_asleep, closed;
};

/* ---- the packed form ----------------------------------------------------------
 *
 * struct record is copied byte for byte, except its string fields: each
 * goes as a two-byte length (little-endian) and its bytes up to the NUL
 * (all of them if it has none), and the evidence and DNS entries past the
 * record's counts are left out. Every other byte,
 * padding included, goes as it is, so a field added to the record later
 * crosses without change here. */

enum { ALWAYS, IF_EVIDENCE, IF_DNS };

struct str_field {
	uint32_t off, size;
	uint8_t cond;
	uint8_t index;
	uint8_t run_last;    /* IF_DNS: the last field of the back-to-back run it starts */
};

#define N_STR (8 + EVIDENCE_MAX + RECORD_DNS_MAX)
/* the lengths are what a packed record can take past the struct's size */
_Static_assert(2 * N_STR <= RQ_PACKED_MAX - sizeof(struct record), "RQ_PACKED_MAX");
static struct str_field str_fields[N_STR];
static size_t n_str;
static pthread_once_t fields_once = PTHREAD_ONCE_INIT;

static void add_field(size_t off, size_t size, uint8_t cond, uint8_t index)
{
	if (n_str < N_STR)
		str_fields[n_str++] = (struct str_field){ (uint32_t)off, (uint32_t)size, cond, index, 0 };
}

#define FIELD(f) offsetof(struct record, f), sizeof(((struct record *)0)->f)

/* In the order of the fields in struct record (checked below). */
static void init_fields(void)
{
	add_field(FIELD(community_id), ALWAYS, 0);
	add_field(FIELD(verdict.match), ALWAYS, 0);
	for (int i = 0; i < EVIDENCE_MAX; i++)
		add_field(offsetof(struct record, verdict.evidence) + (size_t)i * sizeof(struct evidence) +
				  offsetof(struct evidence, value),
			  EVIDENCE_VALUE_MAX, IF_EVIDENCE, (uint8_t)i);
	add_field(FIELD(policy), ALWAYS, 0);
	add_field(FIELD(as_org), ALWAYS, 0);
	add_field(FIELD(sni), ALWAYS, 0);
	add_field(FIELD(quic_sni), ALWAYS, 0);
	add_field(FIELD(http_host), ALWAYS, 0);
	add_field(FIELD(alpn), ALWAYS, 0);
	for (int i = 0; i < RECORD_DNS_MAX; i++)
		add_field(offsetof(struct record, dns_queries) + (size_t)i * DNS_NAME_MAX, DNS_NAME_MAX,
			  IF_DNS, (uint8_t)i);
	for (size_t i = n_str; i-- > 0;)
		str_fields[i].run_last =
			(uint8_t)(i + 1 < n_str && str_fields[i].cond == IF_DNS &&
					  str_fields[i + 1].cond == IF_DNS &&
					  str_fields[i + 1].off == str_fields[i].off + str_fields[i].size
				  ? str_fields[i + 1].run_last
				  : i);
	/* Out of order, the packing would be wrong: then copy records whole. */
	for (size_t i = 1; i < n_str; i++)
		if (str_fields[i].off < str_fields[i - 1].off + str_fields[i - 1].size)
			n_str = 0;
}

_Static_assert(offsetof(struct record, verdict.n_evidence) <
		       offsetof(struct record, verdict.evidence),
	       "the evidence count must precede the evidence");
_Static_assert(offsetof(struct record, n_dns) < offsetof(struct record, dns_queries),
	       "the DNS query count must precede the queries");

static bool field_used(const struct str_field *f, const struct record *r)
{
	switch (f->cond) {
	case IF_EVIDENCE: return f->index < r->verdict.n_evidence;
	case IF_DNS: return f->index < r->n_dns;
	default: return true;
	}
}

size_t rq_pack(const struct record *r, unsigned char *out)
{
	pthread_once(&fields_once, init_fields);
	const unsigned char *b = (const unsigned char *)r;
	size_t pos = 0, o = 0;
	for (size_t i = 0; i < n_str; i++) {
		const struct str_field *f = &str_fields[i];
		if (f->off > pos) {
			sb_copy((char *)out + o, b + pos, f->off - pos);
			o += f->off - pos;
		}
		pos = f->off + f->size;
		if (!field_used(f, r)) {
			/* the DNS queries past the count: the rest of the run too */
			i = f->run_last;
			pos = str_fields[i].off + str_fields[i].size;
			continue;
		}
		size_t n = strnlen((const char *)b + f->off, f->size);
		out[o] = (unsigned char)n;
		out[o + 1] = (unsigned char)(n >> 8);
		sb_copy((char *)out + o + 2, b + f->off, n);
		o += 2 + n;
	}
	memcpy(out + o, b + pos, sizeof(*r) - pos);
	return o + sizeof(*r) - pos;
}

void rq_unpack_bytes(const unsigned char *in, size_t len, struct record *r)
{
	pthread_once(&fields_once, init_fields);
	unsigned char *b = (unsigned char *)r;
	const unsigned char *end = in + len;
	size_t pos = 0;
	for (size_t i = 0; i < n_str; i++) {
		const struct str_field *f = &str_fields[i];
		size_t gap = f->off - pos;
		if ((size_t)(end - in) < gap)
			goto short_input;
		if (gap) {
			sb_copy((char *)b + pos, in, gap);
			in += gap;
		}
		pos = f->off + f->size;
		if (!field_used(f, r)) {
			/* empty, and so are the rest of a run of DNS queries */
			for (size_t k = i; k <= f->run_last; k++)
				b[str_fields[k].off] = '\0';
			i = f->run_last;
			pos = str_fields[i].off + str_fields[i].size;
			continue;
		}
		if (end - in < 2)
			goto short_input;
		size_t n = (size_t)in[0] | (size_t)in[1] << 8;
		in += 2;
		if (n > f->size || (size_t)(end - in) < n)
			goto short_input;
		sb_copy((char *)b + f->off, in, n);
		if (n < f->size)
			b[f->off + n] = '\0';
		in += n;
	}
	if ((size_t)(end - in) < sizeof(*r) - pos)
		goto short_input;
	memcpy(b + pos, in, sizeof(*r) - pos);
	return;
short_input:   /* not from rq_pack: an empty record rather than garbage */
	memset(r, 0, sizeof(*r));
}

void rq_unpack(const struct rq_item *it, struct record *r)
{
	rq_unpack_bytes(it->data, it->len, r);
}

/* ---- the queue ---------------------------------------------------------------- */

struct record_queue *rq_new(size_t capacity)
{
	pthread_once(&fields_once, init_fields);
	struct record_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->cap = capacity ? capacity : 1;
	q->slots = calloc(q->cap, sizeof(*q->slots));
	if (!q->slots) {
		free(q);
		return NULL;
	}
	q->wake_len = q->cap / 4;
	if (q->wake_len > WAKE_LEN_MAX)
		q->wake_len = WAKE_LEN_MAX;
	if (q->wake_len < 1)
		q->wake_len = 1;
	q->consumer_asleep = true;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->handled_cv, NULL);
	return q;
}

void rq_free(struct record_queue *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->len; i++)
		free(q->slots[(q->head + i) % q->cap]);
	for (size_t i = 0; i < q->n_free; i++)
		free(q->free_list[i]);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->handled_cv);
	free(q->slots);
	free(q);
}

/* Under the lock: a buffer for len bytes. */
static struct rq_item *take_item(struct record_queue *q, size_t len)
{
	if (q->n_free) {
		struct rq_item *it = q->free_list[--q->n_free];
		if (it->cap >= len)
			return it;
		free(it);
	}
	size_t cap = len > ITEM_MIN ? len : ITEM_MIN;
	struct rq_item *it = malloc(sizeof(*it) + cap);
	if (it)
		it->cap = (uint32_t)cap;
	return it;
}

bool rq_push(struct record_queue *q, const struct record *r, bool wait_if_full, bool *wake)
{
	unsigned char packed[RQ_PACKED_MAX];
	size_t len = rq_pack(r, packed);
	*wake = false;
	pthread_mutex_lock(&q->mu);
	while (q->len == q->cap && wait_if_full && !q->closed) {
		q->waiting_producers++;
		pthread_cond_wait(&q->not_full, &q->mu);
		q->waiting_producers--;
	}
	struct rq_item *it = q->len == q->cap || q->closed ? NULL : take_item(q, len);
	if (!it) {
		q->dropped++;
		pthread_mutex_unlock(&q->mu);
		return false;
	}
	it->len = (uint32_t)len;
	memcpy(it->data, packed, len);
	q->slots[(q->head + q->len) % q->cap] = it;
	q->len++;
	q->pushed++;
	if (q->consumer_asleep) {
		q->consumer_asleep = false;
		*wake = true;
	} else if (q->len == q->wake_len) {
		*wake = true;
	}
	pthread_mutex_unlock(&q->mu);
	return true;
}

size_t rq_pop(struct record_queue *q, struct rq_item **out, size_t max)
{
	pthread_mutex_lock(&q->mu);
	size_t n = 0;
	while (n < max && q->len > 0) {
		out[n++] = q->slots[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	q->consumer_asleep = n == 0;
	if (n && q->waiting_producers)
		pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
	return n;
}

void rq_done(struct record_queue *q, struct rq_item **items, size_t n)
{
	pthread_mutex_lock(&q->mu);
	size_t i = 0;
	for (; i < n && q->n_free < FREE_KEEP; i++)
		q->free_list[q->n_free++] = items[i];
	q->handled += n;
	pthread_cond_broadcast(&q->handled_cv);
	pthread_mutex_unlock(&q->mu);
	for (; i < n; i++)
		free(items[i]);
}

void rq_wait_handled(struct record_queue *q)
{
	pthread_mutex_lock(&q->mu);
	uint64_t target = q->pushed;
	while (q->handled < target)
		pthread_cond_wait(&q->handled_cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

void rq_close(struct record_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
}

bool rq_closed(struct record_queue *q)
{
	pthread_mutex_lock(&q->mu);
	bool c = q->closed;
	pthread_mutex_unlock(&q->mu);
	return c;
}

uint64_t rq_dropped(struct record_queue *q)
{
	pthread_mutex_lock(&q->mu);
	uint64_t d = q->dropped;
	pthread_mutex_unlock(&q->mu);
	return d;
}

size_t rq_length(struct record_queue *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->len;
	pthread_mutex_unlock(&q->mu);
	return n;
}
