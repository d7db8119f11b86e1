/* fuzz_decode.c - link, IP, tunnel and transport decoding of one frame.
 *
 * Input: [link byte][frame]. The link byte's low 7 bits pick the link type
 * (fuzz.h); its top bit says the frame was cut by the snap length (the wire
 * length is then larger than the capture). Whatever decode_packet returns,
 * every pointer it sets must lie inside the frame; a fragment's IP header is
 * then decoded again as a reassembled datagram would be.
 *
 * The frame is also decoded by the general decoder alone and by the fast path
 * alone (src/decode_fast.c): decode_packet() must give exactly the general
 * decoder's answer, struct packet and counters, and so must the fast path
 * whenever it takes the frame. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "fuzz.h"
#include "../src/decode_internal.h"

static bool inside(const uint8_t *base, size_t len, const uint8_t *p, size_t n)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int linktype = fuzz_linktype(data[0] & 0x7f);
	const uint8_t *frame = data + 1;
	uint32_t caplen = (uint32_t)(size - 1);
	uint32_t wirelen = (data[0] & 0x80) ? caplen + 1500 : caplen;
	struct decode_stats st = { 0 }, gen_st = { 0 }, fast_st = { 0 };
	struct packet p, gen, fast;
	/* Different garbage in each, so a byte one decoder leaves unwritten shows. */
	memset(&p, 0xa5, sizeof(p));
	memset(&gen, 0x5a, sizeof(gen));
	memset(&fast, 0x3c, sizeof(fast));

	enum decode_result r = decode_packet(&p, linktype, frame, caplen, wirelen, 1, &st);
	enum decode_result rg = decode_packet_general(&gen, linktype, frame, caplen, wirelen, 1,
						      &gen_st);
	FUZZ_ASSERT(r == rg);
	FUZZ_ASSERT(memcmp(&p, &gen, sizeof(p)) == 0);
	FUZZ_ASSERT(memcmp(&st, &gen_st, sizeof(st)) == 0);
	enum decode_result rf;
	if (decode_packet_fast(&fast, linktype, frame, caplen, wirelen, 1, &fast_st, &rf)) {
		FUZZ_ASSERT(rf == r);
		FUZZ_ASSERT(memcmp(&fast, &p, sizeof(p)) == 0);
		FUZZ_ASSERT(memcmp(&fast_st, &st, sizeof(st)) == 0);
	}
	FUZZ_ASSERT(st.packets == 1);
	FUZZ_ASSERT((r == DECODE_ERROR) == (st.errors == 1));
	for (int ev = 0; ev < DEV_COUNT; ev++)
		FUZZ_ASSERT(decode_event_name((enum decode_event)ev) != NULL);
	if (r == DECODE_ERROR || r == DECODE_NOT_IP)
		return 0;
	FUZZ_ASSERT(p.ip_version == 4 || p.ip_version == 6);
	FUZZ_ASSERT(inside(frame, caplen, p.l3, p.l3_len));
	if (r == DECODE_OK) {
		FUZZ_ASSERT(p.payload_len == 0 || inside(frame, caplen, p.payload, p.payload_len));
	} else if (r == DECODE_FRAGMENT) {
		FUZZ_ASSERT(p.frag_len == 0 || inside(frame, caplen, p.frag_data, p.frag_len));
	}
	/* The same IP header again through the entry point reassembly uses. */
	struct packet q = p;
	r = decode_ip(&q, p.l3, p.l3_len, &st);
	if (r == DECODE_OK)
		FUZZ_ASSERT(q.payload_len == 0 || inside(p.l3, p.l3_len, q.payload, q.payload_len));
	return 0;
}
