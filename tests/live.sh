#!/bin/sh
# Live capture, in network namespaces this test creates (nothing reaches
# the host's own network: every packet travels a veth pair between two
# namespaces, and applemon listens inside one of them).
#
#   tests/live.sh ./applemon
#
# A. Real connections. Namespace "cli" (10.98.0.1) talks to "srv"
#    (10.98.0.2, .10, .20) over a veth pair; applemon watches the cli end
#    with 2 workers, as user nobody in an empty chroot. srv runs openssl
#    s_server and dnsmasq, which answers Apple names with .20.
#      - curl --resolve www.icloud.com:443:10.98.0.10 makes a real TLS
#        connection: alert with the SNI, within one second;
#      - a DNS query for gateway.icloud.com, then a TLS connection to the
#        answered address without a server name: alert attributed through
#        DNS (medium, dns_answer), within one second.
# B. Rate and fanout. tcpreplay sends 400,000 packets (40,000 TCP
#    connections, both directions) at 200,000 packets per second into a
#    veth pair; applemon with 2 workers on the other end must receive every
#    one (its summary and pcap_stats: no drop), and every connection must
#    come out as one complete flow record (6 packets to the server, 4 back):
#    each flow's packets reached one worker.
#
# Needs root and network namespaces; the tools come from
# `scripts/install-deps live` (dnsmasq, curl, openssl, tcpreplay), which
# this test runs. Each missing piece is reported as SKIP.
set -u
APPLEMON=${1:-./applemon}
case $APPLEMON in /*) ;; *) APPLEMON=$(pwd)/$APPLEMON ;; esac
OUT=$(pwd)/tests/out/live
rm -rf "$OUT"
mkdir -p "$OUT"
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
skip() { echo "SKIP: live: $1"; }

if [ "$(id -u)" != 0 ]; then
	skip "needs root (network namespaces); not run"
	exit 0
fi
if ! command -v ip >/dev/null 2>&1; then
	scripts/install-deps live >/dev/null 2>&1
fi
if ! command -v ip >/dev/null 2>&1 || ! ip netns add "amprobe$$" 2>/dev/null; then
	skip "no ip(8) or no network namespace support; not run"
	exit 0
fi
ip netns del "amprobe$$"
scripts/install-deps live >"$OUT/install-deps.log" 2>&1 ||
	echo "live: scripts/install-deps live failed (see $OUT/install-deps.log); using what is there"

NS=am$$
CLI=$NS-cli SRV=$NS-srv REP=$NS-rep MON=$NS-mon
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	for n in $CLI $SRV $REP $MON; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup EXIT INT TERM

now_ms() { date +%s%3N; }

# wait_line FILE PATTERN MS: until FILE has a line matching PATTERN; prints
# the milliseconds it took, or nothing after MS.
wait_line() {
	t0=$(now_ms)
	while :; do
		if grep -q -- "$2" "$1" 2>/dev/null; then
			echo $(($(now_ms) - t0))
			return 0
		fi
		[ $(($(now_ms) - t0)) -gt "$3" ] && return 1
		sleep 0.01
	done
}

# wait_uid PID UID: until the process runs as UID (it has opened its
# capture and dropped privileges).
wait_uid() {
	i=0
	while [ $i -lt 100 ]; do
		grep -q "^Uid:[[:space:]]*$2[[:space:]]" "/proc/$1/status" 2>/dev/null && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

NOBODY=$(id -u nobody 2>/dev/null || echo 65534)
cat >"$OUT/live.conf" <<'CONF'
[alerts]
suppress = 0
[status]
listen = off
CONF

# ---- A. real TLS and DNS ---------------------------------------------------
partA() {
	for t in curl openssl dnsmasq python3; do
		command -v $t >/dev/null 2>&1 || { skip "A: $t missing"; return; }
	done
	ip netns add $CLI && ip netns add $SRV || { bad "A: cannot create namespaces"; return; }
	ip link add c0 netns $CLI type veth peer name s0 netns $SRV || { bad "A: no veth"; return; }
	ip -n $CLI addr add 10.98.0.1/24 dev c0
	ip -n $SRV addr add 10.98.0.2/24 dev s0
	ip -n $SRV addr add 10.98.0.10/32 dev s0
	ip -n $SRV addr add 10.98.0.20/32 dev s0
	for n in $CLI $SRV; do ip -n $n link set lo up; done
	ip -n $CLI link set c0 up
	ip -n $SRV link set s0 up
	ip -n $CLI route add 10.98.0.0/24 dev c0 2>/dev/null

	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=www.icloud.com \
		-keyout "$OUT/key.pem" -out "$OUT/cert.pem" >/dev/null 2>&1
	ip netns exec $SRV openssl s_server -accept 443 -cert "$OUT/cert.pem" -key "$OUT/key.pem" \
		-www -quiet >"$OUT/s_server.log" 2>&1 &
	PIDS="$PIDS $!"
	ip netns exec $SRV dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
		--listen-address=10.98.0.2 --bind-interfaces --user=root \
		--pid-file="$OUT/dnsmasq.pid" --address=/icloud.com/10.98.0.20 \
		>"$OUT/dnsmasq.log" 2>&1 &
	PIDS="$PIDS $!"

	mkdir -p "$OUT/empty"
	# Under AddressSanitizer, leak checking at exit needs /proc, which the
	# chroot hides: it is left to part B and the other tiers.
	ip netns exec $CLI env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		"$APPLEMON" -S signatures -c "$OUT/live.conf" -i c0 --workers 2 \
		-u nobody --chroot "$OUT/empty" --flows -o "json:$OUT/a.json" 2>"$OUT/a.err" &
	AM=$!
	PIDS="$PIDS $AM"
	if wait_uid $AM "$NOBODY"; then
		ok "A: applemon opened c0, then runs as nobody ($NOBODY) in a chroot"
	else
		bad "A: applemon did not come up as nobody: $(cat "$OUT/a.err")"
		return
	fi
	if [ "$(readlink /proc/$AM/root)" = "$OUT/empty" ]; then
		ok "A: its root is the chroot folder"
	else
		bad "A: root is $(readlink /proc/$AM/root)"
	fi
	sleep 0.3   # s_server and dnsmasq listening

	ip netns exec $CLI curl -sk --max-time 5 --resolve www.icloud.com:443:10.98.0.10 \
		https://www.icloud.com/ -o /dev/null
	rc=$?
	if ms=$(wait_line "$OUT/a.json" '"event_type":"alert".*"sni","value":"www.icloud.com"' 1000); then
		ok "A: curl www.icloud.com (rc $rc): alert with the SNI after $ms ms"
		echo "live: alert latency, SNI: $ms ms"
	else
		bad "A: no SNI alert within 1 s of curl (rc $rc)"
	fi

	addr=$(ip netns exec $CLI python3 - <<'PY'
import socket, struct
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in "gateway.icloud.com".split(".")) + b"\0"
q += struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(q, ("10.98.0.2", 53))
r = s.recv(512)
print(".".join(str(b) for b in r[-4:]))
PY
)
	if [ "$addr" = 10.98.0.20 ]; then
		ok "A: dnsmasq answered gateway.icloud.com with $addr"
	else
		bad "A: DNS answer '$addr'"
	fi
	ip netns exec $CLI curl -sk --max-time 5 https://10.98.0.20/ -o /dev/null
	rc=$?
	if ms=$(wait_line "$OUT/a.json" '"event_type":"alert".*"dest_ip":"10.98.0.20".*"confidence":"medium".*"source":"dns_answer","value":"gateway.icloud.com"' 1000); then
		ok "A: connection to 10.98.0.20 without SNI (rc $rc): attributed through DNS after $ms ms"
		echo "live: alert latency, DNS attribution: $ms ms"
	else
		bad "A: no DNS-attributed alert within 1 s (rc $rc)"
	fi
	if grep '"dest_ip":"10.98.0.20"' "$OUT/a.json" | grep -q '"source":"sni"'; then
		bad "A: the connection to the address carried an SNI after all"
	fi

	kill -INT $AM
	wait $AM
	rc=$?
	if [ "$rc" = 0 ]; then ok "A: applemon stopped cleanly on SIGINT"; else
		bad "A: exit status $rc: $(cat "$OUT/a.err")"
	fi
	if grep -q "DROPPED" "$OUT/a.err"; then bad "A: dropped packets: $(grep DROPPED "$OUT/a.err")"; fi
}

# ---- B. 200,000 packets per second, fanout -------------------------------
partB() {
	command -v tcpreplay >/dev/null 2>&1 || { skip "B: tcpreplay missing (scripts/install-deps live)"; return; }
	ip netns add $REP && ip netns add $MON || { bad "B: cannot create namespaces"; return; }
	ip link add r0 netns $REP type veth peer name r1 netns $MON || { bad "B: no veth"; return; }
	for n in $REP $MON; do ip -n $n link set lo up; done
	ip -n $REP link set r0 up
	ip -n $MON link set r1 up
	python3 - "$OUT/flows.pcap" <<'PY'
import struct, sys
def frame(src, dst, l4):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, 6, 0, src, dst)
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + l4
def tcp(sp, dp, seq, ack, flags, n=0):
    return struct.pack(">HHIIBBHHH", sp, dp, seq, ack, 0x50, flags, 65535, 0, 0) + b"x" * n
out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
t = 1700000000 * 1000000
for i in range(4000):
    c = bytes([10, 50, i >> 8, i & 255])
    s = bytes([10, 60 + i % 7, (i * 7) & 255, (i * 13) & 255])
    cp, sp = 20000 + i, 443
    seq = [(c, s, tcp(cp, sp, 1, 0, 0x02)), (s, c, tcp(sp, cp, 9, 2, 0x12)),
           (c, s, tcp(cp, sp, 2, 10, 0x10)), (c, s, tcp(cp, sp, 2, 10, 0x18, 100)),
           (s, c, tcp(sp, cp, 10, 102, 0x10)), (s, c, tcp(sp, cp, 10, 102, 0x18, 200)),
           (c, s, tcp(cp, sp, 102, 210, 0x10)), (c, s, tcp(cp, sp, 102, 210, 0x11)),
           (s, c, tcp(sp, cp, 210, 103, 0x11)), (c, s, tcp(cp, sp, 103, 211, 0x10))]
    for a, b, l4 in seq:
        p = frame(a, b, l4)
        t += 5
        out.append(struct.pack("<IIII", t // 1000000, t % 1000000, len(p), len(p)) + p)
open(sys.argv[1], "wb").write(b"".join(out))
PY
	ip netns exec $MON "$APPLEMON" -S signatures -c "$OUT/live.conf" -i r1 -f tcp --workers 2 \
		-u nobody --flows -o "json:$OUT/b.json" 2>"$OUT/b.err" &
	AM=$!
	PIDS="$PIDS $AM"
	wait_uid $AM "$NOBODY" || { bad "B: applemon did not start: $(cat "$OUT/b.err")"; return; }
	ip netns exec $REP tcpreplay -i r0 --pps=200000 --loop=10 "$OUT/flows.pcap" \
		>"$OUT/tcpreplay.log" 2>&1
	sent=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' "$OUT/tcpreplay.log" | head -1)
	rate=$(sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' "$OUT/tcpreplay.log" | head -1)
	echo "live: tcpreplay sent ${sent:-?} packets at ${rate:-?} packets/s"
	# Until applemon has read them all (SIGUSR1 reports its counters), 5 s at most.
	i=0
	while [ $i -lt 50 ]; do
		kill -USR1 $AM
		sleep 0.1
		n=$(sed -n 's/^applemon: capture: \([0-9]*\) packets.*/\1/p' "$OUT/b.err" | tail -1)
		[ "${n:-0}" -ge "${sent:-0}" ] && break
		i=$((i + 1))
	done
	ip -n $MON -s link show r1 >"$OUT/r1.stats" 2>&1
	kill -INT $AM
	wait $AM
	got=$(sed -n 's/^applemon: \([0-9]*\) packets,.*/\1/p' "$OUT/b.err")
	if [ -n "$sent" ] && [ "$sent" = 400000 ] && [ "$got" = "$sent" ] && ! grep -q DROPPED "$OUT/b.err"; then
		ok "B: $got of $sent packets at ${rate} packets/s, no drop (kernel or interface)"
	else
		bad "B: sent ${sent:-?} at ${rate:-?} pps, applemon counted ${got:-?}: $(grep -e DROPPED -e workers "$OUT/b.err"); r1: $(tr -s ' \n' ' ' <"$OUT/r1.stats")"
	fi
	case ${rate%.*} in
	'' | *[!0-9]*) bad "B: no tcpreplay rate" ;;
	*) [ "${rate%.*}" -ge 190000 ] && ok "B: replay rate ${rate} packets/s (target 200,000)" ||
		echo "live: tcpreplay reached only ${rate} packets/s on this machine" ;;
	esac
	flows=$(grep -c '"event_type":"flow"' "$OUT/b.json")
	whole=$(grep '"event_type":"flow"' "$OUT/b.json" | grep -c '"pkts_toserver":6,"pkts_toclient":4,')
	if [ "$flows" = 40000 ] && [ "$whole" = 40000 ]; then
		ok "B: 40000 flow records, each whole (6 + 4 packets): every flow stayed on one worker"
	else
		bad "B: $flows flow records, $whole whole (want 40000 each)"
	fi
	if grep -q 'applemon: 2 workers, packets each: [1-9][0-9]* [1-9][0-9]*' "$OUT/b.err"; then
		ok "B: fanout shared the traffic ($(grep -o 'packets each: [0-9]* [0-9]*' "$OUT/b.err"))"
	else
		bad "B: fanout did not share the traffic: $(grep workers "$OUT/b.err")"
	fi
}

partA
partB
echo "live: $pass passed, $fail failed"
[ "$fail" = 0 ]
