#!/bin/sh
# Integration tests: run the applemon binary on the project's own generated
# captures (pcaps/, made by scripts/make-pcaps) and compare its JSON with the
# reviewed expectations in tests/expected/; check exit statuses and error
# messages for bad input, the policy, outputs, stdin and install.
#
#   tests/integration.sh ./applemon            run
#   tests/integration.sh ./applemon --update   rewrite tests/expected/ (review the diff!)
set -u
APPLEMON=${1:-./applemon}
UPDATE=${2:-}
OUT=tests/out/integration
rm -rf "$OUT"
mkdir -p "$OUT"
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

run() { # run NAME ARGS...: applemon with the common options, JSON to $OUT/NAME.jsonl
	name=$1
	shift
	"$APPLEMON" -q --sensor test -S signatures "$@" >"$OUT/$name.jsonl" 2>"$OUT/$name.err"
	echo $? >"$OUT/$name.rc"
}

expect_same() { # expect_same NAME: output equals tests/expected/NAME.jsonl
	if [ "$UPDATE" = "--update" ]; then
		cp "$OUT/$1.jsonl" "tests/expected/$1.jsonl"
	fi
	if diff -u "tests/expected/$1.jsonl" "$OUT/$1.jsonl" >"$OUT/$1.diff" 2>&1; then
		ok "$1: output matches tests/expected/$1.jsonl"
	else
		bad "$1: output differs (see $OUT/$1.diff)"
		head -20 "$OUT/$1.diff"
	fi
}

expect_rc() { # expect_rc NAME CODE
	got=$(cat "$OUT/$1.rc")
	if [ "$got" = "$2" ]; then ok "$1: exit status $2"; else bad "$1: exit status $got, want $2"; fi
}

expect_err() { # expect_err NAME PATTERN: stderr matches
	if grep -q -- "$2" "$OUT/$1.err"; then ok "$1: stderr says '$2'"; else
		bad "$1: stderr lacks '$2': $(head -3 "$OUT/$1.err")"
	fi
}

expect_count() { # expect_count NAME PATTERN N: lines of the output matching
	got=$(grep -c -- "$2" "$OUT/$1.jsonl")
	if [ "$got" = "$3" ]; then ok "$1: $3 lines match '$2'"; else
		bad "$1: $got lines match '$2', want $3"
	fi
}

