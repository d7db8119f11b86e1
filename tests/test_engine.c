/* The engine end to end, on hand-built frames and the shipped signatures:
 * a QUIC Initial for mask.icloud.com (sealed here with the RFC 9001 Initial
 * keys) alerts as private-relay on its QUIC SNI, also when the client's
 * first datagram is a 0-RTT packet; a DNS answer that arrives in IP
 * fragments still names the address a later connection reaches; a
 * ClientHello whose segments arrive out of order is read; a flow whose only
 * evidence is an Apple address stays at confidence low. Records go to a
 * JSON file that the tests read back. */
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "output.h"
#include "quic_crypto.h"
#include "signatures.h"
#include "testutil.h"

#define SEC 1000000ull
#define T0 (1768467600ull * SEC)     /* 2026-01-15T09:00:00Z */

/* ---- byte building ------------------------------------------------------- */

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	ck_assert(b->n + n <= sizeof(b->b));
	if (n)
		memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put_u8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put_be(struct buf *b, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		put_u8(b, (uint8_t)(v >> (8 * (n - 1 - i))));
}

static void put_str(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A TLS 1.3 ClientHello handshake message; sni may be NULL. */
static void client_hello(struct buf *b, const char *sni, bool quic)
{
	struct buf ext = { .n = 0 };
	if (sni) {
		size_t n = strlen(sni);
		put_be(&ext, 0, 2);                    /* server_name */
		put_be(&ext, n + 5, 2);
		put_be(&ext, n + 3, 2);
		put_u8(&ext, 0);
		put_be(&ext, n, 2);
		put_str(&ext, sni);
	}
	put_be(&ext, 43, 2);                           /* supported_versions: 1.3 */
	put_be(&ext, 3, 2);
	put_u8(&ext, 2);
	put_be(&ext, 0x0304, 2);
	put_be(&ext, 16, 2);                           /* ALPN */
	put_be(&ext, quic ? 5 : 5, 2);
	put_be(&ext, 3, 2);
	put_u8(&ext, 2);
	put_str(&ext, quic ? "h3" : "h2");
	put_be(&ext, 51, 2);                           /* key_share: X25519 */
	put_be(&ext, 2 + 4 + 32, 2);
	put_be(&ext, 4 + 32, 2);
	put_be(&ext, 0x001d, 2);
	put_be(&ext, 32, 2);
	for (int i = 0; i < 32; i++)
		put_u8(&ext, (uint8_t)(0x40 + i));
	if (quic) {
		put_be(&ext, 0x39, 2);                 /* quic_transport_parameters */
		put_be(&ext, 3, 2);
		put_u8(&ext, 0x04);                    /* initial_max_data = 16 */
		put_u8(&ext, 1);
		put_u8(&ext, 16);
	}
	struct buf body = { .n = 0 };
	put_be(&body, 0x0303, 2);
	for (int i = 0; i < 32; i++)
		put_u8(&body, (uint8_t)i);
	put_u8(&body, 0);                              /* session id */
	put_be(&body, 2, 2);
	put_be(&body, 0x1301, 2);
	put_u8(&body, 1);
	put_u8(&body, 0);
	put_be(&body, ext.n, 2);
	put(&body, ext.b, ext.n);
	put_u8(b, 1);
	put_be(b, body.n, 3);
	put(b, body.b, body.n);
}

/* ---- QUIC: a client Initial sealed with the version 1 Initial keys --------- */

static const uint8_t dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
static const uint8_t scid[8] = { 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8 };

/* type_bits 0: Initial (with an empty token), 1: 0-RTT (keys here are the
 * Initial ones, so a reader cannot open it, as on the wire). */
static size_t seal_long(uint8_t type_bits, uint64_t pn, const uint8_t *payload, size_t plen,
			uint8_t *out, size_t cap)
{
	struct buf hdr = { .n = 0 };
	const unsigned pn_len = 2;
	put_u8(&hdr, (uint8_t)(0xc0 | (type_bits << 4) | (pn_len - 1)));
	put_be(&hdr, 1, 4);
	put_u8(&hdr, sizeof(dcid));
	put(&hdr, dcid, sizeof(dcid));
	put_u8(&hdr, sizeof(scid));
	put(&hdr, scid, sizeof(scid));
	if (type_bits == 0)
		put_u8(&hdr, 0);
	put_be(&hdr, 0x4000 | (pn_len + plen + QUIC_TAG_LEN), 2);
	size_t pn_off = hdr.n;
	put_be(&hdr, pn, pn_len);
	ck_assert(hdr.n + plen + QUIC_TAG_LEN <= cap);

	struct quic_keys k;
	ck_assert(quic_derive_client_keys(1, dcid, sizeof(dcid), &k, NULL));
	uint8_t nonce[QUIC_IV_LEN], mask[5];
	memcpy(nonce, k.iv, sizeof(nonce));
	for (int i = 0; i < 8; i++)
		nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
	memcpy(out, hdr.b, hdr.n);
	int l = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	ck_assert(ctx);
	ck_assert(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k.key, nonce) == 1);
	ck_assert(EVP_EncryptUpdate(ctx, NULL, &l, hdr.b, (int)hdr.n) == 1);
	ck_assert(EVP_EncryptUpdate(ctx, out + hdr.n, &l, payload, (int)plen) == 1);
	ck_assert(EVP_EncryptFinal_ex(ctx, out + hdr.n + l, &l) == 1);
	ck_assert(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, QUIC_TAG_LEN, out + hdr.n + plen) ==
		  1);
	EVP_CIPHER_CTX_free(ctx);
	if (type_bits == 1)
		out[hdr.n] ^= 0xff;                     /* not openable with Initial keys */
	ck_assert(quic_hp_mask(k.hp, out + pn_off + 4, mask));
	out[0] ^= mask[0] & 0x0f;
	for (unsigned i = 0; i < pn_len; i++)
		out[pn_off + i] ^= mask[1 + i];
	return hdr.n + plen + QUIC_TAG_LEN;
}

