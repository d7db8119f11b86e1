/* config.c - reading applemon.conf (INI, through libinih) onto struct config.
 *
 * libinih hands over key/value pairs but not line numbers, section
 * headers or its own syntax errors' reasons, so the text is fed to it
 * through our own line reader (ini_parse_stream). The reader counts lines,
 * classifies each one exactly as libinih will (comment, continuation,
 * section header, key line), checks section headers and key-line syntax
 * itself, and closes the previous section when a new one starts (an
 * [output] needs its sink, a [policy] group is added whole). The handler
 * then checks each value against a table of keys. On the first mistake
 * the message is kept and the reader reports end of input, so libinih
 * stops there and the line number is always the mistake's own.
 *
 * Numbers are plain decimals (no sign, spaces, suffixes or leading "0x")
 * within a range per key; strings must fit their field. Reading is
 * linear in the text; nothing here is on the packet path. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

#define CONFIG_FILE_MAX (1u << 20)   /* a larger configuration is a mistake */
#define MSG_MAX 400

enum section {
	SEC_NONE,        /* before the first header */
	SEC_SENSOR,
	SEC_SIGNATURES,
	SEC_POLICY,
	SEC_ALERTS,
	SEC_OUTPUT,
	SEC_FLOWS,
	SEC_DNS,
	SEC_CAPTURE,
	SEC_DELIVERY,
	SEC_STATUS,
	SEC_DEFRAG,
};

static const struct {
	const char *name;
	enum section sec;
	bool named;      /* [policy NAME], [output NAME] */
} section_defs[] = {
	{ "sensor", SEC_SENSOR, false },   { "signatures", SEC_SIGNATURES, false },
	{ "policy", SEC_POLICY, true },    { "alerts", SEC_ALERTS, false },
	{ "output", SEC_OUTPUT, true },    { "flows", SEC_FLOWS, false },
	{ "dns", SEC_DNS, false },         { "capture", SEC_CAPTURE, false },
	{ "delivery", SEC_DELIVERY, false }, { "status", SEC_STATUS, false },
	{ "defrag", SEC_DEFRAG, false },
};

enum key_type {
	KEY_STRING,      /* copied into a char array of struct config */
	KEY_NUMBER,      /* uint32_t within [min, max] */
	KEY_BOOL,
	KEY_HOSTS,       /* [policy] prefix lists, gathered until the section ends */
	KEY_EXEMPT,
	KEY_SINK,        /* [output] fields */
	KEY_FORMAT,
	KEY_LISTEN,      /* ADDRESS:PORT or off */
};

struct key_def {
	enum section sec;
	const char *name;
	enum key_type type;
	size_t off;          /* into struct config (KEY_STRING, KEY_NUMBER, KEY_BOOL) */
	size_t size;         /* of the char array (KEY_STRING) */
	uint32_t min, max;   /* KEY_NUMBER */
	bool may_be_empty;
	bool continues;      /* an indented continuation line appends to the value */
};

#define STR(s, k, field, empty, cont) \
	{ s, k, KEY_STRING, offsetof(struct config, field), \
	  sizeof(((struct config *)0)->field), 0, 0, empty, cont }
#define NUM(s, k, field, lo, hi) \
	{ s, k, KEY_NUMBER, offsetof(struct config, field), 0, lo, hi, false, false }

/* The ranges keep values where the program still makes sense: no zero
 * timeouts or tables, nothing so large it overflows microsecond counters
 * or memory. */
