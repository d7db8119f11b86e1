/* community_id.h - Community ID flow hashing, version 1.
 *
 * The Community ID (https://github.com/corelight/community-id-spec) lets an
 * analyst pivot from an applemon alert to the same flow in Zeek, Suricata or
 * a SIEM: "1:" + base64(SHA-1(seed, ordered addresses, proto, 0, ports)). */
#ifndef APPLEMON_COMMUNITY_ID_H
#define APPLEMON_COMMUNITY_ID_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define COMMUNITY_ID_LEN 32          /* "1:" + 28 base64 chars + NUL, rounded */

/* Load libcrypto and fetch SHA-1 now rather than for the first record
 * (thread-safe, once per process). false if libcrypto could not be
 * loaded: every ID is then "". */
bool community_id_prepare(void);

void community_id_v1(const struct ip_addr *src, const struct ip_addr *dst, uint16_t sport,
		     uint16_t dport, uint8_t proto, uint16_t seed, char out[COMMUNITY_ID_LEN]);

#endif
