/* signatures.c - loading and matching the signature set.
 *
 * Names (from `domain` and `host` lines) are kept in an array of entries
 * indexed by an open-addressing hash table (linear probing, power-of-two
 * size, at most half full). One entry per distinct name carries both a
 * domain service and a host service, either possibly SVC_NONE. The hash
 * runs over the name's bytes from right to left, so a lookup computes the
 * hash of every label suffix of the query in one pass and then probes
 * from the longest suffix to the shortest: O(length) hashing plus one
 * probe per label, with no allocation. Prefixes go into a prefix_table
 * (value = service); ASNs and ports into small sorted arrays.
 *
 * Loading is all-or-nothing: a file is first parsed into a scratch set
 * (which catches every mistake, with its line), then checked against the
 * target for conflicts, then room is reserved in the target, and only
 * then is it moved in by steps that cannot fail. Tables grow only while
 * loading; a loaded set is read-only and may be shared between threads. */
#include "signatures.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prefix_table.h"
#include "text.h"

#define NAME_MAX_LEN 253          /* longest DNS name in text form, no final dot */
#define LABEL_MAX_LEN 63
#define MAX_LABELS 128            /* 253 characters hold at most 127 labels */
#define LINE_MAX_LEN 1024
#define SIG_FILE_MAX (64u << 20)  /* a larger signature file is a mistake */

struct name_entry {
	char *name;                  /* lowercase, without a trailing dot */
	uint32_t hash;
	uint16_t len;
	uint8_t domain_svc;          /* SVC_NONE when there is no `domain` line */
	uint8_t host_svc;            /* SVC_NONE when there is no `host` line */
	uint32_t domain_line, host_line;
};

struct prefix_rec {
	struct ip_prefix prefix;
	uint8_t svc;
	uint32_t line;
};

struct u32_rec {
	uint32_t key;
	uint8_t svc;
	uint32_t line;
};

/* Sorted by key, searched by bisection. */
struct u32_map {
	struct u32_rec *v;
	size_t n, cap;
};

struct sigset {
	struct name_entry *names;
	size_t n_names, cap_names;
	uint32_t *slots;             /* entry index + 1; 0 = empty */
	size_t n_slots;              /* power of two, or 0 before the first name */
	size_t n_domains, n_hosts;
	struct prefix_table *prefixes;
	struct prefix_rec *prefix_recs;  /* the same prefixes, for merging */
	size_t n_prefix_recs, cap_prefix_recs;
	struct u32_map asns, ports;
};

enum add_result { ADD_NEW, ADD_SAME, ADD_CONFLICT, ADD_NOMEM };

enum name_kind { KIND_DOMAIN, KIND_HOST };

/* ---- errors ------------------------------------------------------------ */