static const struct key_def key_defs[] = {
	STR(SEC_SENSOR, "name", sensor_name, false, false),
	STR(SEC_SIGNATURES, "dir", sig_dir, false, false),
	STR(SEC_SIGNATURES, "asn_database", asn_db, true, false),
	{ SEC_POLICY, "hosts", KEY_HOSTS, 0, 0, 0, 0, false, true },
	{ SEC_POLICY, "exempt", KEY_EXEMPT, 0, 0, 0, 0, true, true },
	NUM(SEC_ALERTS, "suppress", suppress_secs, 0, 604800),
	{ SEC_OUTPUT, "sink", KEY_SINK, 0, 0, 0, 0, false, false },
	{ SEC_OUTPUT, "format", KEY_FORMAT, 0, 0, 0, 0, false, false },
	NUM(SEC_FLOWS, "max", flows_max, 16, 16777216),
	NUM(SEC_FLOWS, "tcp_timeout", timeout_tcp, 1, 604800),
	NUM(SEC_FLOWS, "tcp_closed_timeout", timeout_tcp_closed, 1, 3600),
	NUM(SEC_FLOWS, "udp_timeout", timeout_udp, 1, 86400),
	NUM(SEC_FLOWS, "other_timeout", timeout_other, 1, 86400),
	NUM(SEC_FLOWS, "inspect_packets", inspect_packets, 1, 1000),
	NUM(SEC_DNS, "min_ttl", dns_min_ttl, 0, 604800),
	NUM(SEC_DNS, "max_ttl", dns_max_ttl, 1, 604800),
	NUM(SEC_DNS, "cache_max", dns_cache_max, 16, 16777216),
	NUM(SEC_DEFRAG, "max_datagrams", defrag_max, 1, 1048576),
	NUM(SEC_DEFRAG, "timeout", defrag_timeout, 1, 3600),
	STR(SEC_CAPTURE, "interface", interface, false, false),
	NUM(SEC_CAPTURE, "snaplen", snaplen, 64, 262144),
	{ SEC_CAPTURE, "promisc", KEY_BOOL, offsetof(struct config, promisc), 0, 0, 0, false,
	  false },
	STR(SEC_CAPTURE, "bpf", bpf, true, true),
	NUM(SEC_CAPTURE, "workers", workers, 0, 64),
	NUM(SEC_CAPTURE, "ring_size", ring_size, 1, 2047),
	{ SEC_CAPTURE, "immediate", KEY_BOOL, offsetof(struct config, immediate), 0, 0, 0, false,
	  false },
	{ SEC_CAPTURE, "reader_thread", KEY_BOOL, offsetof(struct config, reader_thread), 0, 0, 0,
	  false, false },
	{ SEC_CAPTURE, "cpu_affinity", KEY_BOOL, offsetof(struct config, cpu_affinity), 0, 0, 0,
	  false, false },
	STR(SEC_CAPTURE, "user", user, false, false),
	STR(SEC_CAPTURE, "chroot", chroot_dir, false, false),
	NUM(SEC_CAPTURE, "stats_interval", stats_interval, 0, 86400),
	NUM(SEC_DELIVERY, "queue", delivery_queue, 16, 1048576),
	NUM(SEC_DELIVERY, "memory", delivery_memory, 4096, 4294967295u),
	STR(SEC_DELIVERY, "spool_dir", spool_dir, true, false),
	NUM(SEC_DELIVERY, "spool_size", spool_size, 0, 4294967295u),
	NUM(SEC_DELIVERY, "flush_timeout", flush_timeout, 0, 3600),
	NUM(SEC_DELIVERY, "reconnect_max", reconnect_max, 1, 3600),
	{ SEC_STATUS, "listen", KEY_LISTEN, offsetof(struct config, status_listen),
	  sizeof(((struct config *)0)->status_listen), 0, 0, false, false },
};

#define N_KEYS (sizeof(key_defs) / sizeof(key_defs[0]))

static const char *const formats[] = { "json", "ecs", "cef", "leef" };

/* Where the reader is in the text, and the section being read. */
struct load_ctx {
	struct config *c;
	const char *name;            /* file name for messages */
	const char *text;
	size_t pos, len;
	int line;                    /* number of the line last handed to libinih */
	bool continuation;           /* that line continues the previous key */
	bool have_key;               /* a key line was seen in this section (libinih's prev_name) */
	bool failed;
	int err_line;
	char msg[MSG_MAX];

	enum section sec;
	char sec_name[64];           /* NAME of [policy NAME] / [output NAME] */
	int sec_line;
	struct output_spec *out;     /* the [output] being read */
	char *hosts, *exempt;        /* the [policy] lists gathered so far */
	size_t hosts_len, exempt_len;
	int seen_line[N_KEYS];       /* where each key was set in this file (0 = not yet) */
	int min_ttl_line, max_ttl_line;
};

__attribute__((format(printf, 3, 4)))
static bool fail_at(struct load_ctx *x, int line, const char *fmt, ...)
{
	if (x->failed)
		return false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
	x->failed = true;
	x->err_line = line;
	return false;
}