/* A 1200-byte Initial datagram carrying a ClientHello for sni. */
static size_t quic_initial(const char *sni, uint8_t *out, size_t cap)
{
	struct buf ch = { .n = 0 }, frames = { .n = 0 };
	client_hello(&ch, sni, true);
	put_u8(&frames, 0x06);                         /* CRYPTO, offset 0 */
	put_u8(&frames, 0);
	put_be(&frames, 0x4000 | ch.n, 2);
	put(&frames, ch.b, ch.n);
	while (frames.n < 1200 - 48)
		put_u8(&frames, 0);                    /* PADDING */
	return seal_long(0, 0, frames.b, frames.n, out, cap);
}

/* ---- frames: Ethernet + IPv4 + UDP/TCP ------------------------------------- */

struct frame {
	uint8_t b[2048];
	size_t n;
};

static void ipv4_frame(struct frame *f, const char *src, const char *dst, uint8_t proto,
		       uint16_t id, uint16_t frag, const uint8_t *l4, size_t n)
{
	static const uint8_t eth[14] = { 0x00, 0x0d, 0xb9, 0x20, 0x00, 0x01, 0x3c, 0x22,
					 0xfb, 0x14, 0x01, 0x0b, 0x08, 0x00 };
	uint8_t ip[20] = { 0x45, 0, (uint8_t)((20 + n) >> 8), (uint8_t)(20 + n),
			   (uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(frag >> 8), (uint8_t)frag,
			   64, proto };
	ck_assert_int_eq(inet_pton(AF_INET, src, ip + 12), 1);
	ck_assert_int_eq(inet_pton(AF_INET, dst, ip + 16), 1);
	ck_assert(14 + 20 + n <= sizeof(f->b));
	memcpy(f->b, eth, 14);
	memcpy(f->b + 14, ip, 20);
	memcpy(f->b + 34, l4, n);
	f->n = 34 + n;
}

static size_t udp_bytes(uint8_t *out, uint16_t sport, uint16_t dport, const uint8_t *p, size_t n)
{
	out[0] = (uint8_t)(sport >> 8);
	out[1] = (uint8_t)sport;
	out[2] = (uint8_t)(dport >> 8);
	out[3] = (uint8_t)dport;
	out[4] = (uint8_t)((8 + n) >> 8);
	out[5] = (uint8_t)(8 + n);
	out[6] = out[7] = 0;
	memcpy(out + 8, p, n);
	return 8 + n;
}

static void udp_frame(struct frame *f, const char *src, const char *dst, uint16_t sport,
		      uint16_t dport, const uint8_t *p, size_t n)
{
	uint8_t l4[2048];
	ck_assert(n + 8 <= sizeof(l4));
	size_t len = udp_bytes(l4, sport, dport, p, n);
	ipv4_frame(f, src, dst, 17, 1, 0x4000, l4, len);
}

static void tcp_frame(struct frame *f, const char *src, const char *dst, uint16_t sport,
		      uint16_t dport, uint32_t seq, uint8_t flags, const uint8_t *p, size_t n)
{
	uint8_t l4[2048] = { (uint8_t)(sport >> 8), (uint8_t)sport, (uint8_t)(dport >> 8),
			     (uint8_t)dport, (uint8_t)(seq >> 24), (uint8_t)(seq >> 16),
			     (uint8_t)(seq >> 8), (uint8_t)seq, 0, 0, 0, 1, 0x50, flags, 0xff, 0xff };
	ck_assert(n + 20 <= sizeof(l4));
	if (n)
		memcpy(l4 + 20, p, n);
	ipv4_frame(f, src, dst, 6, 2, 0x4000, l4, 20 + n);
}

/* ---- the engine, with records to a file ----------------------------------- */

struct run {
	struct config cfg;
	struct sigset *sigs;
	struct dns_cache *dc;
	struct output *out;
	struct engine *e;
	char path[64];
	char *text;                  /* the records written, after finish() */
	uint64_t t;
};

static void start(struct run *r)
{
	memset(r, 0, sizeof(*r));
	config_init(&r->cfg);
	r->cfg.suppress_secs = 0;
	struct sig_error se;
	r->sigs = sigset_load_dir("signatures", &se);
	ck_assert_msg(r->sigs != NULL, "%s:%d: %s", se.file, se.line, se.msg);
	r->dc = dns_cache_new(1024, 60, 86400);
	r->out = output_new("test", 0);
	ck_assert(r->dc && r->out);
	snprintf(r->path, sizeof(r->path), "/tmp/applemon-test-engine-%d.json", (int)getpid());
	unlink(r->path);
	char spec[128], err[256];
	snprintf(spec, sizeof(spec), "json:%s", r->path);
	ck_assert_msg(output_add(r->out, spec, "json", err, sizeof(err)), "%s", err);
	struct engine_params ep = {
		.config = &r->cfg, .sigs = r->sigs, .policy = NULL, .dns_cache = r->dc,
		.output = r->out, .flow_records = true,
	};
	r->e = engine_new(&ep);
	ck_assert_ptr_nonnull(r->e);
	r->t = T0;
}

static void send_frame(struct run *r, const struct frame *f)
{
	r->t += 1000;
	engine_packet(r->e, 1, f->b, (uint32_t)f->n, (uint32_t)f->n, r->t);
}

static void finish(struct run *r)
{
	engine_finish(r->e);
	engine_free(r->e);
	output_free(r->out);
	dns_cache_free(r->dc);
	sigset_free(r->sigs);
	config_free(&r->cfg);
	FILE *fp = fopen(r->path, "r");
	ck_assert_ptr_nonnull(fp);
	r->text = calloc(1, 1 << 20);
	ck_assert_ptr_nonnull(r->text);
	fread(r->text, 1, (1 << 20) - 1, fp);
	fclose(fp);
	unlink(r->path);
}

/* The n-th (0-based) record line containing `kind`, copied into line. */
static bool nth_record(const struct run *r, const char *kind, int n, char *line, size_t cap)
{
	const char *p = r->text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len < cap) {
			memcpy(line, p, len);
			line[len] = '\0';
			if (strstr(line, kind) && n-- == 0)
				return true;
		}
		p += len + (nl ? 1 : 0);
	}
	return false;
}

