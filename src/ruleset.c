/* ruleset.c - atomic swap of signatures and policy, and SIGHUP reloads. */
#include "ruleset.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "config.h"

#ifndef SIGDIR_DEFAULT
#define SIGDIR_DEFAULT "/usr/local/share/applemon/signatures"
#endif

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct ruleset *current;
static atomic_uint_fast64_t generation;

static struct ruleset *make(const struct sigset *sigs, const struct policy *policy)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return NULL;
	rs->sigs = sigs;
	rs->policy = policy;
	rs->refs = 1;                /* the module's, once installed */
	return rs;
}

struct ruleset *ruleset_new(struct sigset *sigs, struct policy *policy)
{
	struct ruleset *rs = make(sigs, policy);
	if (rs) {
		rs->own_sigs = sigs;
		rs->own_policy = policy;
	}
	return rs;
}

struct ruleset *ruleset_wrap(const struct sigset *sigs, const struct policy *policy)
{
	return make(sigs, policy);
}

static void destroy(struct ruleset *rs)
{
	sigset_free(rs->own_sigs);
	policy_free(rs->own_policy);
	free(rs);
}

void ruleset_install(struct ruleset *rs)
{
	pthread_mutex_lock(&mu);
	struct ruleset *old = current;
	current = rs;
	atomic_fetch_add_explicit(&generation, 1, memory_order_release);
	bool free_old = old && --old->refs == 0;
	pthread_mutex_unlock(&mu);
	if (free_old)
		destroy(old);
}

struct ruleset *ruleset_acquire(void)
{
	pthread_mutex_lock(&mu);
	struct ruleset *rs = current;
	if (rs)
		rs->refs++;
	pthread_mutex_unlock(&mu);
	return rs;
}

void ruleset_release(struct ruleset *rs)
{
	if (!rs)
		return;
	pthread_mutex_lock(&mu);
	bool last = --rs->refs == 0;
	pthread_mutex_unlock(&mu);
	if (last)
		destroy(rs);
}

uint64_t ruleset_generation(void)
{
	return atomic_load_explicit(&generation, memory_order_acquire);
}

void ruleset_shutdown(void)
{
	pthread_mutex_lock(&mu);
	struct ruleset *old = current;
	current = NULL;
	bool last = old && --old->refs == 0;
	pthread_mutex_unlock(&mu);
	if (last)
		destroy(old);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool ruleset_reload(const char *config_file, const char *sig_dir, char *err, size_t errlen)
{
	struct config c;
	config_init(&c);
	if (config_file && !config_load(&c, config_file, err, errlen)) {
		config_free(&c);
		return false;
	}
	const char *dir = sig_dir ? sig_dir
		: c.sig_dir[0] ? c.sig_dir
		: is_dir(SIGDIR_DEFAULT) ? SIGDIR_DEFAULT : "signatures";
	struct sig_error serr = { 0 };
	struct sigset *sigs = sigset_load_dir(dir, &serr);
	if (!sigs) {
		if (serr.line > 0)
			snprintf(err, errlen, "%s:%d: %s", serr.file, serr.line, serr.msg);
		else
			snprintf(err, errlen, "%s: %s", serr.file[0] ? serr.file : dir, serr.msg);
		config_free(&c);
		return false;
	}
	/* Without [policy] groups every host is watched, as at start. */
	struct policy *policy = c.policy && policy_group_count(c.policy) ? c.policy : NULL;
	if (policy)
		c.policy = NULL;
	struct ruleset *rs = ruleset_new(sigs, policy);
	config_free(&c);
	if (!rs) {
		sigset_free(sigs);
		policy_free(policy);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	ruleset_install(rs);
	return true;
}
