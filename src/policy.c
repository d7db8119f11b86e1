/* policy.c - named groups of watched prefixes, each with its exemptions.
 *
 * Each group holds two prefix tables, `hosts` and `exempt`; a host is
 * watched by the first group (in the order groups were first added) whose
 * hosts contain it and whose exempt do not. A lookup costs one or two
 * trie walks per group tried and allocates nothing. Adding is
 * all-or-nothing: every prefix is checked and room reserved before the
 * group changes, so a failed add leaves the policy as it was. */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefix_table.h"

#define TOKEN_MAX 63   /* longer than any prefix in text form */

struct policy_group {
	char name[POLICY_NAME_MAX];
	struct prefix_table *hosts;
	struct prefix_table *exempt;
};

struct policy {
	struct policy_group *groups;
	size_t n, cap;
};

__attribute__((format(printf, 3, 4)))
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

struct policy *policy_new(void)
{
	return calloc(1, sizeof(struct policy));
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		prefix_table_free(p->groups[i].hosts);
		prefix_table_free(p->groups[i].exempt);
	}
	free(p->groups);
	free(p);
}

static bool is_separator(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* Next token of a list: its start and length, or false at the end. */
static bool next_token(const char **cursor, const char **start, size_t *len)
{
	const char *s = *cursor;
	while (*s && is_separator(*s))
		s++;
	if (!*s)
		return false;
	*start = s;
	while (*s && !is_separator(*s))
		s++;
	*len = (size_t)(s - *start);
	*cursor = s;
	return true;
}

/* One prefix of a list; with host bits set, it is refused rather than
 * silently widened, since 10.1.2.3/8 is more likely a slip than a wish. */
static bool parse_token(const char *start, size_t len, struct ip_prefix *p, char *err,
			size_t errlen)
{
	char text[TOKEN_MAX + 1];
	if (len > TOKEN_MAX)
		return fail(err, errlen, "'%.*s...' is not a prefix", 20, start);
	memcpy(text, start, len);
	text[len] = '\0';
	if (!prefix_parse(text, p))
		return fail(err, errlen, "'%s' is not a prefix or address", text);
	char *slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	struct ip_addr a;
	if (!addr_parse(text, &a) || !addr_eq(&a, &p->addr))
		return fail(err, errlen, "'%.*s' has host bits set", (int)len, start);
	return true;
}

/* Checks a list and counts its prefixes. */
static bool check_list(const char *list, size_t *count, char *err, size_t errlen)
{
	*count = 0;
	if (!list)
		return true;
	const char *cursor = list, *start;
	size_t len;
	while (next_token(&cursor, &start, &len)) {
		struct ip_prefix p;
		if (!parse_token(start, len, &p, err, errlen))
			return false;
		(*count)++;
	}
	return true;
}

bool policy_check_list(const char *list, char *err, size_t errlen)
{
	size_t n;
	return check_list(list, &n, err, errlen);
}

/* Adds a list already checked, to a table with room reserved for it. */
static void insert_list(struct prefix_table *t, const char *list)
{
	if (!list)
		return;
	const char *cursor = list, *start;
	size_t len;
	while (next_token(&cursor, &start, &len)) {
		struct ip_prefix p;
		if (parse_token(start, len, &p, NULL, 0))
			prefix_table_insert(t, &p, 0, NULL);
	}
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= POLICY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

static struct policy_group *find_group(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->groups[i].name, name) == 0)
			return &p->groups[i];
	return NULL;
}

/* A new, empty group at the end; NULL when out of memory. */
static struct policy_group *append_group(struct policy *p, const char *name)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		struct policy_group *g = realloc(p->groups, cap * sizeof(*g));
		if (!g)
			return NULL;
		p->groups = g;
		p->cap = cap;
	}
	struct policy_group *g = &p->groups[p->n];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->hosts = prefix_table_new();
	g->exempt = prefix_table_new();
	if (!g->hosts || !g->exempt) {
		prefix_table_free(g->hosts);
		prefix_table_free(g->exempt);
		return NULL;
	}
	p->n++;
	return g;
}

bool policy_add_group(struct policy *p, const char *name, const char *hosts, const char *exempt,
		      char *err, size_t errlen)
{
	if (!name || !valid_name(name))
		return fail(err, errlen,
			    "policy name '%s' must be 1 to %d of the characters A-Z a-z 0-9 _ . -",
			    name ? name : "", POLICY_NAME_MAX - 1);
	size_t n_hosts, n_exempt;
	char why[160];
	if (!check_list(hosts, &n_hosts, why, sizeof(why)))
		return fail(err, errlen, "policy %s: hosts: %s", name, why);
	if (!check_list(exempt, &n_exempt, why, sizeof(why)))
		return fail(err, errlen, "policy %s: exempt: %s", name, why);
	struct policy_group *g = find_group(p, name);
	if (!g && n_hosts == 0)
		return fail(err, errlen, "policy %s has no hosts", name);
	bool created = false;
	if (!g) {
		g = append_group(p, name);
		if (!g)
			return fail(err, errlen, "out of memory");
		created = true;
	}
	if (!prefix_table_reserve(g->hosts, n_hosts) || !prefix_table_reserve(g->exempt, n_exempt)) {
		if (created) {
			p->n--;
			prefix_table_free(g->hosts);
			prefix_table_free(g->exempt);
		}
		return fail(err, errlen, "out of memory");
	}
	insert_list(g->hosts, hosts);
	insert_list(g->exempt, exempt);
	return true;
}

const char *policy_match(const struct policy *p, const struct ip_addr *host)
{
	if (!p || p->n == 0)
		return POLICY_ALL;
	for (size_t i = 0; i < p->n; i++) {
		const struct policy_group *g = &p->groups[i];
		if (prefix_table_lookup(g->hosts, host, NULL, NULL) &&
		    !prefix_table_lookup(g->exempt, host, NULL, NULL))
			return g->name;
	}
	return NULL;
}

size_t policy_group_count(const struct policy *p)
{
	return p ? p->n : 0;
}

const char *policy_group_name(const struct policy *p, size_t i)
{
	return p && i < p->n ? p->groups[i].name : NULL;
}
