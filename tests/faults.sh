#!/bin/sh
# Fault tests: damaged capture files, outputs that cannot be written, floods
# that must stay inside the configured memory bounds, and a live interface
# that disappears while applemon captures from it.
#
#   tests/faults.sh ./applemon
#
# The flood captures are generated on the fly (tests/flood.py) and piped in;
# nothing large is written to disk. Peak memory is read from /usr/bin/time
# -v and compared with a run of the same binary (sanitizer builds included)
# on a flood that does not grow the table under test.
set -u
APPLEMON=${1:-./applemon}
OUT=tests/out/faults
rm -rf "$OUT"
mkdir -p "$OUT"
pass=0
fail=0
skip=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
skipped() { skip=$((skip + 1)); echo "SKIP $1"; }

run() { # run NAME ARGS...: JSON to $OUT/NAME.jsonl, stderr to .err, status to .rc
	name=$1
	shift
	"$APPLEMON" --sensor test -S signatures "$@" >"$OUT/$name.jsonl" 2>"$OUT/$name.err"
	echo $? >"$OUT/$name.rc"
}

expect_rc() {
	got=$(cat "$OUT/$1.rc")
	if [ "$got" = "$2" ]; then ok "$1: exit status $2"; else
		bad "$1: exit status $got, want $2: $(head -3 "$OUT/$1.err")"
	fi
}

expect_err() {
	if grep -q -- "$2" "$OUT/$1.err"; then ok "$1: stderr says '$2'"; else
		bad "$1: stderr lacks '$2': $(head -3 "$OUT/$1.err")"
	fi
}

alerts() { grep -c '"event_type":"alert"' "$1"; }

have_time=no
[ -x /usr/bin/time ] && have_time=yes

