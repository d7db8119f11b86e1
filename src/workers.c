/* workers.c - N engines on N threads: live fanout, and one file shared out.
 *
 * Live capture. Each worker owns one libpcap handle per interface; the
 * handles of an interface form an AF_PACKET fanout group (capture.c), so
 * the kernel gives every flow to one worker and a worker's engine sees
 * all of its flows' packets. Workers run independently: their flow tables
 * are their own, the DNS cache has its own lock, and records go to the
 * outputs, whose delivery thread writes them out at once: an alert leaves
 * within the ring's 100 ms block timeout of its packet. Workers end idle
 * flows on their own clock (engine_tick), traffic or not. The calling
 * thread waits, reports the capture counters every stats_interval seconds,
 * and stops the workers on workers_stop().
 *
 * One worker on a file. With reader_thread the calling thread only reads:
 * it copies each frame into the blocks of a ring (below) and one worker
 * thread runs the engine on every frame of every block, in order - reading
 * and processing overlap on two cores, and the engine sees exactly what it
 * would see straight from libpcap. Without it, the calling thread hands
 * each frame from libpcap to the engine itself.
 *
 * Capture files, several workers. The calling thread reads the file and copies each frame
 * into a block (a shared buffer of up to BLOCK_PKTS frames); a block holds,
 * for each worker, the list of its frames. Blocks go round a ring of
 * RING_BLOCKS; every worker walks every block in order and processes its
 * own frames, and a slot is reused once every worker is past it. A frame's
 * worker is chosen by a symmetric hash of its innermost addresses (not
 * ports, so that the fragments of a datagram and the packets of its flow
 * go together): plain TCP frames by a glance at their headers, the rest
 * through decode_packet. The reader is worker 0 as well, with a smaller
 * share of the flows (READ_COST) since reading takes part of its time; it
 * does its frames between reads, only those every other worker is past.
 *
 * The same records as one worker. Each frame has a sequence number, and
 * each worker publishes its progress: "all my frames up to number P are
 * done". What workers share is touched in frame order:
 *   - before a record goes out or a DNS answer goes into the cache, a
 *     worker at frame S waits until every other worker is past S-1: writes
 *     and cache inserts happen in capture order, one at a time, and the
 *     alert suppressor sees alerts in the order one worker would give them;
 *   - before a DNS cache lookup, a worker waits until each other worker is
 *     past its own last frame before S that could carry a DNS answer (UDP
 *     from or to a DNS port with the response bit, TCP with a DNS port, an
 *     IP fragment): the lookup sees the answers before it, and no later
 *     answer can be inserted before it is done (that insert waits for S).
 * The worker with the lowest pending frame never waits, so this cannot
 * deadlock (the reader's frames that others wait for are behind them, so
 * it can always do them); workers wait only on these steps, not per
 * packet. Waiting spins briefly, then sleeps on a futex until the awaited
 * progress is reached (struct mark).
 *   Idle flows are ended as one engine ends them: when a frame opens a new
 * second, the reader waits for the workers to finish every earlier frame
 * and ends idle flows across all engines in one-table order
 * (engine_expire_all); at the end it flushes them the same way. It stops
 * only when some flow may be due: each worker publishes when its next flow
 * could time out, and frames it has not processed yet can only create
 * flows due later than their own time plus the shortest timeout. (If the
 * file's timestamps ever go backwards that bound fails, and the reader
 * stops at every new second.)
 *   What differs from one worker: [flows] max is shared out (each worker
 * holds max/N flows), so a run that fills its tables evicts differently;
 * and flows of different workers last seen at the same microsecond end in
 * worker order, which can change which of two such alerts a suppressor
 * lets through, and the order of records (tests compare them sorted). */
#include "workers.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "decode.h"
#include "slab.h"

#define RING_BLOCKS 8
#define BLOCK_PKTS 1024              /* fits the uint16_t frame lists */
#define BLOCK_BYTES (1u << 20)       /* >= any frame: snap lengths stop at 262144 */
#define SPINS 256                    /* checks before looking at the clock */
#define SPIN_NS 200000               /* spinning before sleeping on a futex */
#define READ_COST 0.8
#define DNS_GRACE_MS 250             /* live: look again in the DNS cache (engine_tick) */
#define PIPE_AHEAD 16                /* one worker, reading thread: frame bytes fetched ahead */
#define DECODE_AHEAD 8               /* and frames decoded ahead (a power of two) */
#define PIPE_REFILL_AT 2             /* a full ring: the reader sleeps until this many blocks are left */
#define PREFETCH_AHEAD 4             /* frames whose headers are fetched ahead */                /* reading a frame / processing it, for the reader's share */

/* A number that only grows, which other threads can sleep on until it
 * reaches what they need. The one that raises it wakes sleepers only when
 * their target is reached: raising it costs a store and a load otherwise.
 * (want and value are written and read sequentially consistent: either
 * the raiser sees the sleeper's want, or the sleeper sees the new value.) */
struct mark {
	_Alignas(64) _Atomic uint64_t value;
	_Atomic uint64_t want;       /* lowest target slept on; UINT64_MAX none */
	_Atomic uint32_t gen;        /* futex word, moved at each wake-up */
};

struct frame {
	uint32_t off, caplen, wirelen, pad;
	uint64_t ts_usec, pad2;      /* 32 bytes: streamed in two 16-byte stores (copy_to_ring) */
};
_Static_assert(sizeof(struct frame) == 32, "struct frame: two 16-byte stores");

/* A frame that may carry a DNS answer (see reader_packet). */
struct answer_frame {
	uint16_t idx;
	uint8_t owner;
};