/* ---- defaults ----------------------------------------------------------- */

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->policy = policy_new();    /* NULL only when out of memory; loading retries */
	c->suppress_secs = 300;
	c->flows_max = 262144;
	c->timeout_tcp = 3600;
	c->timeout_tcp_closed = 10;
	c->timeout_udp = 120;
	c->timeout_other = 60;
	c->inspect_packets = 16;
	c->dns_min_ttl = 60;
	c->dns_max_ttl = 86400;
	c->dns_cache_max = 65536;
	c->defrag_max = 1024;
	c->defrag_timeout = 30;
	c->snaplen = 65535;
	c->promisc = true;
	c->ring_size = 64;
	c->cpu_affinity = true;
	c->reader_thread = true;
	c->stats_interval = 60;
	c->delivery_queue = 4096;
	c->delivery_memory = 0;   /* the sink's default: SINK_MEMORY_SPOOLED or _ALONE */
	c->spool_size = 1u << 30;
	c->flush_timeout = 10;
	c->reconnect_max = 30;
}

void config_free(struct config *c)
{
	policy_free(c->policy);
	c->policy = NULL;
}

/* ---- small text helpers ------------------------------------------------- */

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool is_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

/* Cuts a ` #...` comment off a value (libinih removes ` ;...` itself) and
 * the blanks before it. */
static void strip_hash_comment(char *v)
{
	for (char *p = v; *p; p++) {
		if (*p == '#' && (p == v || is_space(p[-1]))) {
			*p = '\0';
			break;
		}
	}
	size_t n = strlen(v);
	while (n > 0 && is_space(v[n - 1]))
		v[--n] = '\0';
}

