#!/bin/sh
# Corpus tier: every capture of ../shared/corpus (skips visibly without it).
set -eu
APPLEMON=${1:-./applemon}
SHARED=${APPLEMON_SHARED:-../shared}
exec python3 tests/corpus_check.py "$APPLEMON" "$SHARED" tests/out/corpus