# 1. Every generated capture: alerts and flow records as reviewed.
for cap in pcaps/*.pcap pcaps/*.pcapng; do
	name=$(basename "$cap")
	name=${name%.*}
	case $name in truncated | not-a-capture | multi-link) continue ;; esac  # tests/faults.sh
	run "$name" --flows -r "$cap"
	expect_rc "$name" 0
	expect_same "$name"
done

# 2. The demo: what README promises.
expect_count demo '"event_type":"alert"' 7
expect_count demo '"suppressed"' 0
expect_count demo '"sni":"www.hicloud.com"' 1
if grep '"event_type":"alert"' "$OUT/demo.jsonl" | grep -q -e hicloud -e notapple -e evil.example -e example.org; then
	bad "demo: a negative name raised an alert"
else
	ok "demo: no alert for hicloud.com, notapple.com, apple.com.evil.example, example.org"
fi

# Out-of-order, repeated and overlapping ClientHello segments: every SNI,
# and the first copy of a byte wins over a later, different one.
expect_count tls-reorder '"event_type":"alert"' 3
expect_count tls-reorder '"confidence":"high"' 6
expect_count tls-reorder 'evil' 0

# ASN: a database built by scripts/make-asn-db from tests/data/asn-test.csv
# maps 93.184.216.0/24 to AS714; the notapple.com flow to 93.184.216.34
# has no Apple name, so the ASN alone makes it an alert of confidence medium.
if scripts/make-asn-db --csv tests/data/asn-test.csv --out "$OUT/asn-test.mmdb" >"$OUT/make-asn-db.log" 2>&1; then
	ok "make-asn-db: test database built"
	printf '[signatures]\nasn_database = %s\n' "$OUT/asn-test.mmdb" >"$OUT/asn.conf"
	run asn --flows -c "$OUT/asn.conf" -r pcaps/demo.pcap
	expect_rc asn 0
	expect_count asn '"event_type":"alert".*"dest_ip":"93.184.216.34".*"confidence":"medium","signature":"AS714","evidence":\[{"source":"asn","value":"714"}\],"asn":714,"as_org":"Apple Inc., test range"' 1
	expect_count asn '"event_type":"flow".*"dest_ip":"93.184.216.34".*"asn":714' 1
	expect_count asn '"event_type":"alert".*"sni":"gateway.icloud.com"' 0
else
	bad "make-asn-db: $(tail -3 "$OUT/make-asn-db.log")"
fi
printf '[signatures]\nasn_database = %s\n' "$OUT/no-such.mmdb" >"$OUT/asn-missing.conf"
run asnmissing -c "$OUT/asn-missing.conf" -r pcaps/demo.pcap
expect_rc asnmissing 2
expect_err asnmissing 'asn_database: .*no-such.mmdb: cannot open'

# Without repeat suppression, the DNS lookups and the connections that
# follow them alert each: 9.
printf '[alerts]\nsuppress = 0\n' >"$OUT/nosuppress.conf"
run nosuppress -c "$OUT/nosuppress.conf" -r pcaps/demo.pcap
expect_count nosuppress '"event_type":"alert"' 9
expect_count nosuppress '"confidence":"medium","signature":"mesu.apple.com","evidence":\[{"source":"dns_answer","value":"mesu.apple.com"}\]' 1

# 3. Policy: only the office is watched; exemptions hold.
cat >"$OUT/policy.conf" <<'CONF'
[sensor]
name = office-tap
[policy officials]
hosts = 10.20.0.0/16
exempt = 10.20.1.12/32
CONF
"$APPLEMON" -q -S signatures -c "$OUT/policy.conf" -r pcaps/demo.pcap >"$OUT/policy.jsonl" 2>"$OUT/policy.err"
echo $? >"$OUT/policy.rc"
expect_rc policy 0
expect_count policy '"policy":"officials"' 4
expect_count policy '"src_ip":"192.0.2.50"' 0
expect_count policy '"src_ip":"10.20.1.12"' 0
expect_count policy '"sensor":"office-tap"' 4

# 4. Standard input, and -o json:FILE.
"$APPLEMON" -q --sensor test -S signatures --flows -r - <pcaps/demo.pcap >"$OUT/stdin.jsonl" 2>/dev/null
if cmp -s "$OUT/stdin.jsonl" "$OUT/demo.jsonl"; then ok "stdin: same output as the file"; else bad "stdin: output differs"; fi
rm -f "$OUT/file-sink.json"
"$APPLEMON" -q --sensor test -S signatures -r pcaps/demo.pcap -o "json:$OUT/file-sink.json" >"$OUT/file-sink.stdout"
if [ ! -s "$OUT/file-sink.stdout" ] && [ "$(grep -c '"event_type":"alert"' "$OUT/file-sink.json")" = 7 ]; then
	ok "json:FILE sink holds the 7 alerts, stdout empty"
else
	bad "json:FILE sink"
fi

# 5. Runtime failures: exit 1 with one line, after processing what was readable.
run missing -r pcaps/does-not-exist.pcap
expect_rc missing 1
expect_err missing "does-not-exist.pcap"
run truncated -r pcaps/truncated.pcap
expect_rc truncated 1
expect_err truncated "truncated"
if grep -q '"event_type":"alert"' "$OUT/truncated.jsonl"; then ok "truncated: alerts before the cut are written"; else bad "truncated: no alert written"; fi
run notcap -r pcaps/not-a-capture.pcap
expect_rc notcap 1

# 6. Usage, configuration and signature errors: exit 2, file and line.
run usage-none
expect_rc usage-none 2
run usage-both -r pcaps/demo.pcap -i lo
expect_rc usage-both 2
printf '[sensor]\nname = x\n[flows]\nmax = 100\nbogus_key = 1\n' >"$OUT/bad-key.conf"
run badkey -c "$OUT/bad-key.conf" -r pcaps/demo.pcap
expect_rc badkey 2
expect_err badkey "bad-key.conf:5"
printf '# ok\n[nonsense]\n' >"$OUT/bad-section.conf"
run badsection -c "$OUT/bad-section.conf" -r pcaps/demo.pcap
expect_rc badsection 2
expect_err badsection "bad-section.conf:2"
printf '[policy x]\nhosts = 10.0.0.0/33\n' >"$OUT/bad-prefix.conf"
run badprefix -c "$OUT/bad-prefix.conf" -r pcaps/demo.pcap
expect_rc badprefix 2
expect_err badprefix "bad-prefix.conf:2"
mkdir -p "$OUT/badsigs"
printf '# services\ndomain apple.com apple\ndomain icloud.com no-such-service\n' >"$OUT/badsigs/x.sig"
"$APPLEMON" -q -S "$OUT/badsigs" -r pcaps/demo.pcap >/dev/null 2>"$OUT/badsigs.err"
echo $? >"$OUT/badsigs.rc"
expect_rc badsigs 2
expect_err badsigs "x.sig:3"
run nosigs -S "$OUT/no-such-dir" -r pcaps/demo.pcap
expect_rc nosigs 2
run badfilter -r pcaps/demo.pcap -f "tcp port"
expect_rc badfilter 2

# Every kind of configuration mistake: exit 2, FILE:LINE: message.
conf_mistake() { # conf_mistake NAME LINE TEXT (printf format) [ARG]
	printf "$3" "${4:-}" >"$OUT/$1.conf"
	run "conf-$1" -c "$OUT/$1.conf" -r pcaps/demo.pcap
	expect_rc "conf-$1" 2
	expect_err "conf-$1" "$1.conf:$2: "
}
conf_mistake not-a-number 2 '[flows]\nmax = lots\n'
conf_mistake out-of-range 3 '[flows]\ntcp_timeout = 60\nmax = 1\n'
conf_mistake negative 2 '[flows]\nudp_timeout = -5\n'
conf_mistake empty-value 2 '[sensor]\nname =\n'
conf_mistake repeated-key 4 '[flows]\nmax = 100\n# again\nmax = 200\n'
conf_mistake not-a-bool 2 '[capture]\npromisc = maybe\n'
conf_mistake bad-format 3 '[output a]\nsink = json:/dev/null\nformat = xml\n'
conf_mistake no-sink 1 '[output a]\nformat = json\n'
conf_mistake output-twice 3 '[output a]\nsink = json:/dev/null\n[output a]\nsink = json:/dev/null\n'
conf_mistake needs-name 1 '[policy]\nhosts = 10.0.0.0/8\n'
conf_mistake takes-no-name 2 '\n[flows x]\nmax = 100\n'
conf_mistake no-bracket 1 '[flows\nmax = 100\n'
conf_mistake after-header 1 '[flows] x\n'
conf_mistake outside-section 2 '# flows\nmax = 100\n'
conf_mistake not-key-value 2 '[flows]\njust words\n'
conf_mistake no-hosts 1 '[policy x]\nexempt = 10.0.0.1\n'
conf_mistake host-bits 2 '[policy x]\nhosts = 10.0.0.1/8\n'
conf_mistake continued-prefix 3 '[policy x]\nhosts = 10.0.0.0/8\n  10.1.0.0/33\n'
conf_mistake bad-sink 4 '[status]\nlisten = off\n[output a]\nsink = xml:/tmp/x\n'
conf_mistake sink-format 3 '[output a]\n# cef, leef, ecs or json\nsink = json:-,format=xml\n'
conf_mistake sink-no-file 2 '[output a]\nsink = json:%s/no-such-dir/x.json\n' "$OUT"
conf_mistake ttl-order 3 '[dns]\nmin_ttl = 500\nmax_ttl = 100\n'
conf_mistake long-line 2 "[sensor]\\nname = $(printf '%0300d' 0)\\n"
conf_mistake nul-byte 2 '[sensor]\nname = a\000b\n'
run conf-missing -c "$OUT/no-such.conf" -r pcaps/demo.pcap
expect_rc conf-missing 2
expect_err conf-missing "no-such.conf: cannot open"
run conf-folder -c "$OUT" -r pcaps/demo.pcap
expect_rc conf-folder 2

# Every kind of signature mistake: exit 2, FILE:LINE: message.
sig_mistake() { # sig_mistake NAME LINE TEXT (printf format)
	mkdir -p "$OUT/sig-$1"
	printf "$3" >"$OUT/sig-$1/$1.sig"
	run "sig-$1" -S "$OUT/sig-$1" -r pcaps/demo.pcap
	expect_rc "sig-$1" 2
	expect_err "sig-$1" "$1.sig:$2: "
}
sig_mistake directive 2 '# x\ndomian apple.com apple\n'
sig_mistake no-service 1 'domain apple.com\n'
sig_mistake extra-field 1 'domain apple.com apple extra\n'
sig_mistake bad-name 1 'domain -apple..com apple\n'
sig_mistake wildcard 1 'domain *.apple.com apple\n'
sig_mistake long-name 1 "domain $(printf '%0260d' 0).com apple\\n"
sig_mistake bad-prefix 1 'prefix 17.0.0.0/40 apple\n'
sig_mistake prefix-host-bits 1 'prefix 17.0.0.1/8 apple\n'
sig_mistake bad-asn 1 'asn AS714 apple\n'
sig_mistake asn-range 1 'asn 99999999999 apple\n'
sig_mistake bad-port 1 'port sctp/80 apple\n'
sig_mistake port-range 1 'port tcp/70000 apple\n'
sig_mistake conflict 3 'domain apple.com apple\n# x\ndomain apple.com icloud\n'
sig_mistake nul-byte 2 'domain apple.com apple\ndomain a\000b.com apple\n'
mkdir -p "$OUT/sig-cross"
printf 'domain apple.com apple\n' >"$OUT/sig-cross/a.sig"
printf '\n\ndomain apple.com icloud\n' >"$OUT/sig-cross/b.sig"
run sig-cross -S "$OUT/sig-cross" -r pcaps/demo.pcap
expect_rc sig-cross 2
expect_err sig-cross "b.sig:3: "
mkdir -p "$OUT/sig-empty"
run sig-empty -S "$OUT/sig-empty" -r pcaps/demo.pcap
expect_rc sig-empty 2
expect_err sig-empty "no \*.sig files"
run sig-file -S signatures/apple-cdn.sig -r pcaps/demo.pcap
expect_rc sig-file 2

# 7. A BPF filter applies.
run filtered -r pcaps/demo.pcap -f "not port 53"
expect_count filtered '"app_proto":"dns"' 0

# 8. Summary on stderr.
"$APPLEMON" -S signatures -r pcaps/demo.pcap >/dev/null 2>"$OUT/summary.err"
if grep -q "packets, .* bytes, .* flows, 7 alerts, 0 decode errors" "$OUT/summary.err"; then
	ok "summary: packets, bytes, flows, alerts, decode errors"
else
	bad "summary: $(cat "$OUT/summary.err")"
fi

# 9. make install into a scratch prefix runs from there with its signatures.
if make -s install PREFIX="$PWD/$OUT/prefix" >"$OUT/install.log" 2>&1 &&
	[ -x "$OUT/prefix/bin/applemon" ] && [ -f "$OUT/prefix/etc/applemon/applemon.conf.sample" ] &&
	"$OUT/prefix/bin/applemon" -q -S "$OUT/prefix/share/applemon/signatures" -r pcaps/demo.pcap |
	grep -q '"event_type":"alert"'; then
	ok "install: binary, signatures and sample configuration installed and usable"
else
	bad "install: see $OUT/install.log"
fi
if "$APPLEMON" -t -S signatures -c applemon.conf.sample >/dev/null 2>&1; then
	ok "sample configuration loads"
else
	bad "sample configuration does not load"
fi

echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