/* Strict decimal within [min, max]. */
static bool parse_number(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	if (!text_parse_decimal(s, min, max, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Appends `v` to a growing space-separated list. */
static bool append_list(char **list, size_t *len, const char *v)
{
	size_t add = strlen(v);
	char *grown = realloc(*list, *len + add + 2);
	if (!grown)
		return false;
	if (*len)
		grown[(*len)++] = ' ';
	memcpy(grown + *len, v, add + 1);
	*len += add;
	*list = grown;
	return true;
}

/* ---- sections ------------------------------------------------------------ */

static bool close_policy(struct load_ctx *x)
{
	char why[256];
	if (!x->c->policy && !(x->c->policy = policy_new()))
		return fail_at(x, x->sec_line, "out of memory");
	if (!policy_add_group(x->c->policy, x->sec_name, x->hosts, x->exempt, why, sizeof(why)))
		return fail_at(x, x->sec_line, "[policy %s]: %s", x->sec_name, why);
	return true;
}

/* Finishes the section being read: checks what only its end can show. */
static bool close_section(struct load_ctx *x)
{
	bool ok = true;
	if (x->sec == SEC_POLICY)
		ok = close_policy(x);
	else if (x->sec == SEC_OUTPUT && x->out->sink[0] == '\0')
		ok = fail_at(x, x->sec_line, "[output %s] has no sink", x->sec_name);
	free(x->hosts);
	free(x->exempt);
	x->hosts = x->exempt = NULL;
	x->hosts_len = x->exempt_len = 0;
	x->out = NULL;
	x->sec = SEC_NONE;
	return ok;
}

static bool open_output(struct load_ctx *x)
{
	struct config *c = x->c;
	for (size_t i = 0; i < c->n_outputs; i++)
		if (strcmp(c->outputs[i].name, x->sec_name) == 0)
			return fail_at(x, x->line, "[output %s] is defined twice", x->sec_name);
	if (c->n_outputs >= CONFIG_MAX_OUTPUTS)
		return fail_at(x, x->line, "more than %d [output] sections", CONFIG_MAX_OUTPUTS);
	x->out = &c->outputs[c->n_outputs++];
	memset(x->out, 0, sizeof(*x->out));
	snprintf(x->out->name, sizeof(x->out->name), "%s", x->sec_name);
	snprintf(x->out->format, sizeof(x->out->format), "json");
	return true;
}

/* Splits "kind NAME" at blanks; NAME may be absent. */
static bool split_header(struct load_ctx *x, char *inside, char **kind, char **name)
{
	char *p = inside;
	while (is_space(*p))
		p++;
	*kind = p;
	while (*p && !is_space(*p))
		p++;
	if (*p)
		*p++ = '\0';
	while (is_space(*p))
		p++;
	*name = p;
	size_t n = strlen(p);
	while (n > 0 && is_space(p[n - 1]))
		p[--n] = '\0';
	for (char *q = p; *q; q++)
		if (!is_name_char(*q))
			return fail_at(x, x->line,
				       "bad section name '%s' (one word of A-Z a-z 0-9 _ . -)", p);
	if (n >= sizeof(x->sec_name))
		return fail_at(x, x->line, "section name longer than %zu characters",
			       sizeof(x->sec_name) - 1);
	return true;
}

/* A "[...]" line: `start` is the line without its leading blanks. */
static bool open_section(struct load_ctx *x, const char *start)
{
	if (!close_section(x))
		return false;
	char inside[256];
	const char *end = strchr(start, ']');
	if (!end)
		return fail_at(x, x->line, "section header without ']'");
	for (const char *p = end + 1; *p; p++) {
		if (*p == '#' || *p == ';')
			break;
		if (!is_space(*p))
			return fail_at(x, x->line, "text after the section header");
	}
	size_t n = (size_t)(end - start - 1);
	if (n >= sizeof(inside))
		return fail_at(x, x->line, "section header too long");
	memcpy(inside, start + 1, n);
	inside[n] = '\0';
	char *kind, *name;
	if (!split_header(x, inside, &kind, &name))
		return false;
	size_t i = 0;
	while (i < sizeof(section_defs) / sizeof(section_defs[0]) &&
	       strcmp(section_defs[i].name, kind) != 0)
		i++;
	if (i == sizeof(section_defs) / sizeof(section_defs[0]))
		return fail_at(x, x->line,
			       "unknown section [%s] (expected sensor, signatures, policy NAME, "
			       "alerts, output NAME, flows, dns, capture, delivery, status or defrag)",
			       kind);
	if (section_defs[i].named && name[0] == '\0')
		return fail_at(x, x->line, "[%s] needs a name: [%s NAME]", kind, kind);
	if (!section_defs[i].named && name[0] != '\0')
		return fail_at(x, x->line, "[%s] takes no name", kind);
	x->sec = section_defs[i].sec;
	x->sec_line = x->line;
	snprintf(x->sec_name, sizeof(x->sec_name), "%s", name);
	if (x->sec == SEC_OUTPUT)
		return open_output(x);
	return true;
}

/* ---- the line reader ------------------------------------------------------ */

/* Classifies the line as libinih will and checks what libinih would only
 * report as a bare line number. */
static bool check_line(struct load_ctx *x, const char *raw)
{
	const char *start = raw;
	while (is_space(*start))
		start++;
	x->continuation = false;
	if (*start == '\0' || *start == ';' || *start == '#')
		return true;
	if (x->have_key && start > raw) {
		x->continuation = true;
		return true;
	}
	if (*start == '[') {
		x->have_key = false;
		return open_section(x, start);
	}
	const char *sep = strpbrk(start, "=:");
	if (!sep)
		return fail_at(x, x->line, "expected 'key = value' or '[section]'");
	if (x->sec == SEC_NONE)
		return fail_at(x, x->line, "key outside of any section");
	x->have_key = true;
	return true;
}

/* fgets-like reader for ini_parse_stream: one whole line per call. */
static char *read_line(char *buf, int size, void *stream)
{
	struct load_ctx *x = stream;
	if (x->failed || x->pos >= x->len)
		return NULL;
	const char *start = x->text + x->pos;
	const char *nl = memchr(start, '\n', x->len - x->pos);
	size_t n = nl ? (size_t)(nl - start) : x->len - x->pos;
	x->pos += n + (nl ? 1 : 0);
	x->line++;
	/* libinih needs room for the newline and NUL as well. */
	if (size < 3 || n > (size_t)size - 3) {
		fail_at(x, x->line, "line longer than %d characters", size - 3);
		return NULL;
	}
	if (memchr(start, '\0', n)) {
		fail_at(x, x->line, "NUL byte in line");
		return NULL;
	}
	memcpy(buf, start, n);
	buf[n] = '\0';
	/* libinih skips a UTF-8 byte order mark at the start; so do we. */
	size_t skip = x->line == 1 && n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	if (!check_line(x, buf + skip))
		return NULL;
	buf[n] = '\n';
	buf[n + 1] = '\0';
	return buf;
}

/* ---- values ---------------------------------------------------------------- */

static const struct key_def *find_key(enum section sec, const char *name, size_t *index)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (key_defs[i].sec == sec && strcmp(key_defs[i].name, name) == 0) {
			*index = i;
			return &key_defs[i];
		}
	}
	return NULL;
}

static const char *section_label(const struct load_ctx *x, char *buf, size_t size)
{
	size_t i = 0, n = sizeof(section_defs) / sizeof(section_defs[0]);
	while (i < n && section_defs[i].sec != x->sec)
		i++;
	if (i == n)
		snprintf(buf, size, "(no section)");
	else if (section_defs[i].named)
		snprintf(buf, size, "[%s %s]", section_defs[i].name, x->sec_name);
	else
		snprintf(buf, size, "[%s]", section_defs[i].name);
	return buf;
}

static bool set_string(struct load_ctx *x, const struct key_def *k, char *dst, size_t size,
		       const char *label, const char *v)
{
	size_t have = x->continuation ? strlen(dst) : 0;
	size_t need = strlen(v) + (have ? 1 : 0);
	if (have + need >= size)
		return fail_at(x, x->line, "%s %s: longer than %zu characters", label, k->name,
			       size - 1);
	if (have)
		dst[have++] = ' ';
	memcpy(dst + have, v, strlen(v) + 1);
	return true;
}

static bool set_number(struct load_ctx *x, const struct key_def *k, const char *label,
		       const char *v)
{
	uint32_t n;
	if (!all_digits(v))
		return fail_at(x, x->line, "%s %s: '%s' is not a whole number", label, k->name, v);
	if (!parse_number(v, k->min, k->max, &n))
		return fail_at(x, x->line, "%s %s: %s is out of range (%u to %u)", label, k->name,
			       v, k->min, k->max);
	*(uint32_t *)((char *)x->c + k->off) = n;
	return true;
}

static bool set_list(struct load_ctx *x, const struct key_def *k, const char *label, const char *v)
{
	char why[200];
	if (!policy_check_list(v, why, sizeof(why)))
		return fail_at(x, x->line, "%s %s: %s", label, k->name, why);
	bool ok = k->type == KEY_HOSTS ? append_list(&x->hosts, &x->hosts_len, v)
				       : append_list(&x->exempt, &x->exempt_len, v);
	return ok || fail_at(x, x->line, "out of memory");
}

static bool set_format(struct load_ctx *x, const char *label, const char *v)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (strcmp(formats[i], v) == 0) {
			snprintf(x->out->format, sizeof(x->out->format), "%s", formats[i]);
			return true;
		}
	}
	return fail_at(x, x->line, "%s format: '%s' is not one of json, ecs, cef, leef", label, v);
}