__attribute__((format(printf, 4, 5)))
static void set_error(struct sig_error *err, const char *file, int line, const char *fmt, ...)
{
	if (!err)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* ---- name hashing and the hash table ------------------------------------ */

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

static uint32_t hash_step(uint32_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

/* Spreads the FNV state over the low bits used as the table index. */
static uint32_t hash_final(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

static uint32_t hash_name(const char *s, size_t len)
{
	uint32_t h = FNV_OFFSET;
	for (size_t i = len; i > 0; i--)
		h = hash_step(h, (unsigned char)s[i - 1]);
	return hash_final(h);
}

#define NO_ENTRY SIZE_MAX

/* Index of the entry for exactly this name, or NO_ENTRY. The table is at
 * most half full, so the probe always reaches an empty slot. */
static size_t find_index(const struct sigset *s, const char *name, size_t len, uint32_t hash)
{
	if (s->n_slots == 0)
		return NO_ENTRY;
	size_t mask = s->n_slots - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		uint32_t slot = s->slots[i];
		if (slot == 0)
			return NO_ENTRY;
		const struct name_entry *e = &s->names[slot - 1];
		if (e->hash == hash && e->len == len && memcmp(e->name, name, len) == 0)
			return slot - 1;
	}
}

static const struct name_entry *find_name(const struct sigset *s, const char *name, size_t len,
					  uint32_t hash)
{
	size_t i = find_index(s, name, len, hash);
	return i == NO_ENTRY ? NULL : &s->names[i];
}

static void place_slot(uint32_t *slots, size_t n_slots, uint32_t hash, uint32_t value)
{
	size_t mask = n_slots - 1;
	size_t i = hash & mask;
	while (slots[i] != 0)
		i = (i + 1) & mask;
	slots[i] = value;
}

/* Room for `want` names: entry array and a table kept at most half full. */
static bool reserve_names(struct sigset *s, size_t want)
{
	if (want > UINT32_MAX / 4)
		return false;
	if (want > s->cap_names) {
		size_t cap = s->cap_names ? s->cap_names : 64;
		while (cap < want)
			cap *= 2;
		struct name_entry *n = realloc(s->names, cap * sizeof(*n));
		if (!n)
			return false;
		s->names = n;
		s->cap_names = cap;
	}
	if (want * 2 <= s->n_slots)
		return true;
	size_t n_slots = s->n_slots ? s->n_slots : 128;
	while (want * 2 > n_slots)
		n_slots *= 2;
	uint32_t *slots = calloc(n_slots, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < s->n_names; i++)
		place_slot(slots, n_slots, s->names[i].hash, (uint32_t)i + 1);
	free(s->slots);
	s->slots = slots;
	s->n_slots = n_slots;
	return true;
}

static void count_kind(struct sigset *s, enum name_kind kind)
{
	if (kind == KIND_DOMAIN)
		s->n_domains++;
	else
		s->n_hosts++;
}

/* Sets one kind's service on an existing entry, or reports how it differs. */
static enum add_result update_name(struct sigset *s, struct name_entry *e, enum name_kind kind,
				   uint8_t svc, uint32_t line, uint8_t *old_svc,
				   uint32_t *old_line)
{
	uint8_t *have = kind == KIND_DOMAIN ? &e->domain_svc : &e->host_svc;
	uint32_t *have_line = kind == KIND_DOMAIN ? &e->domain_line : &e->host_line;
	if (*have == SVC_NONE) {
		*have = svc;
		*have_line = line;
		count_kind(s, kind);
		return ADD_NEW;
	}
	if (*have == svc)
		return ADD_SAME;
	*old_svc = *have;
	*old_line = *have_line;
	return ADD_CONFLICT;
}

/* Adds a name whose storage `owned` passes to the set on ADD_NEW of a new
 * entry (and is left to the caller otherwise). Room must be reserved. */
static enum add_result insert_name(struct sigset *s, char *owned, size_t len, enum name_kind kind,
				   uint8_t svc, uint32_t line, bool *took, uint8_t *old_svc,
				   uint32_t *old_line)
{
	uint32_t hash = hash_name(owned, len);
	*took = false;
	size_t i = find_index(s, owned, len, hash);
	if (i != NO_ENTRY)
		return update_name(s, &s->names[i], kind, svc, line, old_svc, old_line);
	struct name_entry *e = &s->names[s->n_names];
	memset(e, 0, sizeof(*e));
	e->name = owned;
	e->len = (uint16_t)len;
	e->hash = hash;
	place_slot(s->slots, s->n_slots, hash, (uint32_t)s->n_names + 1);
	s->n_names++;
	*took = true;
	return update_name(s, e, kind, svc, line, old_svc, old_line);
}

static enum add_result add_name(struct sigset *s, const char *name, size_t len,
				enum name_kind kind, uint8_t svc, uint32_t line, uint8_t *old_svc,
				uint32_t *old_line)
{
	if (!reserve_names(s, s->n_names + 1))
		return ADD_NOMEM;
	char *copy = strndup(name, len);
	if (!copy)
		return ADD_NOMEM;
	bool took;
	enum add_result r = insert_name(s, copy, len, kind, svc, line, &took, old_svc, old_line);
	if (!took)
		free(copy);
	return r;
}

/* ---- prefixes, ASNs, ports ---------------------------------------------- */

static bool reserve_prefixes(struct sigset *s, size_t more)
{
	size_t want = s->n_prefix_recs + more;
	if (want > s->cap_prefix_recs) {
		size_t cap = s->cap_prefix_recs ? s->cap_prefix_recs : 64;
		while (cap < want)
			cap *= 2;
		struct prefix_rec *r = realloc(s->prefix_recs, cap * sizeof(*r));
		if (!r)
			return false;
		s->prefix_recs = r;
		s->cap_prefix_recs = cap;
	}
	return prefix_table_reserve(s->prefixes, more);
}

static enum add_result add_prefix(struct sigset *s, const struct ip_prefix *p, uint8_t svc,
				  uint32_t line, uint8_t *old_svc, uint32_t *old_line)
{
	if (!reserve_prefixes(s, 1))
		return ADD_NOMEM;
	uint32_t have;
	if (prefix_table_insert(s->prefixes, p, svc, &have) == PREFIX_EXISTS) {
		if (have == svc)
			return ADD_SAME;
		*old_svc = (uint8_t)have;
		*old_line = 0;
		for (size_t i = 0; i < s->n_prefix_recs; i++)
			if (s->prefix_recs[i].prefix.len == p->len &&
			    addr_eq(&s->prefix_recs[i].prefix.addr, &p->addr))
				*old_line = s->prefix_recs[i].line;
		return ADD_CONFLICT;
	}
	s->prefix_recs[s->n_prefix_recs++] = (struct prefix_rec){ *p, svc, line };
	return ADD_NEW;
}

/* Index of the first record with key >= `key`. */
static size_t u32_lower_bound(const struct u32_map *m, uint32_t key)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool u32_reserve(struct u32_map *m, size_t more)
{
	size_t want = m->n + more;
	if (want <= m->cap)
		return true;
	size_t cap = m->cap ? m->cap : 16;
	while (cap < want)
		cap *= 2;
	struct u32_rec *v = realloc(m->v, cap * sizeof(*v));
	if (!v)
		return false;
	m->v = v;
	m->cap = cap;
	return true;
}

static const struct u32_rec *u32_find(const struct u32_map *m, uint32_t key)
{
	size_t i = u32_lower_bound(m, key);
	return i < m->n && m->v[i].key == key ? &m->v[i] : NULL;
}

static enum add_result u32_add(struct u32_map *m, uint32_t key, uint8_t svc, uint32_t line,
			       uint8_t *old_svc, uint32_t *old_line)
{
	size_t i = u32_lower_bound(m, key);
	if (i < m->n && m->v[i].key == key) {
		if (m->v[i].svc == svc)
			return ADD_SAME;
		*old_svc = m->v[i].svc;
		*old_line = m->v[i].line;
		return ADD_CONFLICT;
	}
	if (!u32_reserve(m, 1))
		return ADD_NOMEM;
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(m->v[0]));
	m->v[i] = (struct u32_rec){ key, svc, line };
	m->n++;
	return ADD_NEW;
}

static uint32_t port_key(uint8_t proto, uint16_t port)
{
	return (uint32_t)proto << 16 | port;
}

/* ---- the set ------------------------------------------------------------ */

struct sigset *sigset_new(void)
{
	struct sigset *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->prefixes = prefix_table_new();
	if (!s->prefixes) {
		free(s);
		return NULL;
	}
	return s;
}

void sigset_free(struct sigset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_names; i++)
		free(s->names[i].name);
	free(s->names);
	free(s->slots);
	prefix_table_free(s->prefixes);
	free(s->prefix_recs);
	free(s->asns.v);
	free(s->ports.v);
	free(s);
}