static int count(const struct run *r, const char *needle)
{
	int c = 0;
	for (const char *p = r->text; (p = strstr(p, needle)); p++)
		c++;
	return c;
}

#define ALERT "\"event_type\":\"alert\""

/* ---- tests ---------------------------------------------------------------- */

START_TEST(quic_mask_icloud_is_private_relay)
{
	struct run r;
	start(&r);
	uint8_t dg[1500];
	size_t n = quic_initial("mask.icloud.com", dg, sizeof(dg));
	struct frame f;
	udp_frame(&f, "10.20.1.11", "172.232.1.2", 50001, 443, dg, n);
	send_frame(&r, &f);
	finish(&r);
	char line[8192];
	ck_assert_msg(nth_record(&r, ALERT, 0, line, sizeof(line)), "no alert in %s", r.text);
	ck_assert_ptr_nonnull(strstr(line, "\"service\":\"private-relay\""));
	ck_assert_ptr_nonnull(strstr(line, "\"confidence\":\"high\""));
	ck_assert_ptr_nonnull(strstr(line, "\"app_proto\":\"quic\""));
	ck_assert_ptr_nonnull(strstr(line, "{\"source\":\"quic_sni\",\"value\":\"mask.icloud.com\"}"));
	ck_assert_int_eq(count(&r, ALERT), 1);
	ck_assert_int_eq(count(&r, "\"quic_sni\":\"mask.icloud.com\""), 1);
	free(r.text);
}
END_TEST