/* "off", or ADDRESS:PORT with a numeric IPv4 or [IPv6] address. */
static bool set_listen(struct load_ctx *x, const struct key_def *k, const char *label,
		       const char *v)
{
	char *dst = (char *)x->c + k->off;
	if (strcmp(v, "off") == 0) {
		snprintf(dst, k->size, "off");
		return true;
	}
	const char *colon = strrchr(v, ':');
	uint32_t port;
	bool ok = colon && colon > v && parse_number(colon + 1, 1, 65535, &port);
	if (ok && v[0] == '[')
		ok = colon[-1] == ']' && colon - v > 2;
	else if (ok)
		for (const char *p = v; p < colon; p++)
			if (!((*p >= '0' && *p <= '9') || *p == '.'))
				ok = false;
	if (!ok || strlen(v) >= k->size)
		return fail_at(x, x->line,
			       "%s %s: '%s' is not ADDRESS:PORT (e.g. 127.0.0.1:9478, [::1]:9478) or off",
			       label, k->name, v);
	snprintf(dst, k->size, "%s", v);
	return true;
}

static bool set_value(struct load_ctx *x, const struct key_def *k, const char *label, const char *v)
{
	bool b;
	switch (k->type) {
	case KEY_STRING:
		return set_string(x, k, (char *)x->c + k->off, k->size, label, v);
	case KEY_NUMBER:
		return set_number(x, k, label, v);
	case KEY_BOOL:
		if (!parse_bool(v, &b))
			return fail_at(x, x->line, "%s %s: '%s' is not true or false", label,
				       k->name, v);
		*(bool *)((char *)x->c + k->off) = b;
		return true;
	case KEY_HOSTS:
	case KEY_EXEMPT:
		return set_list(x, k, label, v);
	case KEY_SINK:
		x->out->line = x->line;
		return set_string(x, k, x->out->sink, sizeof(x->out->sink), label, v);
	case KEY_FORMAT:
		return set_format(x, label, v);
	case KEY_LISTEN:
		return set_listen(x, k, label, v);
	}
	return false;
}

