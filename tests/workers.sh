#!/bin/sh
# Several workers on a capture file give the records one worker gives.
#
#   tests/workers.sh ./applemon
#
# 1. Every capture of pcaps/ (and of ../shared/corpus when present): the
#    alerts and flow records of 2 and 3 workers (corpus: 2), sorted, equal
#    those of 1.
# 1b. One worker with and without a reading thread ([capture]
#    reader_thread): the same records, byte for byte.
# 2. A generated capture where each client's DNS answer and its connection
#    to the answered address (no name of its own) sit on different
#    workers: every connection is still attributed through DNS, with 1, 2
#    and 4 workers, and the records are the same.
# 3. Each flow is handled by one worker: one flow record per 5-tuple, no
#    flow_id twice, and the work was spread over the workers.
set -u
APPLEMON=${1:-./applemon}
OUT=tests/out/workers
rm -rf "$OUT"
mkdir -p "$OUT"
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

records() { # records OUTFILE WORKERS ARGS...: sorted JSON lines
	out=$1
	n=$2
	shift 2
	"$APPLEMON" -q --sensor test -S signatures --flows --workers "$n" "$@" 2>"$out.err" |
		sort >"$out"
}

# 1. The project's captures and the corpus.
same=0
differ=0
for cap in pcaps/*.pcap pcaps/*.pcapng ../shared/corpus/*/*.pcap ../shared/corpus/*/*.pcapng; do
	[ -f "$cap" ] || continue
	name=$(echo "$cap" | tr '/.' '__')
	records "$OUT/$name.1" 1 -r "$cap"
	counts="2 3"
	case $cap in ../shared/*) counts=2 ;; esac
	for n in $counts; do
		records "$OUT/$name.$n" "$n" -r "$cap"
		if cmp -s "$OUT/$name.1" "$OUT/$name.$n"; then
			same=$((same + 1))
		else
			differ=$((differ + 1))
			bad "$cap: $n workers write other records than 1"
			diff "$OUT/$name.1" "$OUT/$name.$n" | head -5
		fi
	done
done
[ -d ../shared/corpus ] || echo "SKIP: ../shared/corpus absent, corpus captures not compared"
if [ "$differ" = 0 ] && [ "$same" -gt 0 ]; then
	ok "$same runs with several workers: same alerts and flow records as 1 worker"
fi

# 1b. One worker with a reading thread (the default on two CPUs or more) and
#     without: the same records in the same order, byte for byte - the
#     engine sees the same frames in the same order either way.
printf '[capture]\nreader_thread = false\n' >"$OUT/direct.conf"
if [ "$(nproc)" -lt 2 ]; then
	echo "SKIP: one CPU, no reading thread to compare"
else
	same=0
	differ=0
	for cap in pcaps/*.pcap pcaps/*.pcapng ../shared/corpus/*/*.pcap ../shared/corpus/*/*.pcapng; do
		[ -f "$cap" ] || continue
		name=$(echo "$cap" | tr '/.' '__')
		"$APPLEMON" -q --sensor test -S signatures --flows --workers 1 -r "$cap" \
			>"$OUT/$name.reader" 2>/dev/null
		"$APPLEMON" -q --sensor test -S signatures --flows --workers 1 -r "$cap" \
			-c "$OUT/direct.conf" >"$OUT/$name.direct" 2>/dev/null
		if cmp -s "$OUT/$name.reader" "$OUT/$name.direct"; then
			same=$((same + 1))
		else
			differ=$((differ + 1))
			bad "$cap: a reading thread changes the records"
			diff "$OUT/$name.direct" "$OUT/$name.reader" | head -5
		fi
	done
	if [ "$differ" = 0 ] && [ "$same" -gt 0 ]; then
		ok "$same captures: one worker writes the same records with a reading thread as without"
	fi
fi

# 2. DNS correlation across workers.
python3 - "$OUT/dns-across.pcap" <<'PY'
import struct, sys

def csum(b):
    s = sum((b[i] << 8) | b[i + 1] for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def ip4(a):
    return bytes(int(x) for x in a.split("."))

def frame(src, dst, proto, l4):
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0,
                               ip4(src), ip4(dst)))
    ip[10:12] = struct.pack(">H", csum(bytes(ip)))
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + bytes(ip) + l4

def udp(sp, dp, data):
    return struct.pack(">HHHH", sp, dp, 8 + len(data), 0) + data

def tcp(sp, dp, seq, ack, flags, data=b""):
    return struct.pack(">HHIIBBHHH", sp, dp, seq, ack, 0x50, flags, 65535, 0, 0) + data

def qname(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"

pkts = []
for i in range(300):
    cli = "10.1.%d.%d" % (i // 250, i % 250 + 1)
    srv = "10.99.%d.%d" % (i // 250, i % 250 + 1)
    name = "h%d.icloud.com" % i
    q = qname(name) + struct.pack(">HH", 1, 1)
    query = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + q
    answer = (struct.pack(">HHHHHH", i, 0x8180, 1, 1, 0, 0) + q +
              struct.pack(">HHHIH", 0xC00C, 1, 1, 300, 4) + ip4(srv))
    port = 40000 + i
    get = b"GET / HTTP/1.0\r\nUser-Agent: t\r\n\r\n"
    pkts += [frame(cli, "10.0.0.53", 17, udp(port, 53, query)),
             frame("10.0.0.53", cli, 17, udp(53, port, answer)),
             frame(cli, srv, 6, tcp(port, 80, 1000, 0, 0x02)),
             frame(srv, cli, 6, tcp(80, port, 5000, 1001, 0x12)),
             frame(cli, srv, 6, tcp(port, 80, 1001, 5001, 0x10)),
             frame(cli, srv, 6, tcp(port, 80, 1001, 5001, 0x18, get)),
             frame(srv, cli, 6, tcp(80, port, 5001, 1001 + len(get), 0x11)),
             frame(cli, srv, 6, tcp(port, 80, 1001 + len(get), 5002, 0x11))]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    t = 1700000000 * 1000000
    for p in pkts:
        t += 50
        f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(p), len(p)) + p)
PY
printf '[alerts]\nsuppress = 0\n' >"$OUT/nosuppress.conf"
for n in 1 2 4; do
	records "$OUT/dns-across.$n" "$n" -c "$OUT/nosuppress.conf" -r "$OUT/dns-across.pcap"
	got=$(grep '"event_type":"alert"' "$OUT/dns-across.$n" | grep -c '"confidence":"medium".*"source":"dns_answer"')
	if [ "$got" = 300 ]; then
		ok "dns-across, $n workers: all 300 connections attributed through DNS"
	else
		bad "dns-across, $n workers: $got of 300 connections attributed through DNS"
	fi
done
for n in 2 4; do
	if cmp -s "$OUT/dns-across.1" "$OUT/dns-across.$n"; then
		ok "dns-across: $n workers write the records 1 worker writes"
	else
		bad "dns-across: $n workers write other records"
	fi
done

# 3. One flow, one worker.
"$APPLEMON" --sensor test -S signatures --flows --workers 2 -c "$OUT/nosuppress.conf" \
	-r "$OUT/dns-across.pcap" >"$OUT/spread.json" 2>"$OUT/spread.err"
flows=$(grep -c '"event_type":"flow"' "$OUT/spread.json")
ids=$(grep '"event_type":"flow"' "$OUT/spread.json" | sed 's/.*"flow_id":\([0-9]*\).*/\1/' | sort -u | wc -l)
tuples=$(grep '"event_type":"flow"' "$OUT/spread.json" |
	sed 's/.*"src_ip":"\([^"]*\)","src_port":\([0-9]*\),"dest_ip":"\([^"]*\)","dest_port":\([0-9]*\),"proto":"\([A-Z]*\)".*/\1 \2 \3 \4 \5/' |
	sort -u | wc -l)