void sigset_get_counts(const struct sigset *s, struct sigset_counts *c)
{
	c->domains = s->n_domains;
	c->hosts = s->n_hosts;
	c->prefixes = prefix_table_count(s->prefixes);
	c->asns = s->asns.n;
	c->ports = s->ports.n;
}

/* ---- parsing one line --------------------------------------------------- */

struct parse_ctx {
	struct sigset *set;
	const char *file;
	int line;
	struct sig_error *err;
};

__attribute__((format(printf, 2, 3)))
static bool fail(struct parse_ctx *pc, const char *fmt, ...)
{
	char msg[sizeof(pc->err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_error(pc->err, pc->file, pc->line, "%s", msg);
	return false;
}

static bool is_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Checks a signature name and writes its lowercase form without a final
 * dot; NULL when it is good, otherwise what is wrong. */
static const char *normalise_domain(const char *in, char out[NAME_MAX_LEN + 1], size_t *out_len)
{
	size_t len = strlen(in);
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0)
		return "empty name";
	if (len > NAME_MAX_LEN)
		return "name longer than 253 characters";
	if (strchr(in, '*'))
		return "wildcards are not used: a `domain` line already covers every name under it";
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		out[i] = (char)c;
		if (c == '.') {
			if (label == 0)
				return "empty label";
			if (out[i - 1] == '-')
				return "label ends with '-'";
			label = 0;
			continue;
		}
		if (!is_label_char(c))
			return "character not allowed in a name";
		if (label == 0 && c == '-')
			return "label starts with '-'";
		if (++label > LABEL_MAX_LEN)
			return "label longer than 63 characters";
	}
	if (out[len - 1] == '-')
		return "label ends with '-'";
	out[len] = '\0';
	*out_len = len;
	return NULL;
}