/* Clients resuming a session send 0-RTT packets, sometimes in a datagram of
 * their own before the Initial's: the flow must wait for the Initial. */
START_TEST(quic_zero_rtt_first_then_initial)
{
	struct run r;
	start(&r);
	uint8_t zrtt[200], payload[64] = { 0 }, dg[1500];
	size_t zn = seal_long(1, 1, payload, sizeof(payload), zrtt, sizeof(zrtt));
	struct frame f;
	udp_frame(&f, "10.20.1.12", "172.232.1.2", 50002, 443, zrtt, zn);
	send_frame(&r, &f);
	size_t n = quic_initial("mask-h2.icloud.com", dg, sizeof(dg));
	udp_frame(&f, "10.20.1.12", "172.232.1.2", 50002, 443, dg, n);
	send_frame(&r, &f);
	finish(&r);
	char line[8192];
	ck_assert_msg(nth_record(&r, ALERT, 0, line, sizeof(line)), "no alert in %s", r.text);
	ck_assert_ptr_nonnull(strstr(line, "\"service\":\"private-relay\""));
	ck_assert_ptr_nonnull(strstr(line, "\"value\":\"mask-h2.icloud.com\""));
	free(r.text);
}
END_TEST

/* A DNS message: query for name (type A), with one answer when addr. */
static void dns_message(struct buf *b, uint16_t id, const char *name, const char *addr,
			size_t pad_answers)
{
	put_be(b, id, 2);
	put_be(b, addr ? 0x8180 : 0x0100, 2);
	put_be(b, 1, 2);
	put_be(b, addr ? 1 + pad_answers : 0, 2);
	put_be(b, 0, 4);
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		put_u8(b, (uint8_t)n);
		put(b, p, n);
		p += n + (dot ? 1 : 0);
	}
	put_u8(b, 0);
	put_be(b, 1, 2);
	put_be(b, 1, 2);
	if (!addr)
		return;
	for (size_t i = 0; i <= pad_answers; i++) {
		uint8_t a[4];
		ck_assert_int_eq(inet_pton(AF_INET, addr, a), 1);
		a[3] = (uint8_t)(a[3] + i);
		put_be(b, 0xc00c, 2);
		put_be(b, 1, 2);
		put_be(b, 1, 2);
		put_be(b, 300, 4);
		put_be(b, 4, 2);
		put(b, a, 4);
	}
}

/* An incomplete datagram is dropped when its timeout passes, on the engine's
 * per-second tick, even if no later fragment comes to trigger it. */
START_TEST(lone_fragment_times_out_on_the_tick)
{
	struct run r;
	start(&r);
	uint8_t l4[600];
	memset(l4, 0x5a, sizeof(l4));
	struct frame f;
	ipv4_frame(&f, "10.20.0.1", "10.20.1.13", 17, 4242, 0x2000, l4, 296);
	send_frame(&r, &f);
	ck_assert_uint_eq(engine_defrag_stats(r.e)->in_progress, 1);
	engine_tick(r.e, r.t + 10 * 1000000ull);
	ck_assert_uint_eq(engine_defrag_stats(r.e)->in_progress, 1);
	engine_tick(r.e, r.t + (uint64_t)(r.cfg.defrag_timeout + 1) * 1000000ull);
	ck_assert_uint_eq(engine_defrag_stats(r.e)->in_progress, 0);
	ck_assert_uint_eq(engine_defrag_stats(r.e)->timeouts, 1);
	ck_assert_uint_eq(engine_defrag_stats(r.e)->bytes_held, 0);
	finish(&r);
	free(r.text);
}
END_TEST

