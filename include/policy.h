/* policy.h - which hosts are watched: named groups of prefixes with exemptions.
 *
 * A host is watched by the first group (in configuration order) whose
 * `hosts` contain it and whose `exempt` do not. With no group at all, every
 * host is watched and the group is called "all". */
#ifndef APPLEMON_POLICY_H
#define APPLEMON_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

#define POLICY_NAME_MAX 64
#define POLICY_ALL "all"

struct policy;

struct policy *policy_new(void);
void policy_free(struct policy *p);

/* Add a group; `hosts` and `exempt` are comma- or space-separated prefixes
 * (either may be NULL or empty; a group without hosts is an error). On error
 * returns false with a message in err. A group named twice extends itself. */
bool policy_add_group(struct policy *p, const char *name, const char *hosts, const char *exempt,
		      char *err, size_t errlen);

/* The group watching this host, or NULL if none. A NULL policy is one
 * without groups: every host is watched by POLICY_ALL. */
const char *policy_match(const struct policy *p, const struct ip_addr *host);
size_t policy_group_count(const struct policy *p);
/* Name of the i-th group in configuration order (NULL past the end). */
const char *policy_group_name(const struct policy *p, size_t i);

/* Checks a prefix list as policy_add_group reads `hosts` and `exempt`
 * (prefixes or bare addresses, separated by commas or blanks; host bits
 * must be clear) without adding it anywhere. */
bool policy_check_list(const char *list, char *err, size_t errlen);

#endif