static bool conflict(struct parse_ctx *pc, const char *what, const char *value, uint8_t svc,
		     uint8_t old_svc, uint32_t old_line)
{
	if (old_line)
		return fail(pc, "%s %s maps to %s here but to %s on line %u", what, value,
			    service_name(svc), service_name(old_svc), old_line);
	return fail(pc, "%s %s maps to %s here but to %s earlier", what, value,
		    service_name(svc), service_name(old_svc));
}

static bool finish_add(struct parse_ctx *pc, enum add_result r, const char *what, const char *value,
		       uint8_t svc, uint8_t old_svc, uint32_t old_line)
{
	if (r == ADD_NOMEM)
		return fail(pc, "out of memory");
	if (r == ADD_CONFLICT)
		return conflict(pc, what, value, svc, old_svc, old_line);
	return true;
}

static bool do_name(struct parse_ctx *pc, const char *kw, enum name_kind kind, const char *value,
		    uint8_t svc)
{
	char name[NAME_MAX_LEN + 1];
	size_t len;
	const char *why = normalise_domain(value, name, &len);
	if (why)
		return fail(pc, "bad name '%.80s%s': %s", value, strlen(value) > 80 ? "..." : "",
			    why);
	uint8_t old_svc = 0;
	uint32_t old_line = 0;
	enum add_result r = add_name(pc->set, name, len, kind, svc, (uint32_t)pc->line, &old_svc,
				     &old_line);
	return finish_add(pc, r, kw, name, svc, old_svc, old_line);
}

/* Whether the text before the '/' names exactly the masked network. */
static bool host_bits_clear(const char *value, const struct ip_prefix *p)
{
	char addr_text[64];
	const char *slash = strchr(value, '/');
	size_t n = slash ? (size_t)(slash - value) : strlen(value);
	if (n >= sizeof(addr_text))
		return false;
	memcpy(addr_text, value, n);
	addr_text[n] = '\0';
	struct ip_addr a;
	return addr_parse(addr_text, &a) && addr_eq(&a, &p->addr);
}

static bool do_prefix(struct parse_ctx *pc, const char *value, uint8_t svc)
{
	struct ip_prefix p;
	if (!prefix_parse(value, &p))
		return fail(pc, "bad prefix '%s' (expected ADDRESS/LENGTH)", value);
	if (!host_bits_clear(value, &p)) {
		char net[ADDR_STRLEN];
		addr_format(&p.addr, net);
		return fail(pc, "prefix '%s' has host bits set (the network is %s/%u)", value, net,
			    addr_is_v4(&p.addr) ? p.len - 96u : p.len);
	}
	uint8_t old_svc = 0;
	uint32_t old_line = 0;
	enum add_result r = add_prefix(pc->set, &p, svc, (uint32_t)pc->line, &old_svc, &old_line);
	return finish_add(pc, r, "prefix", value, svc, old_svc, old_line);
}

static bool do_asn(struct parse_ctx *pc, const char *value, uint8_t svc)
{
	uint64_t asn;
	if (!text_parse_decimal(value, 1, UINT32_MAX, &asn))
		return fail(pc, "bad AS number '%s' (expected 1 to 4294967295)", value);
	uint8_t old_svc = 0;
	uint32_t old_line = 0;
	enum add_result r = u32_add(&pc->set->asns, (uint32_t)asn, svc, (uint32_t)pc->line,
				    &old_svc, &old_line);
	return finish_add(pc, r, "asn", value, svc, old_svc, old_line);
}

