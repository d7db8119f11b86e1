/* fuzz_dns.c - one DNS message: header, questions, answers, CNAME chains.
 *
 * Every stored name must be a NUL-terminated string within its field, and
 * the address walk must hand over chains no longer than DNS_MAX_CHAIN. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "fuzz.h"

static struct dns_message msg;   /* 25 KB: not on the stack */

static void on_address(void *ctx, const struct dns_answer *a, const char *const *chain,
		       size_t chain_len)
{
	size_t *calls = ctx;
	(*calls)++;
	FUZZ_ASSERT(a->type == DNS_TYPE_A || a->type == DNS_TYPE_AAAA);
	FUZZ_ASSERT(chain_len >= 1 && chain_len <= DNS_MAX_CHAIN);
	for (size_t i = 0; i < chain_len; i++)
		FUZZ_ASSERT(strnlen(chain[i], DNS_NAME_MAX) < DNS_NAME_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)dns_plausible(data, size);
	if (dns_parse(data, size, &msg) != DNS_OK)
		return 0;
	FUZZ_ASSERT(msg.n_questions <= DNS_MAX_QUESTIONS);
	FUZZ_ASSERT(msg.n_answers <= DNS_MAX_ANSWERS);
	for (unsigned i = 0; i < msg.n_questions; i++)
		FUZZ_ASSERT(strnlen(msg.qname[i], DNS_NAME_MAX) < DNS_NAME_MAX);
	for (unsigned i = 0; i < msg.n_answers; i++) {
		FUZZ_ASSERT(strnlen(msg.answers[i].name, DNS_NAME_MAX) < DNS_NAME_MAX);
		FUZZ_ASSERT(strnlen(msg.answers[i].target, DNS_NAME_MAX) < DNS_NAME_MAX);
	}
	size_t calls = 0;
	dns_walk_addresses(&msg, on_address, &calls);
	FUZZ_ASSERT(calls <= (size_t)msg.n_answers * DNS_MAX_QUESTIONS);
	return 0;
}
