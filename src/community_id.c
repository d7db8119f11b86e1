/* community_id.c - Community ID v1 (SHA-1 and base64 from OpenSSL libcrypto).
 *
 * The tuple is ordered so both directions give the same ID: the endpoint
 * with the smaller address (then the smaller port) goes first. ICMP type/
 * code mapping is not needed here: applemon only hashes TCP and UDP flows. */
#include "community_id.h"

#include <pthread.h>
#include <string.h>

#include "openssl_lib.h"

/* SHA-1 fetched once: EVP_sha1() by itself makes libcrypto look the
 * algorithm up in its provider tables on every digest, which cost more
 * than the hashing (about 10,000 instructions per ID). */
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;
static const struct crypto_lib *C;   /* NULL: libcrypto could not be loaded */
static EVP_MD *sha1_md;

static void fetch_sha1(void)
{
	if ((C = crypto_lib(NULL)))
		sha1_md = C->EVP_MD_fetch(NULL, "SHA1", NULL);
}

bool community_id_prepare(void)
{
	pthread_once(&sha1_once, fetch_sha1);
	return C != NULL;
}

void community_id_v1(const struct ip_addr *src, const struct ip_addr *dst, uint16_t sport,
		     uint16_t dport, uint8_t proto, uint16_t seed, char out[COMMUNITY_ID_LEN])
{
	bool v4 = addr_is_v4(src) && addr_is_v4(dst);
	size_t alen = v4 ? 4 : 16;
	const uint8_t *a = v4 ? src->b + 12 : src->b;
	const uint8_t *b = v4 ? dst->b + 12 : dst->b;
	int c = memcmp(a, b, alen);
	if (c > 0 || (c == 0 && sport > dport)) {
		const uint8_t *t = a;
		a = b;
		b = t;
		uint16_t tp = sport;
		sport = dport;
		dport = tp;
	}

	uint8_t buf[2 + 16 + 16 + 1 + 1 + 2 + 2];
	size_t n = 0;
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, a, alen);
	n += alen;
	memcpy(buf + n, b, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	buf[n++] = (uint8_t)(sport >> 8);
	buf[n++] = (uint8_t)sport;
	buf[n++] = (uint8_t)(dport >> 8);
	buf[n++] = (uint8_t)dport;

	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (!community_id_prepare() ||
	    !C->EVP_Digest(buf, n, digest, &dlen, sha1_md ? sha1_md : C->EVP_sha1(), NULL)) {
		out[0] = '\0';   /* no libcrypto: main does not start without it */
		return;
	}
	out[0] = '1';
	out[1] = ':';
	C->EVP_EncodeBlock((unsigned char *)out + 2, digest, (int)dlen);
}
