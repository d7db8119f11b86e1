/* privdrop.h - give up root once the capture handles are open.
 *
 * Packet sockets need CAP_NET_RAW only to be opened; reading the ring
 * afterwards needs nothing. So applemon opens every capture handle (and
 * its outputs) first, then becomes an unprivileged user, optionally shut
 * in a folder (chroot), before the first packet is processed. */
#ifndef APPLEMON_PRIVDROP_H
#define APPLEMON_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

/* Become `user` (its uid, its primary gid, no supplementary groups),
 * after chroot(chroot_dir) when that is not NULL. Checks that root cannot
 * be regained. false with a message in err; the caller should stop. */
bool privdrop(const char *user, const char *chroot_dir, char *err, size_t errlen);

#endif