static bool do_port(struct parse_ctx *pc, const char *value, uint8_t svc)
{
	uint8_t proto;
	const char *num;
	if (strncmp(value, "tcp/", 4) == 0)
		proto = IPPROTO_TCP;
	else if (strncmp(value, "udp/", 4) == 0)
		proto = IPPROTO_UDP;
	else
		return fail(pc, "bad port '%s' (expected tcp/N or udp/N)", value);
	num = value + 4;
	uint64_t port;
	if (!text_parse_decimal(num, 1, 65535, &port))
		return fail(pc, "bad port '%s' (expected a number from 1 to 65535)", value);
	uint8_t old_svc = 0;
	uint32_t old_line = 0;
	enum add_result r = u32_add(&pc->set->ports, port_key(proto, (uint16_t)port), svc,
				    (uint32_t)pc->line, &old_svc, &old_line);
	return finish_add(pc, r, "port", value, svc, old_svc, old_line);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits at blanks, in place; returns the number of fields (up to max + 1,
 * so that one too many is seen). */
static int split_fields(char *line, char *fields[], int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p == '\0' || n > max)
			return n;
		fields[n++] = p;
		while (*p && !is_blank(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
}

static bool parse_line(struct parse_ctx *pc, char *line)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char *f[4];
	int n = split_fields(line, f, 3);
	if (n == 0)
		return true;
	static const char *const directives[] = { "domain", "host", "prefix", "asn", "port" };
	size_t d = 0;
	while (d < 5 && strcmp(f[0], directives[d]) != 0)
		d++;
	if (d == 5)
		return fail(pc, "unknown directive '%s' (expected domain, host, prefix, asn or port)",
			    f[0]);
	if (n < 3)
		return fail(pc, "'%s' needs a value and a service name", f[0]);
	if (n > 3)
		return fail(pc, "unexpected '%s' after the service name", f[3]);
	enum service_id svc = service_from_name(f[2]);
	if (svc == SVC_NONE)
		return fail(pc, "unknown service '%s'", f[2]);
	switch (d) {
	case 0: return do_name(pc, "domain", KIND_DOMAIN, f[1], (uint8_t)svc);
	case 1: return do_name(pc, "host", KIND_HOST, f[1], (uint8_t)svc);
	case 2: return do_prefix(pc, f[1], (uint8_t)svc);
	case 3: return do_asn(pc, f[1], (uint8_t)svc);
	default: return do_port(pc, f[1], (uint8_t)svc);
	}
}

static bool parse_text(struct parse_ctx *pc, const char *text, size_t len)
{
	char line[LINE_MAX_LEN + 1];
	size_t pos = 0;
	pc->line = 0;
	while (pos < len) {
		pc->line++;
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (memchr(start, '\0', n))
			return fail(pc, "NUL byte in line");
		if (n > LINE_MAX_LEN)
			return fail(pc, "line longer than %d characters", LINE_MAX_LEN);
		memcpy(line, start, n);
		line[n] = '\0';
		if (!parse_line(pc, line))
			return false;
	}
	return true;
}

/* ---- moving a parsed set into another ----------------------------------- */

static bool check_merge(const struct sigset *dst, const struct sigset *src, const char *file,
			struct sig_error *err)
{
	for (size_t i = 0; i < src->n_names; i++) {
		const struct name_entry *e = &src->names[i];
		const struct name_entry *d = find_name(dst, e->name, e->len, e->hash);
		if (!d)
			continue;
		if (e->domain_svc && d->domain_svc && e->domain_svc != d->domain_svc) {
			set_error(err, file, (int)e->domain_line,
				  "domain %s maps to %s here but to %s in an earlier file", e->name,
				  service_name(e->domain_svc), service_name(d->domain_svc));
			return false;
		}
		if (e->host_svc && d->host_svc && e->host_svc != d->host_svc) {
			set_error(err, file, (int)e->host_line,
				  "host %s maps to %s here but to %s in an earlier file", e->name,
				  service_name(e->host_svc), service_name(d->host_svc));
			return false;
		}
	}
	for (size_t i = 0; i < src->n_prefix_recs; i++) {
		const struct prefix_rec *r = &src->prefix_recs[i];
		uint32_t have;
		if (prefix_table_get(dst->prefixes, &r->prefix, &have) && have != r->svc) {
			char net[ADDR_STRLEN];
			addr_format(&r->prefix.addr, net);
			set_error(err, file, (int)r->line,
				  "prefix %s/%u maps to %s here but to %s in an earlier file", net,
				  addr_is_v4(&r->prefix.addr) ? r->prefix.len - 96u : r->prefix.len,
				  service_name(r->svc), service_name((uint8_t)have));
			return false;
		}
	}
	const struct u32_map *maps[2][2] = { { &src->asns, &dst->asns },
					     { &src->ports, &dst->ports } };
	for (int m = 0; m < 2; m++) {
		for (size_t i = 0; i < maps[m][0]->n; i++) {
			const struct u32_rec *r = &maps[m][0]->v[i];
			const struct u32_rec *d = u32_find(maps[m][1], r->key);
			if (!d || d->svc == r->svc)
				continue;
			if (m == 0)
				set_error(err, file, (int)r->line,
					  "asn %u maps to %s here but to %s in an earlier file",
					  r->key, service_name(r->svc), service_name(d->svc));
			else
				set_error(err, file, (int)r->line,
					  "port %s/%u maps to %s here but to %s in an earlier file",
					  (r->key >> 16) == IPPROTO_TCP ? "tcp" : "udp",
					  r->key & 0xffff, service_name(r->svc),
					  service_name(d->svc));
			return false;
		}
	}
	return true;
}

static bool reserve_merge(struct sigset *dst, const struct sigset *src)
{
	return reserve_names(dst, dst->n_names + src->n_names) &&
	       reserve_prefixes(dst, src->n_prefix_recs) &&
	       u32_reserve(&dst->asns, src->asns.n) && u32_reserve(&dst->ports, src->ports.n);
}

/* Cannot fail once check_merge and reserve_merge have passed: names are
 * handed over rather than copied, and every array has room. */
static void apply_merge(struct sigset *dst, struct sigset *src)
{
	uint8_t old_svc;
	uint32_t old_line;
	for (size_t i = 0; i < src->n_names; i++) {
		struct name_entry *e = &src->names[i];
		bool took = false, took2 = false;
		if (e->domain_svc)
			insert_name(dst, e->name, e->len, KIND_DOMAIN, e->domain_svc,
				    e->domain_line, &took, &old_svc, &old_line);
		if (e->host_svc)
			insert_name(dst, e->name, e->len, KIND_HOST, e->host_svc, e->host_line,
				    &took2, &old_svc, &old_line);
		if (took || took2)
			e->name = NULL;
	}
	for (size_t i = 0; i < src->n_prefix_recs; i++) {
		const struct prefix_rec *r = &src->prefix_recs[i];
		if (prefix_table_insert(dst->prefixes, &r->prefix, r->svc, NULL) == PREFIX_ADDED)
			dst->prefix_recs[dst->n_prefix_recs++] = *r;
	}
	for (size_t i = 0; i < src->asns.n; i++)
		u32_add(&dst->asns, src->asns.v[i].key, src->asns.v[i].svc, src->asns.v[i].line,
			&old_svc, &old_line);
	for (size_t i = 0; i < src->ports.n; i++)
		u32_add(&dst->ports, src->ports.v[i].key, src->ports.v[i].svc,
			src->ports.v[i].line, &old_svc, &old_line);
}

/* ---- loading ------------------------------------------------------------ */

bool sigset_load_string(struct sigset *s, const char *text, size_t len, const char *file,
			struct sig_error *err)
{
	struct sigset *scratch = sigset_new();
	if (!scratch) {
		set_error(err, file, 0, "out of memory");
		return false;
	}
	struct parse_ctx pc = { .set = scratch, .file = file, .err = err };
	bool ok = parse_text(&pc, text, len) && check_merge(s, scratch, file, err);
	if (ok && !reserve_merge(s, scratch)) {
		set_error(err, file, 0, "out of memory");
		ok = false;
	}
	if (ok)
		apply_merge(s, scratch);
	sigset_free(scratch);
	return ok;
}

/* The whole file in a heap buffer (NUL-terminated for convenience). */
static char *read_file(const char *path, size_t *len, struct sig_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set_error(err, path, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		set_error(err, path, 0, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > SIG_FILE_MAX) {
		set_error(err, path, 0, "larger than %u bytes", SIG_FILE_MAX);
		goto out;
	}
	size_t cap = (size_t)st.st_size, n = 0;
	buf = malloc(cap + 1);
	if (!buf) {
		set_error(err, path, 0, "out of memory");
		goto out;
	}
	/* Read to end of file even if it grew or shrank since fstat. */
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			set_error(err, path, 0, "cannot read: %s", strerror(errno));
			free(buf);
			buf = NULL;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap)
			break;
	}
	buf[n] = '\0';
	*len = n;
out:
	close(fd);
	return buf;
}