START_TEST(fragmented_dns_answer_names_the_address)
{
	struct run r;
	start(&r);
	struct buf q = { .n = 0 }, a = { .n = 0 };
	dns_message(&q, 0x1234, "gateway.icloud.com", NULL, 0);
	dns_message(&a, 0x1234, "gateway.icloud.com", "198.51.100.77", 40);
	struct frame f;
	udp_frame(&f, "10.20.1.13", "10.20.0.1", 53013, 53, q.b, q.n);
	send_frame(&r, &f);
	/* the answer (UDP header + 676 bytes) in three fragments, last first */
	uint8_t l4[1024];
	size_t n = udp_bytes(l4, 53, 53013, a.b, a.n);
	ck_assert_uint_gt(n, 600);
	ipv4_frame(&f, "10.20.0.1", "10.20.1.13", 17, 777, (uint16_t)(600 / 8), l4 + 600, n - 600);
	send_frame(&r, &f);
	ipv4_frame(&f, "10.20.0.1", "10.20.1.13", 17, 777, 0x2000, l4, 296);
	send_frame(&r, &f);
	ipv4_frame(&f, "10.20.0.1", "10.20.1.13", 17, 777, 0x2000 | (296 / 8), l4 + 296, 304);
	send_frame(&r, &f);
	ck_assert_uint_eq(engine_defrag_stats(r.e)->reassembled, 1);
	/* then a TLS connection to the answered address, ClientHello without SNI */
	struct buf ch = { .n = 0 }, rec = { .n = 0 };
	client_hello(&ch, NULL, false);
	put_u8(&rec, 22);
	put_be(&rec, 0x0301, 2);
	put_be(&rec, ch.n, 2);
	put(&rec, ch.b, ch.n);
	tcp_frame(&f, "10.20.1.13", "198.51.100.77", 50013, 443, 1000, 0x02, NULL, 0);
	send_frame(&r, &f);
	tcp_frame(&f, "10.20.1.13", "198.51.100.77", 50013, 443, 1001, 0x18, rec.b, rec.n);
	send_frame(&r, &f);
	finish(&r);
	char line[8192];
	ck_assert_msg(nth_record(&r, "\"dest_ip\":\"198.51.100.77\"", 0, line, sizeof(line)),
		      "no record for 198.51.100.77 in %s", r.text);
	ck_assert_ptr_nonnull(strstr(line, ALERT));
	ck_assert_ptr_nonnull(strstr(line, "\"confidence\":\"medium\""));
	ck_assert_ptr_nonnull(strstr(line, "\"source\":\"dns_answer\",\"value\":\"gateway.icloud.com\""));
	free(r.text);
}
END_TEST

START_TEST(client_hello_out_of_order)
{
	struct run r;
	start(&r);
	struct buf ch = { .n = 0 }, rec = { .n = 0 };
	client_hello(&ch, "keyvalueservice.icloud.com", false);
	put_u8(&rec, 22);
	put_be(&rec, 0x0301, 2);
	put_be(&rec, ch.n, 2);
	put(&rec, ch.b, ch.n);
	ck_assert_uint_gt(rec.n, 120);
	struct frame f;
	const uint32_t isn = 0xfffffff0u;                /* the stream crosses 0 */
	tcp_frame(&f, "10.20.1.14", "17.248.190.30", 50014, 443, isn, 0x02, NULL, 0);
	send_frame(&r, &f);
	/* third piece, first piece, first again, second overlapping both */
	tcp_frame(&f, "10.20.1.14", "17.248.190.30", 50014, 443, isn + 1 + 100, 0x18, rec.b + 100,
		  rec.n - 100);
	send_frame(&r, &f);
	tcp_frame(&f, "10.20.1.14", "17.248.190.30", 50014, 443, isn + 1, 0x10, rec.b, 60);
	send_frame(&r, &f);
	tcp_frame(&f, "10.20.1.14", "17.248.190.30", 50014, 443, isn + 1, 0x10, rec.b, 60);
	send_frame(&r, &f);
	tcp_frame(&f, "10.20.1.14", "17.248.190.30", 50014, 443, isn + 1 + 40, 0x10, rec.b + 40, 80);
	send_frame(&r, &f);
	const struct engine_stats *st = engine_get_stats(r.e);
	ck_assert_uint_eq(st->tls_client_hellos, 1);
	ck_assert_uint_ge(st->stream_gaps, 1);
	finish(&r);
	char line[8192];
	ck_assert(nth_record(&r, ALERT, 0, line, sizeof(line)));
	ck_assert_ptr_nonnull(strstr(line, "{\"source\":\"sni\",\"value\":\"keyvalueservice.icloud.com\"}"));
	ck_assert_ptr_nonnull(strstr(line, "\"confidence\":\"high\""));
	free(r.text);
}
END_TEST

