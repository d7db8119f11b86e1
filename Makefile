# applemon - plain Makefile, dependencies found with pkg-config.
#   make            build ./applemon
#   make check      build and run every test (unit, integration, corpus tier)
#   make run        replay the bundled demo capture with the shipped signatures
#   make install    PREFIX=/usr/local DESTDIR=
#   make check SANITIZE=1   the same tests under ASan + UBSan (reports fail the run)
#   make fuzz       libFuzzer targets fuzz/fuzz_*.c, FUZZ_SECONDS each (clang)
#   make memcheck   valgrind memcheck over a sample of the captures
#   make bench      throughput vs a bare libpcap loop and ndpiReader (BENCH_ARGS=--mb 400)

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
SIGDIR   = $(PREFIX)/share/applemon/signatures
ETCDIR   = $(PREFIX)/etc/applemon

CC      ?= cc
PKGS     = libpcap libmaxminddb libevent libevent_pthreads libevent_openssl libssl libcrypto inih relp

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wformat=2 -Wvla -Iinclude -pthread \
           -DSIGDIR_DEFAULT='"$(SIGDIR)"'
ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
BUILD   ?= build-san
# A report stops the process with status 86 (an expected exit status of 1
# would hide the default 1); ASan's reports go to files under SAN_LOG, since
# tests often discard stderr (GCC's UBSan ignores log_path: its reports are
# found in the stderr the tests keep). `make check` fails when there is any
# (tests/sanitizer-reports prints them).
SAN_LOG  = $(CURDIR)/tests/out/sanitizer
export ASAN_OPTIONS  = detect_leaks=1:halt_on_error=1:exitcode=86:log_path=$(SAN_LOG)/asan
export UBSAN_OPTIONS = halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$(SAN_LOG)/ubsan
# Leaks inside third-party libraries (see the file for each one and why).
export LSAN_OPTIONS  = suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
$(shell mkdir -p $(SAN_LOG))
endif
BUILD   ?= build

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# librelp is compiled against but loaded when a RELP sink starts
# (src/sink_relp.c): it and GnuTLS cost every run 7 ms to load. libcrypto,
# libssl and libevent_openssl likewise, at start-up on a thread of their
# own or when a TLS sink starts (src/openssl_lib.c): 2.7 ms. Tests and fuzz
# targets call libcrypto themselves (test vectors), so they link it.
PKGS_LOADED = relp libssl libcrypto libevent_openssl
PKGS_LINKED = $(filter-out $(PKGS_LOADED),$(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS_LINKED) 2>/dev/null)
TEST_LIBS  = $(PKG_LIBS) $(shell pkg-config --libs libcrypto 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)

LIB_SRCS  = $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS  = $(LIB_SRCS:src/%.c=$(BUILD)/%.o)
TEST_SRCS = $(wildcard tests/test_*.c)
TEST_BINS = $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

.PHONY: FORCE all deps check unit regress integration faults delivery corpus run install clean pcaps fuzz \
	fuzz-build memcheck bench workers live

all: applemon

# Install missing build and test dependencies (apt-get, as root); it checks
# each package with dpkg-query first, so on a machine that has them it is a
# quick no-op and needs no root.
deps:
	@scripts/install-deps

