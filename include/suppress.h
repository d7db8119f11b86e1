/* suppress.h - repeat suppression of alerts per (host, service).
 *
 * After an alert for a pair, further alerts for the same pair within the
 * interval are counted instead of sent; the next alert that goes out for
 * the pair carries that count. Time is packet time, so a replayed capture
 * suppresses the same way every run. The table is bounded: when it is full
 * of live entries, new pairs are not suppressed at all (an alert too many
 * is better than one lost). */
#ifndef APPLEMON_SUPPRESS_H
#define APPLEMON_SUPPRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct suppressor;

/* interval_secs 0 turns suppression off (every alert is sent). */
struct suppressor *suppressor_new(uint32_t interval_secs, uint32_t capacity);
void suppressor_free(struct suppressor *s);

/* Should this alert go out? If yes, *carried is the number suppressed
 * since the last one sent for the pair (0 if none). */
bool suppressor_admit(struct suppressor *s, const struct ip_addr *host, uint8_t service,
		      uint64_t now_usec, uint32_t *carried);

struct suppressor_stats {
	uint64_t admitted, suppressed, table_full;
};
void suppressor_get_stats(const struct suppressor *s, struct suppressor_stats *st);

#endif