/* A key given twice in one file is most likely a slip; lists are the
 * exception, as repeating them adds to them. */
static bool check_repeat(struct load_ctx *x, const struct key_def *k, size_t index,
			 const char *label)
{
	if (x->continuation || k->type == KEY_HOSTS || k->type == KEY_EXEMPT)
		return true;
	bool per_section = k->type == KEY_SINK || k->type == KEY_FORMAT;
	if (x->seen_line[index] && (!per_section || x->seen_line[index] > x->sec_line))
		return fail_at(x, x->line, "%s %s is already set on line %d", label, k->name,
			       x->seen_line[index]);
	x->seen_line[index] = x->line;
	return true;
}

static int on_value(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *x = user;
	(void)section; /* the reader tracks sections itself, with their line numbers */
	if (x->failed)
		return 0;
	char label[96];
	section_label(x, label, sizeof(label));
	size_t index;
	const struct key_def *k = find_key(x->sec, key, &index);
	if (!k)
		return fail_at(x, x->line, "unknown key '%s' in %s", key, label);
	if (x->continuation && !k->continues)
		return fail_at(x, x->line,
			       "indented line would continue %s %s; start keys at the "
			       "beginning of the line",
			       label, key);
	char v[1024];
	snprintf(v, sizeof(v), "%s", value ? value : "");
	strip_hash_comment(v);
	if (v[0] == '\0' && !k->may_be_empty && !x->continuation)
		return fail_at(x, x->line, "%s %s: empty value", label, key);
	if (!check_repeat(x, k, index, label) || !set_value(x, k, label, v))
		return 0;
	if (k->type == KEY_NUMBER && k->off == offsetof(struct config, dns_min_ttl))
		x->min_ttl_line = x->line;
	if (k->type == KEY_NUMBER && k->off == offsetof(struct config, dns_max_ttl))
		x->max_ttl_line = x->line;
	return 1;
}

/* ---- loading --------------------------------------------------------------- */

static bool check_whole(struct load_ctx *x)
{
	const struct config *c = x->c;
	if (c->dns_min_ttl > c->dns_max_ttl) {
		int line = x->min_ttl_line > x->max_ttl_line ? x->min_ttl_line : x->max_ttl_line;
		return fail_at(x, line, "[dns] min_ttl %u is above max_ttl %u", c->dns_min_ttl,
			       c->dns_max_ttl);
	}
	return true;
}

static bool load_text(struct config *c, const char *text, size_t len, const char *name, char *err,
		      size_t errlen)
{
	struct load_ctx x;
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.name = name;
	x.text = text;
	x.len = len;
	int rc = ini_parse_stream(read_line, &x, on_value, &x);
	if (!x.failed)
		close_section(&x);
	else {
		free(x.hosts);
		free(x.exempt);
	}
	if (!x.failed)
		check_whole(&x);
	/* A line libinih refused that the reader let through (it reads on
	 * after a refusal, so ours may come later): its line comes first. */
	if (rc > 0 && (!x.failed || rc < x.err_line)) {
		x.failed = false;
		fail_at(&x, rc, "syntax error (expected 'key = value' or '[section]')");
	} else if (rc < 0 && !x.failed) {
		fail_at(&x, 0, "out of memory");
	}
	if (!x.failed)
		return true;
	if (err && errlen) {
		if (x.err_line > 0)
			snprintf(err, errlen, "%s:%d: %s", name, x.err_line, x.msg);
		else
			snprintf(err, errlen, "%s: %s", name, x.msg);
	}
	return false;
}

bool config_load_string(struct config *c, const char *text, const char *name, char *err,
			size_t errlen)
{
	return load_text(c, text, strlen(text), name, err, errlen);
}

bool config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	char *buf = malloc(CONFIG_FILE_MAX + 1);
	size_t n = buf ? fread(buf, 1, CONFIG_FILE_MAX + 1, f) : 0;
	bool read_error = buf && ferror(f);
	fclose(f);
	bool ok = false;
	if (!buf)
		snprintf(err, errlen, "%s: out of memory", path);
	else if (read_error)
		snprintf(err, errlen, "%s: cannot read", path);
	else if (n > CONFIG_FILE_MAX)
		snprintf(err, errlen, "%s: larger than %u bytes", path, CONFIG_FILE_MAX);
	else
		ok = load_text(c, buf, n, path, err, errlen);
	free(buf);
	return ok;
}