# Peak resident memory of a command in KiB (GNU time), or empty.
peak_kib() { sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$1"; }

# ---- 1. Damaged and unusual capture files ---------------------------------

# Cut inside a record (pcaps/truncated.pcap; integration.sh checks the
# alerts before the cut), inside the file header, and inside a pcapng block.
head -c 10 pcaps/demo.pcap >"$OUT/header-cut.pcap"
run header-cut -r "$OUT/header-cut.pcap"
expect_rc header-cut 1
expect_err header-cut "header-cut.pcap"
size=$(wc -c <pcaps/pcapng.pcapng)
head -c $((size - 100)) pcaps/pcapng.pcapng >"$OUT/block-cut.pcapng"
run block-cut -r "$OUT/block-cut.pcapng"
expect_rc block-cut 1
expect_err block-cut "block-cut.pcapng"
expect_err block-cut "truncated"
if [ "$(alerts "$OUT/block-cut.jsonl")" = 1 ]; then
	ok "block-cut: the alert before the cut is written"
else
	bad "block-cut: $(alerts "$OUT/block-cut.jsonl") alerts, want the 1 before the cut"
fi

# A snap length shorter than the headers: frames cut inside Ethernet, IPv4
# and TCP headers are counted as decode errors, never read past.
run snaplen-short -r pcaps/snaplen-short.pcap
expect_rc snaplen-short 0
if grep -q " 16 packets, .* 16 decode errors" "$OUT/snaplen-short.err"; then
	ok "snaplen-short: all 16 frames read, all 16 counted as decode errors"
else
	bad "snaplen-short: summary: $(head -1 "$OUT/snaplen-short.err")"
fi

# A pcapng whose two interfaces have different link types. libpcap (1.10)
# reads only files whose interfaces share one link type and refuses the
# second interface's description, so the file is refused as a whole.
run multi-link -r pcaps/multi-link.pcapng
expect_rc multi-link 1
expect_err multi-link "multi-link.pcapng"
expect_err multi-link "different from the type of the first interface"

# Not a capture: text, an empty file, a folder.
run notcap -r pcaps/not-a-capture.pcap
expect_rc notcap 1
expect_err notcap "not-a-capture.pcap"
: >"$OUT/empty.pcap"
run empty -r "$OUT/empty.pcap"
expect_rc empty 1
expect_err empty "empty.pcap"
run folder -r "$OUT"
expect_rc folder 1

# ---- 2. Outputs that cannot be written ------------------------------------

# A sink whose writes fail (/dev/full: ENOSPC) next to standard output: the
# failure is logged once naming the sink and counted (every record dropped),
# standard output still gets every alert, the capture is read to the end,
# and the exit status is 1 (records were lost) after the summary.
run full -r pcaps/demo.pcap -o json:/dev/full -o json:-
expect_rc full 1
expect_err full "output json:/dev/full: write failed: No space left on device"
expect_err full "json:/dev/full: 0 delivered, .* 7 dropped"
expect_err full "140 packets"
if [ "$(alerts "$OUT/full.jsonl")" = 7 ]; then
	ok "full: standard output still has the 7 alerts"
else
	bad "full: standard output has $(alerts "$OUT/full.jsonl") alerts, want 7"
fi

# A full spool: a sink that cannot be reached (a unix socket that does not
# exist; nothing leaves the machine) with a 2 KiB spool. Alerts wait in
# memory, then on disk, then are dropped: logged once, counted; standard
# output gets all 9 (suppression off); exit status 1 (records were lost).
mkdir -p "$OUT/spool"
cat >"$OUT/spool.conf" <<CONF
[alerts]
suppress = 0
[delivery]
memory = 4096
spool_dir = $OUT/spool
spool_size = 2048
flush_timeout = 1
[status]
listen = off
[output remote]
sink = syslog:unix:$OUT/spool/no-such.sock
CONF
run spool -c "$OUT/spool.conf" -r pcaps/demo.pcap -o json:-
expect_rc spool 1
expect_err spool "dropping alerts: the spool is full"
expect_err spool "no-such.sock: 0 delivered, 0 queued, [1-9][0-9]* spooled .* [1-9][0-9]* dropped"
if [ "$(alerts "$OUT/spool.jsonl")" = 9 ]; then
	ok "spool: standard output still has the 9 alerts"
else
	bad "spool: standard output has $(alerts "$OUT/spool.jsonl") alerts, want 9"
fi

# ---- 3. Floods within the configured bounds -------------------------------

# Peak memory (KiB) of the same binary and configuration on a flood of the
# same packets and bytes that does not grow the table under test, so that
# the bound holds whatever the build's fixed and per-packet costs are
# (threads, queues, buffers).
flood() { # flood NAME CONF FLOOD-ARGS...: applemon -r - on tests/flood.py's output
	name=$1
	conf=$2
	shift 2
	tests/flood.py "$@" |
		/usr/bin/time -v -o "$OUT/$name.time" "$APPLEMON" -S signatures -c "$conf" -r - \
			>"$OUT/$name.jsonl" 2>"$OUT/$name.err"
	echo $? >"$OUT/$name.rc"
}

check_bound() { # check_bound NAME PEAK_KIB BOUND_KIB WHAT
	if [ -z "$2" ]; then
		bad "$1: no peak memory measured"
	elif [ "$2" -lt "$3" ]; then
		ok "$1: peak ${2} KiB < bound ${3} KiB ($4)"
	else
		bad "$1: peak ${2} KiB >= bound ${3} KiB ($4)"
	fi
}

# Run-to-run variation of peak memory (thread arenas, queue fill) is about
# 0.5 MiB; the bounds allow this much on top.
slack=4096
if [ "$have_time" = no ]; then
	skipped "floods: /usr/bin/time (GNU time) is not installed"
else
	# 2 million flows through a table of 100000: evictions, bounded memory.
	# Bound: the same 2 million packets as 1000 flows, plus 1 KiB per flow the
	# table may hold (a flow costs about 150 bytes; unbounded, these 2 million
	# flows would take over 300 MB).
	printf '[flows]\nmax = 100000\n' >"$OUT/flood-flows.conf"
	flood flood-flows-base "$OUT/flood-flows.conf" flows 2000000 1000
	base=$(peak_kib "$OUT/flood-flows-base.time")
	flood flood-flows "$OUT/flood-flows.conf" flows 2000000
	expect_rc flood-flows 0
	if grep -q "2000000 packets, .* 2000000 flows" "$OUT/flood-flows.err" &&
		grep -q "flows evicted 1900000, peak 100000," "$OUT/flood-flows.err"; then
		ok "flood-flows: 2000000 flows, 1900000 evicted (counted), peak 100000 = [flows] max"
	else
		bad "flood-flows: summary: $(cat "$OUT/flood-flows.err")"
	fi
	check_bound flood-flows "$(peak_kib "$OUT/flood-flows.time")" $((base + 100000 + slack)) \
		"1000-flow run ${base} KiB + 100000 flows x 1 KiB + ${slack} KiB"

	# 50000 DNS answers of 40 addresses each for Apple names: 2 million
	# addresses offered to a cache of 1024. Bound: the same answers for names
	# that are not Apple's (nothing remembered), plus 1 KiB per entry (an entry
	# costs under 200 bytes; unbounded, these would take about 350 MB).
	printf '[dns]\ncache_max = 1024\n' >"$OUT/flood-dns.conf"
	flood flood-dns-base "$OUT/flood-dns.conf" dns 50000 other
	base=$(peak_kib "$OUT/flood-dns-base.time")
	flood flood-dns "$OUT/flood-dns.conf" dns 50000
	expect_rc flood-dns 0
	if grep -q "50000 packets," "$OUT/flood-dns.err" &&
		grep -q "DNS messages 50000 (0 malformed)" "$OUT/flood-dns.err"; then
		ok "flood-dns: all 50000 answers read"
	else
		bad "flood-dns: summary: $(cat "$OUT/flood-dns.err")"
	fi
	if grep -q "DNS cache 1024 of 1024 addresses, 2000000 remembered, [1-9][0-9]* replaced" \
		"$OUT/flood-dns.err"; then
		ok "flood-dns: 2000000 addresses remembered in a cache of 1024, replacements counted"
	else
		bad "flood-dns: $(grep "DNS cache" "$OUT/flood-dns.err")"
	fi
	check_bound flood-dns "$(peak_kib "$OUT/flood-dns.time")" $((base + 1024 + slack)) \
		"non-Apple run ${base} KiB + 1024 entries x 1 KiB + ${slack} KiB"
fi

# ---- 4. A live interface removed while capturing --------------------------

# In a network namespace of its own: a veth pair, applemon on one end, a DNS
# query for an Apple name sent from the other end (it never leaves the
# namespace: the peer address exists only as a neighbour entry), then the
# pair is deleted. applemon must stop with an error naming the interface,
# a non-zero status, and the alert written.
live_test() {
	ns=applemon-faults-$$
	if ! ip netns add "$ns" 2>"$OUT/live-setup.err"; then
		skipped "live: cannot create a network namespace: $(head -1 "$OUT/live-setup.err")"
		return
	fi
	# lo too: the status endpoint listens on 127.0.0.1 by default.
	if ! { ip -n "$ns" link set lo up &&
		ip -n "$ns" link add am-veth0 type veth peer name am-veth1 &&
		ip -n "$ns" link set am-veth0 up && ip -n "$ns" link set am-veth1 up &&
		ip -n "$ns" addr add 10.99.0.1/24 dev am-veth0; } 2>>"$OUT/live-setup.err"; then
		skipped "live: cannot set up the veth pair: $(head -1 "$OUT/live-setup.err")"
		ip netns del "$ns"
		return
	fi
	peer=$(ip -n "$ns" -o link show am-veth1 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	ip -n "$ns" neigh add 10.99.0.2 lladdr "$peer" dev am-veth0
	ip netns exec "$ns" "$APPLEMON" --sensor test -S signatures -i am-veth1 \
		-o "json:$OUT/live.jsonl" >"$OUT/live.stdout" 2>"$OUT/live.err" &
	pid=$!
	# Wait until the capture is open (the interface counts a packet socket).
	sleep 2
	ip netns exec "$ns" python3 -c '
import socket, struct
q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l for l in b"gateway.icloud.com".split(b".")) + b"\0\0\1\0\1"
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(q, ("10.99.0.2", 53))'
	sleep 1
	ip -n "$ns" link del am-veth0
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		bad "live: still running 10 s after its interface was deleted"
		kill "$pid"
	fi
	wait "$pid"
	echo $? >"$OUT/live.rc"
	ip netns del "$ns"
	got=$(cat "$OUT/live.rc")
	if [ "$got" != 0 ]; then ok "live: exit status $got (non-zero)"; else
		bad "live: exit status 0 after the interface disappeared"
	fi
	expect_err live "am-veth1"
	expect_err live "interface disappeared"
	if grep -q '"dns_query","value":"gateway.icloud.com"' "$OUT/live.jsonl" 2>/dev/null; then
		ok "live: the alert seen before the interface went is written"
	else
		bad "live: no alert for gateway.icloud.com in $OUT/live.jsonl"
	fi
}

if [ "$(id -u)" -ne 0 ]; then
	skipped "live: needs root (network namespace and veth pair)"
elif ! command -v ip >/dev/null 2>&1; then
	skipped "live: the ip command (iproute2) is not installed"
else
	live_test
fi

echo "faults: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
