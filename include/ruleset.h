/* ruleset.h - the signature set and policy in force, swapped atomically.
 *
 * SIGHUP loads a new set beside the old one; only when it loaded whole is
 * it installed. Engines hold a reference to the set they use and look at
 * a generation counter once per packet (one relaxed atomic load); when it
 * moved they take the new set and let go of the old one, which is freed
 * when the last engine has let go. A packet is thus classified entirely
 * with one set, old or new. */
#ifndef APPLEMON_RULESET_H
#define APPLEMON_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "signatures.h"

struct ruleset {
	const struct sigset *sigs;
	const struct policy *policy;
	/* private */
	struct sigset *own_sigs;
	struct policy *own_policy;
	int refs;                    /* guarded by the module's lock */
};

/* A set that owns sigs and policy (policy may be NULL: everyone watched). */
struct ruleset *ruleset_new(struct sigset *sigs, struct policy *policy);
/* A set that only points at them (the caller frees them after
 * ruleset_shutdown()). */
struct ruleset *ruleset_wrap(const struct sigset *sigs, const struct policy *policy);

/* Makes rs current; the one before is freed when no engine holds it. */
void ruleset_install(struct ruleset *rs);
/* The current set with a reference, or NULL when none was installed. */
struct ruleset *ruleset_acquire(void);
void ruleset_release(struct ruleset *rs);
/* Moves whenever a set is installed; 0 before the first. */
uint64_t ruleset_generation(void);
/* Drops the current set (at exit, after the engines are gone). */
void ruleset_shutdown(void);

/* SIGHUP: reads config_file (may be NULL) for the policy and the
 * signature folder (sig_dir, when not NULL, wins, as -S does), loads the
 * signatures, and installs the new set. On any mistake nothing changes
 * and err says FILE:LINE: message. */
bool ruleset_reload(const char *config_file, const char *sig_dir, char *err, size_t errlen);

#endif
