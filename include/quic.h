/* quic.h - QUIC client Initial decryption and ClientHello extraction.
 *
 * A client's first flight is protected with keys every observer can derive
 * from the Destination Connection ID (RFC 9001 section 5.2 for v1, RFC 9369
 * for v2, draft-29's salt for draft versions). quic_client_datagram() removes
 * header protection, decrypts each Initial packet of a datagram (coalesced
 * packets included), collects CRYPTO frames by offset in a bounded per-flow
 * buffer, and when the ClientHello is complete parses it with tls.h.
 * Google QUIC with a cleartext CHLO (Q046, Q050, T051) is read for its SNI
 * tag. All crypto is OpenSSL libcrypto. */
#ifndef APPLEMON_QUIC_H
#define APPLEMON_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"

struct quic_state;               /* per-flow reassembly of the client's CRYPTO stream */

struct quic_state *quic_state_new(void);
void quic_state_free(struct quic_state *st);
/* The same with the state taken from and given back to a slab of
 * quic_state_size() bytes. */
struct slab;
size_t quic_state_size(void);
struct quic_state *quic_state_new_from(struct slab *pool);
void quic_state_free_to(struct slab *pool, struct quic_state *st);

enum quic_result {
	QUIC_NOT_QUIC = 0,           /* not a QUIC long-header Initial we understand */
	QUIC_NEED_MORE,              /* decrypted, ClientHello not complete yet */
	QUIC_OK,                     /* ClientHello complete: ch is filled */
	QUIC_UNDECRYPTABLE,          /* looked like an Initial but failed to decrypt */
};

/* Feed one UDP payload sent by the client. */
enum quic_result quic_client_datagram(struct quic_state *st, const uint8_t *data, size_t len,
				      struct tls_client_hello *ch);
/* Feed one UDP payload sent by the server (notices Retry and version changes). */
void quic_server_datagram(struct quic_state *st, const uint8_t *data, size_t len);

/* The version seen in the client's long header (0 if none yet). */
uint32_t quic_state_version(const struct quic_state *st);

/* Cheap test: does this UDP payload look like a QUIC long-header Initial? */
bool quic_plausible(const uint8_t *data, size_t len);

#endif