bool sigset_load_file(struct sigset *s, const char *path, struct sig_error *err)
{
	size_t len = 0;
	char *text = read_file(path, &len, err);
	if (!text)
		return false;
	bool ok = sigset_load_string(s, text, len, path, err);
	free(text);
	return ok;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_sig_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".sig") == 0;
}

/* The *.sig names of a folder, sorted; NULL with err set on failure. */
static char **list_sig_files(const char *dir, size_t *count, struct sig_error *err)
{
	DIR *d = opendir(dir);
	if (!d) {
		set_error(err, dir, 0, "cannot open folder: %s", strerror(errno));
		return NULL;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	bool ok = true;
	while (ok && (de = readdir(d)) != NULL) {
		if (!is_sig_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **grown = realloc(names, cap * sizeof(*names));
			ok = grown != NULL;
			if (ok)
				names = grown;
		}
		if (ok && (names[n] = strdup(de->d_name)) != NULL)
			n++;
		else
			ok = false;
	}
	closedir(d);
	if (!ok) {
		set_error(err, dir, 0, "out of memory");
	} else if (n == 0) {
		set_error(err, dir, 0, "no *.sig files in the folder");
		ok = false;
	}
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return NULL;
	}
	qsort(names, n, sizeof(*names), compare_names);
	*count = n;
	return names;
}