if [ "$flows" = 600 ] && [ "$ids" = 600 ] && [ "$tuples" = 600 ]; then
	ok "spread: 600 flows, 600 flow ids, 600 tuples: no flow split between workers"
else
	bad "spread: $flows flow records, $ids ids, $tuples tuples (want 600 each)"
fi
if grep -q 'applemon: 2 workers, packets each: [1-9][0-9]* [1-9][0-9]*;' "$OUT/spread.err"; then
	ok "spread: both workers had packets ($(grep -o 'packets each: [0-9]* [0-9]*' "$OUT/spread.err"))"
else
	bad "spread: work not shared: $(grep workers "$OUT/spread.err")"
fi
if grep -q 'fast path [0-9]* packets ([0-9.]*%)' "$OUT/spread.err"; then
	ok "summary reports the fast-path share"
else
	bad "summary lacks the fast-path share"
fi

# Usage.
"$APPLEMON" -q -S signatures --workers 0 -r pcaps/demo.pcap >/dev/null 2>"$OUT/w0.err"
rc=$?
if [ "$rc" = 2 ] && grep -q "workers" "$OUT/w0.err"; then ok "--workers 0: usage error"; else
	bad "--workers 0: exit $rc"
fi

echo "workers: $pass passed, $fail failed"
[ "$fail" = 0 ]