$(BUILD)/%.o: src/%.c $(wildcard include/*.h src/*.h) | $(BUILD)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# main.o bakes in the signature folder of PREFIX: rebuild it when PREFIX changes.
$(BUILD)/prefix.stamp: FORCE | $(BUILD)
	@echo '$(SIGDIR)' | cmp -s - $@ || echo '$(SIGDIR)' > $@
$(BUILD)/main.o: $(BUILD)/prefix.stamp
FORCE:

$(BUILD)/libapplemon.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/applemon: $(BUILD)/main.o $(BUILD)/libapplemon.a
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(PKG_LIBS)

# ./applemon is replaced, not overwritten, so a copy that is running (a
# test elsewhere in the tree) does not stop the build. The sanitizer build
# leaves it alone: its tests run $(BUILD)/applemon.
applemon: deps
	$(MAKE) --no-print-directory $(BUILD)/applemon
ifneq ($(SANITIZE),1)
	cp $(BUILD)/applemon applemon.new && mv -f applemon.new applemon
endif

$(BUILD) $(BUILD)/tests:
	mkdir -p $@

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(BUILD)/libapplemon.a | $(BUILD)/tests
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(BUILD)/libapplemon.a \
		$(LDFLAGS) $(TEST_LIBS) $(CHECK_LIBS)

pcaps: scripts/make-pcaps
	scripts/make-pcaps pcaps

unit: deps
	$(MAKE) --no-print-directory $(TEST_BINS)
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; CK_FORK=yes $$t; done

integration: applemon
	tests/integration.sh $(BUILD)/applemon

faults: applemon
	tests/faults.sh $(BUILD)/applemon

# Operations (status endpoint, SIGHUP reload and reopen), and alert delivery
# against a real rsyslog on loopback (root; says SKIP without).
delivery: applemon
	tests/operations.py $(BUILD)/applemon
	tests/delivery.py $(BUILD)/applemon

corpus: applemon
	tests/corpus.sh $(BUILD)/applemon

# Several workers on a file write what one writes (pcaps/ and the corpus).
workers: applemon
	tests/workers.sh $(BUILD)/applemon

# Live capture in network namespaces it creates (root; says SKIP without).
live: applemon
	tests/live.sh $(BUILD)/applemon

# Throughput against a bare libpcap loop and ndpiReader, memory per flow
# (scripts/bench; figures in docs/performance.md).
bench: applemon
	@scripts/install-deps bench
	scripts/bench --applemon $(BUILD)/applemon $(BENCH_ARGS)

check: deps
ifeq ($(SANITIZE),1)
	rm -f $(SAN_LOG)/*
endif
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory regress
	$(MAKE) --no-print-directory integration
	$(MAKE) --no-print-directory faults
	$(MAKE) --no-print-directory delivery
	$(MAKE) --no-print-directory corpus
	$(MAKE) --no-print-directory workers
	$(MAKE) --no-print-directory live
ifeq ($(SANITIZE),1)
	tests/sanitizer-reports $(SAN_LOG)
endif

run: applemon
	./applemon -S signatures -r pcaps/demo.pcap

install: applemon
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SIGDIR) $(DESTDIR)$(ETCDIR)
	install -m 0755 $(BUILD)/applemon $(DESTDIR)$(BINDIR)/applemon
	install -m 0644 signatures/*.sig $(DESTDIR)$(SIGDIR)/
	install -m 0644 applemon.conf.sample $(DESTDIR)$(ETCDIR)/applemon.conf.sample

# The fuzz targets' entry points, linked with fuzz/replay.c by $(CC): `make
# check` replays every fixed finding (tests/regress/TARGET/) and seeds made
# from pcaps/ through them, so the harnesses build and run without clang.
REPLAY_BINS = $(patsubst fuzz/fuzz_%.c,$(BUILD)/fuzz/replay_%,$(wildcard fuzz/fuzz_*.c))

$(BUILD)/fuzz:
	mkdir -p $@

$(BUILD)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/replay.c fuzz/fuzz.h $(BUILD)/libapplemon.a | $(BUILD)/fuzz
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ fuzz/replay.c $< $(BUILD)/libapplemon.a \
		$(LDFLAGS) $(TEST_LIBS)

regress: deps
	$(MAKE) --no-print-directory $(REPLAY_BINS)
	tests/regress.sh $(BUILD)/fuzz

# Fuzzing: libFuzzer targets fuzz/fuzz_*.c with ASan + UBSan, built with
# clang (`scripts/install-deps fuzz`; `make check` does not need it) into
# build-fuzz/. Seeds come from the captures (scripts/fuzz-seeds); each target
# runs FUZZ_SECONDS; findings are left in build-fuzz/findings/TARGET/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD    = build-fuzz
FUZZ_CFLAGS   = -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
                -Wformat=2 -Wvla -Iinclude -pthread -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS ?= $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_OBJS     = $(LIB_SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o)

$(FUZZ_BUILD)/obj:
	mkdir -p $@

$(FUZZ_BUILD)/obj/%.o: src/%.c $(wildcard include/*.h src/*.h) | $(FUZZ_BUILD)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libapplemon.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_BUILD)/libapplemon.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< \
		$(FUZZ_BUILD)/libapplemon.a $(TEST_LIBS)

fuzz-build:
	@scripts/install-deps fuzz
	$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

fuzz: fuzz-build
	scripts/fuzz-seeds $(FUZZ_BUILD)/seeds
	scripts/fuzz-run $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Valgrind memcheck of the plain build over a sample of the captures.
memcheck: applemon
	scripts/memcheck $(BUILD)/applemon

clean:
	rm -rf build build-san build-fuzz applemon