struct sigset *sigset_load_dir(const char *dir, struct sig_error *err)
{
	size_t n = 0;
	char **names = list_sig_files(dir, &n, err);
	if (!names)
		return NULL;
	struct sigset *s = sigset_new();
	bool ok = s != NULL;
	if (!ok)
		set_error(err, dir, 0, "out of memory");
	for (size_t i = 0; ok && i < n; i++) {
		char path[4096];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
			set_error(err, dir, 0, "path too long");
			ok = false;
			break;
		}
		ok = sigset_load_file(s, path, err);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!ok) {
		sigset_free(s);
		return NULL;
	}
	return s;
}

/* ---- matching ----------------------------------------------------------- */

struct suffix_hash {
	uint16_t off;                /* where the suffix starts in the name */
	uint32_t hash;
};

bool sigset_match_domain(const struct sigset *s, const char *name, struct domain_match *m)
{
	char buf[NAME_MAX_LEN + 1];
	size_t len = strnlen(name, NAME_MAX_LEN + 2);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN || s->n_names == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		buf[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	/* Hash right to left, noting the state at each label start: the
	 * suffixes come out shortest first. */
	struct suffix_hash suffix[MAX_LABELS];
	size_t n_suffix = 0;
	uint32_t h = FNV_OFFSET;
	for (size_t i = len; i > 0; i--) {
		h = hash_step(h, (unsigned char)buf[i - 1]);
		if ((i == 1 || buf[i - 2] == '.') && n_suffix < MAX_LABELS)
			suffix[n_suffix++] = (struct suffix_hash){ (uint16_t)(i - 1), hash_final(h) };
	}
	for (size_t k = n_suffix; k > 0; k--) {
		size_t off = suffix[k - 1].off;
		const struct name_entry *e = find_name(s, buf + off, len - off, suffix[k - 1].hash);
		if (!e)
			continue;
		/* A `host` line covers only the whole name, and beats a `domain`
		 * line for the same name. */
		uint8_t svc = off == 0 && e->host_svc ? e->host_svc : e->domain_svc;
		if (svc == SVC_NONE)
			continue;
		if (m) {
			m->service = (enum service_id)svc;
			m->pattern = e->name;
		}
		return true;
	}
	return false;
}

bool sigset_match_addr(const struct sigset *s, const struct ip_addr *a, struct addr_match *m)
{
	struct ip_prefix p;
	uint32_t svc;
	if (!prefix_table_lookup(s->prefixes, a, &p, &svc))
		return false;
	if (m) {
		m->service = (enum service_id)svc;
		m->prefix = p;
	}
	return true;
}

enum service_id sigset_match_port(const struct sigset *s, uint8_t proto, uint16_t port)
{
	const struct u32_rec *r = u32_find(&s->ports, port_key(proto, port));
	return r ? (enum service_id)r->svc : SVC_NONE;
}

enum service_id sigset_match_asn(const struct sigset *s, uint32_t asn)
{
	const struct u32_rec *r = u32_find(&s->asns, asn);
	return r ? (enum service_id)r->svc : SVC_NONE;
}