START_TEST(apple_address_alone_is_low)
{
	struct run r;
	start(&r);
	uint8_t junk[40];
	memset(junk, 0x17, sizeof(junk));
	struct frame f;
	tcp_frame(&f, "10.20.1.15", "17.1.2.3", 50015, 8443, 5000, 0x02, NULL, 0);
	send_frame(&r, &f);
	tcp_frame(&f, "10.20.1.15", "17.1.2.3", 50015, 8443, 5001, 0x18, junk, sizeof(junk));
	send_frame(&r, &f);
	finish(&r);
	char line[8192];
	ck_assert(nth_record(&r, ALERT, 0, line, sizeof(line)));
	ck_assert_ptr_nonnull(strstr(line, "\"confidence\":\"low\""));
	ck_assert_ptr_nonnull(strstr(line, "\"source\":\"ip_prefix\",\"value\":\"17.0.0.0/8\""));
	ck_assert_int_eq(count(&r, ALERT), 1);
	free(r.text);
}
END_TEST

/* A flood of Initials that never complete: at most QUIC_STATES_MAX flows
 * hold reassembly state at once; the rest are decided on their addresses. */
START_TEST(quic_flood_is_bounded)
{
	struct run r;
	start(&r);
	uint8_t dg[1500];
	size_t n = quic_initial("flood.example", dg, sizeof(dg));
	dg[n - 1] ^= 0xff;                  /* bad tag: undecryptable, state kept */
	struct frame f;
	for (int i = 0; i < 2100; i++) {
		udp_frame(&f, "10.20.1.11", "172.232.1.2", (uint16_t)(10000 + i), 443, dg, n);
		send_frame(&r, &f);
	}
	ck_assert_uint_eq(engine_get_stats(r.e)->quic_states_refused, 2100 - 2048);
	finish(&r);
	ck_assert_int_eq(count(&r, ALERT), 0);
	free(r.text);
}
END_TEST

/* A flood of connections that each start a ClientHello and never finish it:
 * at most REASM_WINDOWS_MAX hold a reassembly window at once. */
START_TEST(tcp_partial_hello_flood_is_bounded)
{
	struct run r;
	start(&r);
	struct buf ch = { .n = 0 }, rec = { .n = 0 };
	client_hello(&ch, "www.icloud.com", false);
	put_u8(&rec, 22);
	put_be(&rec, 0x0301, 2);
	put_be(&rec, ch.n, 2);
	put(&rec, ch.b, ch.n);
	struct frame f;
	for (int i = 0; i < 4200; i++) {
		uint16_t sport = (uint16_t)(20000 + i);
		tcp_frame(&f, "10.20.1.14", "192.0.2.80", sport, 443, 1000, 0x02, NULL, 0);
		send_frame(&r, &f);
		tcp_frame(&f, "10.20.1.14", "192.0.2.80", sport, 443, 1001, 0x18, rec.b, 60);
		send_frame(&r, &f);
	}
	ck_assert_uint_eq(engine_get_stats(r.e)->reasm_windows_refused, 4200 - 4096);
	finish(&r);
	free(r.text);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, quic_mask_icloud_is_private_relay);
	tcase_add_test(tc, quic_flood_is_bounded);
	tcase_add_test(tc, tcp_partial_hello_flood_is_bounded);
	tcase_add_test(tc, quic_zero_rtt_first_then_initial);
	tcase_add_test(tc, fragmented_dns_answer_names_the_address);
	tcase_add_test(tc, lone_fragment_times_out_on_the_tick);
	tcase_add_test(tc, client_hello_out_of_order);
	tcase_add_test(tc, apple_address_alone_is_low);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
