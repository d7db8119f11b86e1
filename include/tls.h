/* tls.h - TLS ClientHello parsing: server name, ALPN, Encrypted Client Hello.
 *
 * Two entry points: one over a TCP byte stream of TLS records (a ClientHello
 * may be split over several records and several segments), one over a bare
 * handshake message as QUIC carries it in CRYPTO frames. Both only read. */
#ifndef APPLEMON_TLS_H
#define APPLEMON_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

#define TLS_SNI_MAX 256
#define TLS_ALPN_MAX 64
#define TLS_CH_MAX (64 * 1024)   /* largest ClientHello we accept to buffer */

struct tls_client_hello {
	uint16_t record_version;     /* from the first record header (0 for QUIC) */
	uint16_t version;            /* legacy_version of the ClientHello */
	bool has_sni;
	char sni[TLS_SNI_MAX];       /* lowercased host_name of server_name ext */
	char alpn[TLS_ALPN_MAX];     /* ALPN protocols, comma-joined, cut to fit */
	bool ech;                    /* encrypted_client_hello extension (0xfe0d) present */
	bool has_supported_versions;
	uint16_t n_extensions;
};

enum tls_result {
	TLS_NOT_TLS = 0,             /* the bytes are not a TLS handshake record */
	TLS_NEED_MORE,               /* a ClientHello has begun; more bytes needed */
	TLS_OK,                      /* a complete ClientHello was parsed */
	TLS_MALFORMED,               /* a ClientHello that is internally inconsistent */
};

/* Parse from the start of a client's TCP stream (record layer).
 * `scratch` (at least TLS_CH_MAX bytes) is used only to join a handshake
 * message spread over several records. On TLS_NEED_MORE, *needed (if not
 * NULL) is set to the total stream length that would be needed, when known,
 * else 0. */
enum tls_result tls_parse_client_stream(const uint8_t *data, size_t len, uint8_t *scratch,
					struct tls_client_hello *ch, size_t *needed);

/* Parse a handshake message (type, 24-bit length, body) holding a ClientHello. */
enum tls_result tls_parse_client_hello(const uint8_t *hs, size_t len, struct tls_client_hello *ch);

/* Cheap test: could these first bytes begin a TLS handshake record? */
bool tls_plausible(const uint8_t *data, size_t len);

#endif
