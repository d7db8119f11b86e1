# applemon - plain Makefile, dependencies found with pkg-config.
#   make            build ./applemon
#   make check      build and run every test (unit, integration, corpus tier)
#   make run        replay the bundled demo capture with the shipped signatures
#   make install    PREFIX=/usr/local DESTDIR=
#   make check SANITIZE=1   the same tests under ASan + UBSan
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
endif
BUILD   ?= build

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)

LIB_SRCS  = $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS  = $(LIB_SRCS:src/%.c=$(BUILD)/%.o)
TEST_SRCS = $(wildcard tests/test_*.c)
TEST_BINS = $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

.PHONY: FORCE all deps check unit integration delivery corpus run install clean pcaps fuzz bench \
	workers live

all: applemon

# Install missing build and test dependencies (apt-get, as root); it checks
# each package with dpkg-query first, so on a machine that has them it is a
# quick no-op and needs no root.
deps:
	@scripts/install-deps

$(BUILD)/%.o: src/%.c $(wildcard include/*.h) | $(BUILD)
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

applemon: deps
	$(MAKE) --no-print-directory $(BUILD)/applemon
	cp $(BUILD)/applemon applemon

$(BUILD) $(BUILD)/tests:
	mkdir -p $@

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(BUILD)/libapplemon.a | $(BUILD)/tests
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(BUILD)/libapplemon.a \
		$(LDFLAGS) $(PKG_LIBS) $(CHECK_LIBS)

pcaps: scripts/make-pcaps
	scripts/make-pcaps pcaps

unit: deps
	$(MAKE) --no-print-directory $(TEST_BINS)
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; CK_FORK=yes $$t; done

integration: applemon
	tests/integration.sh ./applemon

# Operations (status endpoint, SIGHUP reload and reopen), and alert delivery
# against a real rsyslog on loopback (root; says SKIP without).
delivery: applemon
	tests/operations.py $(BUILD)/applemon
	tests/delivery.py $(BUILD)/applemon

corpus: applemon
	tests/corpus.sh ./applemon

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
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory integration
	$(MAKE) --no-print-directory delivery
	$(MAKE) --no-print-directory corpus
	$(MAKE) --no-print-directory workers
	$(MAKE) --no-print-directory live

run: applemon
	./applemon -S signatures -r pcaps/demo.pcap

install: applemon
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SIGDIR) $(DESTDIR)$(ETCDIR)
	install -m 0755 applemon $(DESTDIR)$(BINDIR)/applemon
	install -m 0644 signatures/*.sig $(DESTDIR)$(SIGDIR)/
	install -m 0644 applemon.conf.sample $(DESTDIR)$(ETCDIR)/applemon.conf.sample

clean:
	rm -rf build build-san applemon
