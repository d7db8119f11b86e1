#!/bin/sh
# Regression tier for hostile input: every input a fuzz target once crashed
# on (tests/regress/TARGET/, kept after the fix) and seeds made from the
# project's captures are replayed through the fuzz targets' own harness
# code (fuzz/fuzz_TARGET.c linked with fuzz/replay.c). Under SANITIZE=1 the
# replay runs with AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   tests/regress.sh BUILD/fuzz
set -u
BIN=${1:-build/fuzz}
OUT=tests/out/regress
rm -rf "$OUT"
mkdir -p "$OUT"
pass=0
fail=0

if ! scripts/fuzz-seeds "$OUT/seeds" pcaps/*.pcap pcaps/*.pcapng >"$OUT/seeds.log" 2>&1; then
	echo "FAIL fuzz-seeds: $(tail -3 "$OUT/seeds.log")"
	exit 1
fi
for replay in "$BIN"/replay_*; do
	t=${replay##*/replay_}
	for dir in tests/regress/"$t" "$OUT/seeds/$t"; do
		[ -d "$dir" ] || continue
		n=$(find "$dir" -type f | wc -l)
		[ "$n" -gt 0 ] || continue
		if find "$dir" -type f -print0 | sort -z | xargs -0 "$replay" >"$OUT/$t.log" 2>&1; then
			pass=$((pass + 1))
			echo "ok   $t: $n inputs of $dir"
		else
			fail=$((fail + 1))
			echo "FAIL $t: $dir (see $OUT/$t.log)"
			tail -5 "$OUT/$t.log"
		fi
	done
done
echo "regress: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
