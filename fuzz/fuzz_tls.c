/* fuzz_tls.c - a client's TLS byte stream (records, a ClientHello spread
 * over several of them), and the same bytes as a bare handshake message as
 * QUIC carries it. Names come out NUL-terminated within their fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tls.h"

static uint8_t *scratch;

static void check_hello(const struct tls_client_hello *ch)
{
	FUZZ_ASSERT(strnlen(ch->sni, TLS_SNI_MAX) < TLS_SNI_MAX);
	FUZZ_ASSERT(strnlen(ch->alpn, TLS_ALPN_MAX) < TLS_ALPN_MAX);
	FUZZ_ASSERT(!ch->has_sni || ch->sni[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_client_hello ch;
	size_t needed = 0;

	if (!scratch && !(scratch = malloc(TLS_CH_MAX)))
		return 0;
	(void)tls_plausible(data, size);
	enum tls_result r = tls_parse_client_stream(data, size, scratch, &ch, &needed);
	if (r == TLS_OK)
		check_hello(&ch);
	if (r == TLS_NEED_MORE)
		FUZZ_ASSERT(needed == 0 || needed > size);
	if (tls_parse_client_hello(data, size, &ch) == TLS_OK)
		check_hello(&ch);
	return 0;
}