struct block {
	uint8_t *buf;
	uint32_t used;               /* bytes of buf */
	uint32_t n;                  /* frames */
	int linktype;
	uint64_t first_seq;          /* number of frames[0]; frames are numbered from 1 */
	uint64_t min_ts;
	struct frame *frames;
	uint16_t *mine;              /* worker i's frames: mine[i * BLOCK_PKTS ...] */
	uint32_t count[WORKERS_MAX];
	struct answer_frame *answers;   /* in frame order */
	uint32_t n_answers;
	uint64_t answers_before[WORKERS_MAX];   /* each worker's last such frame before this block */
};

/* What a worker publishes. */
struct lane {
	struct mark progress;        /* its frames numbered <= this are done */
	_Atomic uint64_t next_expiry;   /* engine_next_expiry() after its last block */
};

struct worker {
	struct workers *w;
	unsigned index;
	struct engine *engine;
	struct engine_hooks hooks;
	struct capture *cap;         /* live */
	pthread_t thread;
	bool started;
	bool failed;
	char err[512];
	uint64_t packets;
	uint64_t waits;              /* file: times it waited for capture order */
	/* file: the frame being processed */
	const struct block *blk;
	uint32_t idx;
	uint64_t seq, ordered_seq;
};

struct workers {
	struct workers_params p;
	unsigned n;
	struct worker wk[WORKERS_MAX];
	struct engine *engines[WORKERS_MAX];
	struct lane *lanes;
	pthread_mutex_t out_lock;
	atomic_int stop;
	atomic_int report;
	bool live;
	bool pipelined;              /* one worker on a file, the reader in a thread of its own */
	struct capture_fanout fanout;

	/* file, several workers */
	struct capture *reader;
	uint8_t *ring_bytes;         /* every block's buf, one after the other */
	struct block blocks[RING_BLOCKS];
	struct mark available;       /* blocks handed to the workers; UINT64_MAX at the end */
	uint64_t published;          /* (reader) blocks handed over */
	_Atomic uint64_t final_blocks;  /* set before `available` goes to UINT64_MAX */
	atomic_bool serial;          /* the reader has every engine to itself */
	struct block *cur;           /* being filled; NULL between blocks */
	uint64_t seq;                /* frames read */
	uint64_t last_answer[WORKERS_MAX];   /* each worker's last frame that may carry a DNS answer */
	uint64_t last_expire_sec;
	uint64_t max_ts;
	bool ts_backwards;
	uint64_t min_timeout_usec;
	uint64_t expiry_pauses;
	uint64_t reader_waits;
	uint32_t hash_seed;
	uint32_t reader_share;       /* hashes below this go to worker 0, the reader */
	uint64_t own_block;          /* where the reader's share stands: block number, */
	uint32_t own_pos;            /* and place in its list of frames */
	struct decode_stats scratch;
};

/* ---- waiting ----------------------------------------------------------------- */

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void mark_init(struct mark *m, uint64_t v)
{
	atomic_init(&m->value, v);
	atomic_init(&m->want, UINT64_MAX);
	atomic_init(&m->gen, 0);
}

static uint64_t mark_get(struct mark *m)
{
	return atomic_load_explicit(&m->value, memory_order_acquire);
}

static void mark_wake(struct mark *m)
{
	atomic_store_explicit(&m->want, UINT64_MAX, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->gen, 1, memory_order_release);
	syscall(SYS_futex, &m->gen, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void mark_set(struct mark *m, uint64_t v)
{
	atomic_store_explicit(&m->value, v, memory_order_seq_cst);
	if (atomic_load_explicit(&m->want, memory_order_seq_cst) <= v)
		mark_wake(m);
}

/* mark_set for every packet: a plain store and a load. Without the fence
 * a sleeper's want may be missed this once; the next advance, or the
 * mark_set before its owner waits or at the end of a block, sees it. */
static void mark_advance(struct mark *m, uint64_t v)
{
	atomic_store_explicit(&m->value, v, memory_order_release);
	if (atomic_load_explicit(&m->want, memory_order_relaxed) <= v)
		mark_wake(m);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Until the mark reaches target; true if that took any waiting. It spins
 * for up to SPIN_NS first: the thread it waits for is usually running on
 * another core and gets there within microseconds, while a futex sleep
 * costs a wake-up, which on a virtual machine whose other core went idle
 * can take a few hundred microseconds. */
static bool mark_wait_spinning(struct mark *m, uint64_t target, bool spin)
{
	uint64_t spin_until = 0;
	for (unsigned spins = 0;; spins++) {
		if (atomic_load_explicit(&m->value, memory_order_acquire) >= target)
			return spins > 0;
		if (spin && (spins < SPINS || (spins & 63) || mono_ns() < spin_until)) {
			if (spins == SPINS)
				spin_until = mono_ns() + SPIN_NS;
			cpu_relax();
			continue;
		}
		uint32_t gen = atomic_load_explicit(&m->gen, memory_order_acquire);
		uint64_t want = atomic_load_explicit(&m->want, memory_order_seq_cst);
		while (target < want &&
		       !atomic_compare_exchange_weak_explicit(&m->want, &want, target,
							      memory_order_seq_cst,
							      memory_order_seq_cst))
			;
		if (atomic_load_explicit(&m->value, memory_order_seq_cst) >= target)
			return true;
		/* The timeout only guards against a wake-up lost to a bug. */
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		syscall(SYS_futex, &m->gen, FUTEX_WAIT_PRIVATE, gen, &ts, NULL, 0);
	}
}

static bool mark_wait(struct mark *m, uint64_t target)
{
	return mark_wait_spinning(m, target, true);
}

/* Until every worker but `self` has done its frames numbered <= target. */
static bool wait_others(struct workers *w, unsigned self, uint64_t target)
{
	bool waited = false;
	for (unsigned i = 0; i < w->n; i++)
		if (i != self && mark_wait(&w->lanes[i].progress, target))
			waited = true;
	return waited;
}

/* ---- engine hooks --------------------------------------------------------------- */

/* Before a DNS cache lookup: every earlier frame that may carry a DNS
 * answer is done (the answers in the cache are those before this frame). */
static bool wait_answers(struct workers *w, const struct worker *wk)
{
	const struct block *b = wk->blk;
	uint64_t need[WORKERS_MAX];
	memcpy(need, b->answers_before, w->n * sizeof(need[0]));
	for (uint32_t i = 0; i < b->n_answers && b->answers[i].idx < wk->idx; i++)
		need[b->answers[i].owner] = b->first_seq + b->answers[i].idx;
	bool waited = false;
	for (unsigned j = 0; j < w->n; j++)
		if (j != wk->index && need[j] && mark_wait(&w->lanes[j].progress, need[j]))
			waited = true;
	return waited;
}

static void order_file(void *ctx, enum engine_step step)
{
	struct worker *wk = ctx;
	struct workers *w = wk->w;
	if (atomic_load_explicit(&w->serial, memory_order_relaxed) || wk->ordered_seq == wk->seq)
		return;
	/* Others may be waiting for this worker: make its progress seen first. */
	mark_set(&w->lanes[wk->index].progress, wk->seq - 1);
	bool waited;
	if (step == ENGINE_STEP_DNS_LOOKUP) {
		waited = wait_answers(w, wk);
	} else {
		/* Everything before this frame is done, everywhere. */
		waited = wait_others(w, wk->index, wk->seq - 1);
		wk->ordered_seq = wk->seq;
	}
	if (waited)
		wk->waits++;
}

static void order_live(void *ctx, enum engine_step step)
{
	(void)ctx;
	(void)step;
}

/* output_write_admitted() takes records from several threads; the lock
 * keeps that true for outputs that do not (and costs nothing uncontended). */
static void write_record(void *ctx, struct record *r)
{
	struct worker *wk = ctx;
	struct workers *w = wk->w;
	pthread_mutex_lock(&w->out_lock);
	output_write_admitted(w->p.output, r);
	pthread_mutex_unlock(&w->out_lock);
}

/* ---- setup --------------------------------------------------------------------- */

unsigned workers_default_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > WORKERS_MAX ? WORKERS_MAX : (unsigned)n;
}

static uint64_t min_timeout_usec(const struct config *c)
{
	uint32_t m = c->timeout_tcp;
	if (c->timeout_tcp_closed < m)
		m = c->timeout_tcp_closed;
	if (c->timeout_udp < m)
		m = c->timeout_udp;
	if (c->timeout_other < m)
		m = c->timeout_other;
	return (uint64_t)m * 1000000u;
}

static bool make_engines(struct workers *w, char *err, size_t errlen)
{
	bool shared = w->n > 1;
	uint32_t max = w->p.config->flows_max;
	for (unsigned i = 0; i < w->n; i++) {
		struct worker *wk = &w->wk[i];
		wk->w = w;
		wk->index = i;
		wk->hooks.order = w->live ? order_live : order_file;
		wk->hooks.write = write_record;
		wk->hooks.ctx = wk;
		struct engine_params ep = {
			.config = w->p.config, .sigs = w->p.sigs, .policy = w->p.policy,
			.dns_cache = w->p.dns_cache, .output = w->p.output,
			.flow_records = w->p.flow_records,
			.flows_max = shared ? (max + w->n - 1) / w->n : 0,
			.external_expiry = shared && !w->live,
			.dns_grace_ms = w->live ? DNS_GRACE_MS : 0,
			.hooks = shared || w->live ? &wk->hooks : NULL,
		};
		wk->engine = w->engines[i] = engine_new(&ep);
		if (!wk->engine) {
			snprintf(err, errlen, "out of memory creating the flow tables");
			return false;
		}
	}
	return true;
}

static bool make_blocks(struct workers *w, char *err, size_t errlen)
{
	/* One region for every block's bytes: 2 MiB pages, a handful of page
	 * faults instead of one per 4 KiB as the reader first fills the ring. */
	w->ring_bytes = huge_zalloc((size_t)RING_BLOCKS * BLOCK_BYTES);
	if (!w->ring_bytes) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (int k = 0; k < RING_BLOCKS; k++) {
		struct block *b = &w->blocks[k];
		b->buf = w->ring_bytes + (size_t)k * BLOCK_BYTES;
		b->frames = aligned_alloc(64, BLOCK_PKTS * sizeof(*b->frames));
		b->mine = malloc((size_t)w->n * BLOCK_PKTS * sizeof(*b->mine));
		b->answers = malloc(BLOCK_PKTS * sizeof(*b->answers));
		if (!b->buf || !b->frames || !b->mine || !b->answers) {
			snprintf(err, errlen, "out of memory");
			return false;
		}
	}
	w->lanes = aligned_alloc(64, w->n * sizeof(*w->lanes));
	if (!w->lanes) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (unsigned i = 0; i < w->n; i++) {
		mark_init(&w->lanes[i].progress, 0);
		atomic_init(&w->lanes[i].next_expiry, UINT64_MAX);
	}
	mark_init(&w->available, 0);
	return true;
}

struct workers *workers_open(const struct workers_params *p, char *err, size_t errlen)
{
	if (p->n_workers < 1 || p->n_workers > WORKERS_MAX) {
		snprintf(err, errlen, "the number of workers must be 1 to %d", WORKERS_MAX);
		return NULL;
	}
	struct workers *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->p = *p;
	w->n = p->n_workers;
	w->live = p->capture.file == NULL;
	w->min_timeout_usec = min_timeout_usec(p->config);
	w->hash_seed = 0x2545f491u;
	pthread_mutex_init(&w->out_lock, NULL);
	if (w->live) {
		/* One after the other: a handle's place in its fanout group is
		 * its worker's index, in every interface's group. */
		for (unsigned i = 0; i < w->n; i++) {
			struct capture_opts co = p->capture;
			co.fanout = w->n > 1 ? &w->fanout : NULL;
			w->wk[i].cap = capture_open(&co, err, errlen);
			if (!w->wk[i].cap) {
				workers_free(w);
				return NULL;
			}
		}
	} else {
		w->reader = capture_open(&p->capture, err, errlen);
		w->pipelined = w->n == 1 && p->reader_thread;
		if (!w->reader || ((w->n > 1 || w->pipelined) && !make_blocks(w, err, errlen))) {
			workers_free(w);
			return NULL;
		}
	}
	if (!make_engines(w, err, errlen)) {
		workers_free(w);
		return NULL;
	}
	return w;
}

void workers_free(struct workers *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->n; i++) {
		engine_free(w->wk[i].engine);
		capture_close(w->wk[i].cap);
	}
	capture_close(w->reader);
	huge_free(w->ring_bytes, (size_t)RING_BLOCKS * BLOCK_BYTES);
	for (int k = 0; k < RING_BLOCKS; k++) {
		free(w->blocks[k].frames);
		free(w->blocks[k].mine);
		free(w->blocks[k].answers);
	}
	free(w->lanes);
	pthread_mutex_destroy(&w->out_lock);
	free(w);
}

void workers_stop(struct workers *w)
{
	atomic_store_explicit(&w->stop, 1, memory_order_relaxed);
	if (w->reader)
		capture_stop(w->reader);
	for (unsigned i = 0; i < w->n; i++)
		if (w->wk[i].cap)
			capture_stop(w->wk[i].cap);
}

void workers_report(struct workers *w)
{
	atomic_store_explicit(&w->report, 1, memory_order_relaxed);
}

/* Worker threads leave signals to the thread that started them. */
/* Worker i on its own CPU when the plan says so (advice: if the system
 * refuses, the scheduler places it). */
static void pin_worker(const struct workers *w, unsigned i, pthread_t thread)
{
	const struct cpu_plan *plan = w->p.cpus;
	if (!plan || !plan->pin || i >= CPU_PLAN_MAX || plan->worker[i] < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(plan->worker[i], &set);
	pthread_setaffinity_np(thread, sizeof(set), &set);
}

static bool start_threads(struct workers *w, void *(*fn)(void *), unsigned first, char *err,
			  size_t errlen)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	bool ok = true;
	for (unsigned i = first; i < w->n && ok; i++) {
		int rc = pthread_create(&w->wk[i].thread, NULL, fn, &w->wk[i]);
		if (rc != 0) {
			snprintf(err, errlen, "cannot start worker %u: %s", i, strerror(rc));
			ok = false;
		} else {
			w->wk[i].started = true;
			pin_worker(w, i, w->wk[i].thread);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ok;
}

static void join_threads(struct workers *w)
{
	for (unsigned i = 0; i < w->n; i++) {
		if (w->wk[i].started)
			pthread_join(w->wk[i].thread, NULL);
		w->wk[i].started = false;
	}
}

/* ---- one worker on a file: straight through ------------------------------------------- */

static void direct_packet(void *ctx, int linktype, const uint8_t *data, uint32_t caplen,
			  uint32_t wirelen, uint64_t ts_usec)
{
	struct worker *wk = ctx;
	wk->packets++;
	engine_packet(wk->engine, linktype, data, caplen, wirelen, ts_usec);
}

static bool run_direct(struct workers *w, char *err, size_t errlen)
{
	bool ok = capture_run(w->reader, direct_packet, &w->wk[0], err, errlen);
	engine_finish(w->wk[0].engine);
	return ok;
}

static void finish_reading(struct workers *w);

/* ---- one worker on a file, the reader in a thread of its own ----------------------------- */

/* A frame decoded ahead of its turn. */
struct ahead {
	struct packet p;
	enum decode_result dr;
	bool lookup;                 /* hash is set: the frame has a flow to find */
	uint32_t hash;
};

/* The frames of one block, in order. Each is decoded DECODE_AHEAD frames
 * before the engine takes it (decoding has no state), which leaves time to
 * bring in what its flow lookup will read: the bucket is asked for at
 * decoding, the flow at half way. A lookup otherwise waits on memory for
 * both: the flow table does not fit the caches. The frame bytes were
 * written on the reader's core and are asked for further ahead still. */
static void pipe_block(struct engine *e, const struct block *b, struct ahead *ring)
{
	uint32_t n = b->n;
	for (uint32_t i = 0; i < n + DECODE_AHEAD; i++) {
		if (i + PIPE_AHEAD < n) {
			const struct frame *far = &b->frames[i + PIPE_AHEAD];
			const uint8_t *bytes = b->buf + far->off;
			__builtin_prefetch(bytes);
			__builtin_prefetch(bytes + 64);
			if (far->caplen > 128)
				__builtin_prefetch(bytes + 128);
		}
		if (i < n) {
			const struct frame *fr = &b->frames[i];
			struct ahead *a = &ring[i % DECODE_AHEAD];
			a->dr = engine_decode(e, &a->p, b->linktype, b->buf + fr->off, fr->caplen,
					      fr->wirelen, fr->ts_usec);
			a->lookup = engine_prefetch(e, &a->p, a->dr, &a->hash);
		}
		uint32_t half = i - DECODE_AHEAD / 2;
		if (i >= DECODE_AHEAD / 2 && half < n && ring[half % DECODE_AHEAD].lookup)
			engine_prefetch_flow(e, ring[half % DECODE_AHEAD].hash);
		if (i >= DECODE_AHEAD - 1 && i - (DECODE_AHEAD - 1) < n) {
			struct ahead *a = &ring[(i - (DECODE_AHEAD - 1)) % DECODE_AHEAD];
			engine_decoded(e, &a->p, a->dr);
		}
	}
}

/* The engine's side: every block, in order. */
static void *pipe_worker(void *arg)
{
	struct worker *wk = arg;
	struct workers *w = wk->w;
	struct lane *lane = &w->lanes[0];
	struct ahead ring[DECODE_AHEAD];
	for (uint64_t k = 0;; k++) {
		mark_wait(&w->available, k + 1);
		if (mark_get(&w->available) == UINT64_MAX &&
		    k >= atomic_load_explicit(&w->final_blocks, memory_order_acquire))
			return NULL;
		const struct block *b = &w->blocks[k % RING_BLOCKS];
		pipe_block(wk->engine, b, ring);
		wk->packets += b->n;
		mark_set(&lane->progress, k + 1);
	}
}

/* A frame into the ring (dst 64-byte aligned, room rounded up to 64). With
 * stores that go around the cache: the worker reads the frame on another
 * core, and a line fetched from memory arrives sooner than one taken from
 * the other core's cache (measured on two vCPUs whose caches are far
 * apart: a line handed from core to core costs about half a microsecond).
 * The reader fences before it publishes a block (pipe_publish). */
static void copy_to_ring(uint8_t *dst, const uint8_t *src, uint32_t len)
{
#if defined(__x86_64__)
	__m128i *d = (__m128i *)(void *)dst;
	uint32_t i = 0;
	for (; i + 16 <= len; i += 16)
		_mm_stream_si128(d++, _mm_loadu_si128((const __m128i *)(const void *)(src + i)));
	if (i < len) {
		uint8_t tail[16] = { 0 };
		memcpy(tail, src + i, len - i);
		_mm_stream_si128(d, _mm_loadu_si128((const __m128i *)(const void *)tail));
	}
#else
	memcpy(dst, src, len);
#endif
}

static void pipe_publish(struct workers *w)
{
#if defined(__x86_64__)
	_mm_sfence();   /* the ring's streamed bytes before the block is handed over */
#endif
	w->published++;
	mark_set(&w->available, w->published);
	w->cur = NULL;
}

/* The reader's side: copy the frame into the block being filled; a full
 * block goes to the worker, and a slot is filled again once the worker is
 * done with it. */
static void pipe_packet(void *ctx, int linktype, const uint8_t *data, uint32_t caplen,
			uint32_t wirelen, uint64_t ts_usec)
{
	struct workers *w = ctx;
	if (caplen > BLOCK_BYTES)
		caplen = BLOCK_BYTES;
	struct block *b = w->cur;
	if (b && (b->n == BLOCK_PKTS || b->used + caplen > BLOCK_BYTES || b->linktype != linktype)) {
		pipe_publish(w);
		b = NULL;
	}
	if (!b) {
		/* The ring is full: sleep until the worker has nearly emptied
		 * it, then fill it again in one go. The worker wakes the
		 * reader once per RING_BLOCKS - PIPE_REFILL_AT blocks, not at
		 * each block (a wake-up costs the waker microseconds, on a
		 * virtual machine tens of them), and still has blocks to
		 * work on while the reader refills. */
		if (w->published >= RING_BLOCKS &&
		    mark_get(&w->lanes[0].progress) < w->published - RING_BLOCKS + 1 &&
		    mark_wait_spinning(&w->lanes[0].progress, w->published - PIPE_REFILL_AT, false))
			w->reader_waits++;
		b = w->cur = &w->blocks[w->published % RING_BLOCKS];
		b->used = 0;
		b->n = 0;
		b->linktype = linktype;
	}
	struct frame fr = { .off = b->used, .caplen = caplen, .wirelen = wirelen, .ts_usec = ts_usec };
	copy_to_ring((uint8_t *)&b->frames[b->n++], (const uint8_t *)&fr, sizeof(fr));
	copy_to_ring(b->buf + b->used, data, caplen);
	b->used += (caplen + 63u) & ~63u;
	if (b->used > BLOCK_BYTES)
		b->used = BLOCK_BYTES;
}

static bool run_pipelined(struct workers *w, char *err, size_t errlen)
{
	/* The plan counts the reader as worker 1 (main.c). */
	pin_worker(w, 1, pthread_self());
	if (!start_threads(w, pipe_worker, 0, err, errlen)) {
		finish_reading(w);
		join_threads(w);
		return false;
	}
	bool ok = capture_run(w->reader, pipe_packet, w, err, errlen);
	if (w->cur)
		pipe_publish(w);
	atomic_store_explicit(&w->final_blocks, w->published, memory_order_release);
	mark_set(&w->available, UINT64_MAX);
	join_threads(w);
	engine_finish(w->wk[0].engine);
	return ok;
}

/* ---- several workers on a file ---------------------------------------------------------- */

/* The worker's own frames of a block, in order. */
static void process_block(struct worker *wk, const struct block *b)
{
	struct lane *lane = &wk->w->lanes[wk->index];
	const uint16_t *mine = b->mine + (size_t)wk->index * BLOCK_PKTS;
	uint32_t cnt = b->count[wk->index];
	wk->blk = b;
	for (uint32_t i = 0; i < cnt; i++) {
		const struct frame *fr = &b->frames[mine[i]];
		/* The reader wrote the frames on another core: ask for the
		 * headers of a frame a few ahead while this one is processed. */
		if (i + PREFETCH_AHEAD < cnt) {
			const uint8_t *next = b->buf + b->frames[mine[i + PREFETCH_AHEAD]].off;
			__builtin_prefetch(next);
			__builtin_prefetch(next + 64);
		}
		wk->idx = mine[i];
		wk->seq = b->first_seq + mine[i];
		mark_advance(&lane->progress, wk->seq - 1);
		engine_packet(wk->engine, b->linktype, b->buf + fr->off, fr->caplen, fr->wirelen,
			      fr->ts_usec);
	}
	wk->packets += cnt;
	atomic_store_explicit(&lane->next_expiry, engine_next_expiry(wk->engine),
			      memory_order_relaxed);
	mark_set(&lane->progress, b->first_seq + b->n - 1);
}

/* Workers 1 to N-1; worker 0 is the reader itself. */
static void *file_worker(void *arg)
{
	struct worker *wk = arg;
	struct workers *w = wk->w;
	for (uint64_t k = 0;; k++) {
		mark_wait(&w->available, k + 1);
		if (mark_get(&w->available) == UINT64_MAX &&
		    k >= atomic_load_explicit(&w->final_blocks, memory_order_acquire))
			return NULL;
		process_block(wk, &w->blocks[k % RING_BLOCKS]);
	}
}

/* The lowest progress of the workers other than the reader. */
static uint64_t others_progress(struct workers *w)
{
	uint64_t m = UINT64_MAX;
	for (unsigned i = 1; i < w->n; i++) {
		uint64_t p = mark_get(&w->lanes[i].progress);
		if (p < m)
			m = p;
	}
	return m;
}

/* The reader's own share: its frames, in order, as far as the other
 * workers are past them. Such a frame never waits for them inside the
 * engine (every wait is for frames before it), so the reader never stalls
 * in its share while it should be reading; and when another worker waits
 * for one of the reader's frames, that frame is behind the waiter, hence
 * safe, and done at the next catch-up. */
static void catch_up(struct workers *w)
{
	struct worker *wk = &w->wk[0];
	struct lane *lane = &w->lanes[0];
	uint64_t limit = others_progress(w);
	while (w->own_block < w->published) {
		const struct block *b = &w->blocks[w->own_block % RING_BLOCKS];
		uint32_t cnt = b->count[0];
		wk->blk = b;
		while (w->own_pos < cnt) {
			uint32_t idx = b->mine[w->own_pos];
			uint64_t seq = b->first_seq + idx;
			if (seq - 1 > limit && (limit = others_progress(w)) < seq - 1) {
				/* Everything of ours before it is done: say so. */
				if (mark_get(&lane->progress) != seq - 1)
					mark_set(&lane->progress, seq - 1);
				return;
			}
			const struct frame *fr = &b->frames[idx];
			wk->idx = idx;
			wk->seq = seq;
			mark_advance(&lane->progress, seq - 1);
			engine_packet(wk->engine, b->linktype, b->buf + fr->off, fr->caplen,
				      fr->wirelen, fr->ts_usec);
			w->own_pos++;
		}
		wk->packets += cnt;
		atomic_store_explicit(&lane->next_expiry, engine_next_expiry(wk->engine),
				      memory_order_relaxed);
		mark_set(&lane->progress, b->first_seq + b->n - 1);
		w->own_block++;
		w->own_pos = 0;
	}
}

/* Until every worker, the reader too, has done every frame numbered
 * <= target (all of them published). The reader does not sleep here: a
 * worker may be waiting for one of the reader's own frames, which only the
 * reader can do, so it keeps catching up while it waits. (It sleeps a
 * little only if that lasts, which it does not unless output stalls.) */
static void wait_all(struct workers *w, uint64_t target)
{
	uint64_t t0 = 0;
	for (unsigned spins = 0;; spins++) {
		catch_up(w);
		if (mark_get(&w->lanes[0].progress) >= target && others_progress(w) >= target)
			break;
		if (spins == 0)
			t0 = mono_ns();
		if ((spins & 1023) == 1023 && mono_ns() - t0 > 50u * 1000 * 1000) {
			struct timespec ts = { 0, 100 * 1000 };
			nanosleep(&ts, NULL);
		} else {
			cpu_relax();
		}
	}
	if (t0)
		w->reader_waits++;
}

static void publish(struct workers *w)
{
	if (!w->cur)
		return;
	w->published++;
	mark_set(&w->available, w->published);
	w->cur = NULL;
	catch_up(w);
}

/* The next block to fill, once every worker is done with its slot. */
static struct block *next_block(struct workers *w, int linktype)
{
	struct block *b = &w->blocks[w->published % RING_BLOCKS];
	if (w->published >= RING_BLOCKS)
		wait_all(w, b->first_seq + b->n - 1);
	b->used = 0;
	b->n = 0;
	b->linktype = linktype;
	b->first_seq = w->seq + 1;
	b->min_ts = UINT64_MAX;
	memset(b->count, 0, w->n * sizeof(b->count[0]));
	b->n_answers = 0;
	memcpy(b->answers_before, w->last_answer, w->n * sizeof(w->last_answer[0]));
	w->cur = b;
	return b;
}

/* Every frame read so far is processed; the reader has the engines. */
static void drain(struct workers *w)
{
	publish(w);
	wait_all(w, w->seq);
}

/* Could engine_expire_all(now) end a flow? See the file comment. */
static bool expiry_due(struct workers *w, uint64_t now)
{
	if (w->ts_backwards)
		return true;
	uint64_t first = w->published > RING_BLOCKS ? w->published - RING_BLOCKS : 0;
	for (unsigned i = 0; i < w->n; i++) {
		uint64_t done = mark_get(&w->lanes[i].progress);
		uint64_t due = atomic_load_explicit(&w->lanes[i].next_expiry, memory_order_relaxed);
		uint64_t min_ts = w->cur ? w->cur->min_ts : UINT64_MAX;
		for (uint64_t k = first; k < w->published; k++) {
			const struct block *b = &w->blocks[k % RING_BLOCKS];
			if (b->first_seq + b->n - 1 > done && b->min_ts < min_ts)
				min_ts = b->min_ts;
		}
		if (min_ts != UINT64_MAX && min_ts + w->min_timeout_usec < due)
			due = min_ts + w->min_timeout_usec;
		if (due <= now)
			return true;
	}
	return false;
}

static void serial_expire(struct workers *w, uint64_t now)
{
	drain(w);
	w->expiry_pauses++;
	atomic_store_explicit(&w->serial, true, memory_order_relaxed);
	engine_expire_all(w->engines, w->n, now);
	atomic_store_explicit(&w->serial, false, memory_order_relaxed);
	for (unsigned i = 0; i < w->n; i++)
		atomic_store_explicit(&w->lanes[i].next_expiry, engine_next_expiry(w->engines[i]),
				      memory_order_relaxed);
}

static bool is_dns_port(uint16_t port)
{
	return port == 53 || port == 5353 || port == 5355;
}

/* Could the engine put a DNS answer from this frame into the cache? It
 * reads answers from DNS ports only (UDP: with the response bit set; TCP:
 * any bytes, as a stream), and from IP fragments once put together. */
static bool may_carry_answer(enum decode_result r, const struct packet *p)
{
	if (r == DECODE_FRAGMENT)
		return true;
	if (r != DECODE_OK || !(is_dns_port(p->sport) || is_dns_port(p->dport)))
		return false;
	if (p->l4proto == IPPROTO_UDP)
		return p->payload_len >= 3 && (p->payload[2] & 0x80);
	return p->payload_len > 0;
}

/* The addresses of a plain TCP frame - Ethernet, at most two VLAN tags,
 * IPv4 (not a fragment) or IPv6 with TCP next - read straight from the
 * headers; false for anything else (tunnels, fragments, DNS ports, other
 * link types...), which goes through decode_packet. For such frames both
 * give the same addresses, so a flow's frames go to one worker either way. */
static bool quick_tcp(int linktype, const uint8_t *d, uint32_t len, struct ip_addr *src,
		      struct ip_addr *dst)
{
	if (linktype != LINK_ETHERNET || len < 14)
		return false;
	uint32_t off = 12;
	unsigned et = (unsigned)d[off] << 8 | d[off + 1];
	for (int tags = 0; tags < 2 && (et == 0x8100 || et == 0x88a8); tags++) {
		off += 4;
		if (len < off + 2)
			return false;
		et = (unsigned)d[off] << 8 | d[off + 1];
	}
	off += 2;
	const uint8_t *ip = d + off, *tcp;
	if (et == 0x0800) {
		if (len < off + 20 || ip[0] >> 4 != 4 || ip[9] != IPPROTO_TCP || (ip[6] & 0x3f) || ip[7])
			return false;
		uint32_t ihl = (ip[0] & 0x0fu) * 4;
		if (ihl < 20 || len < off + ihl + 4)
			return false;
		tcp = ip + ihl;
		addr_from_v4(src, ip + 12);
		addr_from_v4(dst, ip + 16);
	} else if (et == 0x86dd) {
		if (len < off + 44 || ip[0] >> 4 != 6 || ip[6] != IPPROTO_TCP)
			return false;
		tcp = ip + 40;
		addr_from_v6(src, ip + 8);
		addr_from_v6(dst, ip + 24);
	} else {
		return false;
	}
	uint16_t sport = (uint16_t)(tcp[0] << 8 | tcp[1]), dport = (uint16_t)(tcp[2] << 8 | tcp[3]);
	return !is_dns_port(sport) && !is_dns_port(dport);
}

static unsigned pick_worker(struct workers *w, const struct ip_addr *a, const struct ip_addr *b)
{
	uint32_t h = addr_hash(a, w->hash_seed) + addr_hash(b, w->hash_seed);
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	if (h < w->reader_share)
		return 0;
	return 1 + (unsigned)(((uint64_t)(h - w->reader_share) * (w->n - 1)) /
			      (0x100000000ull - w->reader_share));
}

static void reader_packet(void *ctx, int linktype, const uint8_t *data, uint32_t caplen,
			  uint32_t wirelen, uint64_t ts_usec)
{
	struct workers *w = ctx;
	/* As engine_packet does for one engine: a new second ends idle flows,
	 * before this frame. */
	uint64_t sec = ts_usec / 1000000u;
	if (sec > w->last_expire_sec) {
		w->last_expire_sec = sec;
		if (expiry_due(w, ts_usec))
			serial_expire(w, ts_usec);
	}
	if (ts_usec < w->max_ts)
		w->ts_backwards = true;
	else
		w->max_ts = ts_usec;

	if (caplen > BLOCK_BYTES)
		caplen = BLOCK_BYTES;
	struct block *b = w->cur;
	if (b && (b->n == BLOCK_PKTS || b->used + caplen > BLOCK_BYTES || b->linktype != linktype)) {
		publish(w);
		b = NULL;
	}
	if (!b)
		b = next_block(w, linktype);
	uint64_t seq = ++w->seq;
	uint32_t idx = b->n++;
	struct frame *fr = &b->frames[idx];
	fr->off = b->used;
	fr->caplen = caplen;
	fr->wirelen = wirelen;
	fr->ts_usec = ts_usec;
	memcpy(b->buf + b->used, data, caplen);
	b->used += (caplen + 7u) & ~7u;
	if (b->used > BLOCK_BYTES)
		b->used = BLOCK_BYTES;
	if (ts_usec < b->min_ts)
		b->min_ts = ts_usec;

	struct ip_addr src, dst;
	unsigned who = 0;
	if ((idx & 127) == 127)
		catch_up(w);
	if (quick_tcp(linktype, b->buf + fr->off, caplen, &src, &dst)) {
		who = pick_worker(w, &src, &dst);
		b->mine[(size_t)who * BLOCK_PKTS + b->count[who]++] = (uint16_t)idx;
		return;
	}
	struct packet p;
	enum decode_result r = decode_packet(&p, linktype, b->buf + fr->off, caplen, wirelen,
					     ts_usec, &w->scratch);
	if (r == DECODE_OK || r == DECODE_IP_OTHER || r == DECODE_FRAGMENT)
		who = pick_worker(w, &p.src, &p.dst);
	if (may_carry_answer(r, &p)) {
		b->answers[b->n_answers].idx = (uint16_t)idx;
		b->answers[b->n_answers].owner = (uint8_t)who;
		b->n_answers++;
		w->last_answer[who] = seq;
	}
	b->mine[(size_t)who * BLOCK_PKTS + b->count[who]++] = (uint16_t)idx;
}

static void finish_reading(struct workers *w)
{
	atomic_store_explicit(&w->final_blocks, w->published, memory_order_release);
	mark_set(&w->available, UINT64_MAX);
}

static bool run_shared_file(struct workers *w, char *err, size_t errlen)
{
	/* Reading a frame costs about READ_COST of what processing one costs,
	 * so the reader takes a smaller share of the flows to end even. */
	double share = (1.0 - READ_COST * (w->n - 1)) / w->n;
	w->reader_share = share > 0 ? (uint32_t)(share * 4294967296.0) : 0;
	if (!start_threads(w, file_worker, 1, err, errlen)) {
		finish_reading(w);
		join_threads(w);
		return false;
	}
	bool ok = capture_run(w->reader, reader_packet, w, err, errlen);
	drain(w);
	atomic_store_explicit(&w->serial, true, memory_order_relaxed);
	engine_finish_all(w->engines, w->n);
	finish_reading(w);
	join_threads(w);
	return ok;
}

/* ---- live ------------------------------------------------------------------------ */

static void live_packet(void *ctx, int linktype, const uint8_t *data, uint32_t caplen,
			uint32_t wirelen, uint64_t ts_usec)
{
	struct worker *wk = ctx;
	wk->packets++;
	engine_packet(wk->engine, linktype, data, caplen, wirelen, ts_usec);
}

static void live_tick(void *ctx, uint64_t now_usec)
{
	struct worker *wk = ctx;
	engine_tick(wk->engine, now_usec);
}

static void *live_worker(void *arg)
{
	struct worker *wk = arg;
	capture_set_tick(wk->cap, live_tick);
	if (!capture_run(wk->cap, live_packet, wk, wk->err, sizeof(wk->err)))
		wk->failed = true;
	/* One worker failing ends the run: the others stop too. */
	workers_stop(wk->w);
	return NULL;
}

static void sum_capture_stats(struct workers *w, struct capture_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < w->n; i++) {
		struct capture *c = w->live ? w->wk[i].cap : (i == 0 ? w->reader : NULL);
		if (!c)
			continue;
		struct capture_stats cs;
		capture_get_stats(c, &cs);
		s->received += cs.received;
		s->kernel_drops += cs.kernel_drops;
		/* Every worker's handle sees the same interface counters. */
		if (i == 0)
			s->iface_drops = cs.iface_drops;
	}
}

static void report_capture(struct workers *w)
{
	struct capture_stats s;
	sum_capture_stats(w, &s);
	fprintf(stderr,
		"applemon: capture: %llu packets, %llu dropped by the kernel, %llu by the "
		"interface%s\n",
		(unsigned long long)s.received, (unsigned long long)s.kernel_drops,
		(unsigned long long)s.iface_drops,
		s.kernel_drops || s.iface_drops ? " - DROPPING" : "");
}

static bool run_live(struct workers *w, char *err, size_t errlen)
{
	if (!start_threads(w, live_worker, 0, err, errlen)) {
		workers_stop(w);
		join_threads(w);
		return false;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	time_t last_report = t0.tv_sec;
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		struct timespec nap = { 0, 100 * 1000 * 1000 }, now;
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		bool due = w->p.stats_interval && now.tv_sec - last_report >= (time_t)w->p.stats_interval;
		if (due || atomic_exchange_explicit(&w->report, 0, memory_order_relaxed)) {
			last_report = now.tv_sec;
			report_capture(w);
		}
	}
	join_threads(w);
	engine_finish_all(w->engines, w->n);
	for (unsigned i = 0; i < w->n; i++) {
		if (w->wk[i].failed) {
			snprintf(err, errlen, "%s", w->wk[i].err);
			return false;
		}
	}
	return true;
}

/* ---- run and stats ------------------------------------------------------------------ */

bool workers_run(struct workers *w, char *err, size_t errlen)
{
	/* This thread is worker 0 (reading a file) or waits for the others. */
	if (!w->pipelined)
		pin_worker(w, 0, pthread_self());
	if (w->live)
		return run_live(w, err, errlen);
	if (w->n == 1 && w->pipelined)
		return run_pipelined(w, err, errlen);
	if (w->n == 1)
		return run_direct(w, err, errlen);
	return run_shared_file(w, err, errlen);
}

/* engine_stats and flow_stats are counters only: summed field by field. */
static void add_counters(void *sum, const void *add, size_t size)
{
	uint64_t *s = sum;
	const uint64_t *a = add;
	for (size_t i = 0; i < size / sizeof(uint64_t); i++)
		s[i] += a[i];
}

_Static_assert(sizeof(struct engine_stats) % sizeof(uint64_t) == 0, "engine_stats: counters");
_Static_assert(sizeof(struct defrag_stats) % sizeof(uint64_t) == 0, "defrag_stats: counters");
_Static_assert(sizeof(struct flow_stats) % sizeof(uint64_t) == 0, "flow_stats: counters");

void workers_get_stats(struct workers *w, struct workers_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->n_workers = w->n;
	for (unsigned i = 0; i < w->n; i++) {
		add_counters(&s->engine, engine_get_stats(w->engines[i]), sizeof(s->engine));
		add_counters(&s->flows, engine_flow_stats(w->engines[i]), sizeof(s->flows));
		add_counters(&s->defrag, engine_defrag_stats(w->engines[i]), sizeof(s->defrag));
		s->worker_packets[i] = w->wk[i].packets;
	}
	sum_capture_stats(w, &s->capture);
	s->expiry_pauses = w->expiry_pauses;
	s->reader_waits = w->reader_waits;
	for (unsigned i = 0; i < w->n; i++)
		s->order_waits += w->wk[i].waits;
}
