#!/usr/bin/env bash
# Short fuzz runs: each fuzz target for a few seconds (the seed corpora in testdata/fuzz/ also run
# in every plain `go test`). The whole step takes about 3 minutes on 2 cores (thirteen targets;
# FuzzStoresAgree, which plays each input on two stores, one over miniredis, takes about 50 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can fail a target with a
# bare "context deadline exceeded" at the deadline when a worker is busy (go.dev/issue/75804, fixed
# in Go 1.27); CI hit it on FuzzSendRequest with no crasher. A count has no deadline to race.
fuzztime=${FUZZTIME:-20000x}
targets=(
  "./mockserver FuzzSendRequest"
  "./mockserver/params FuzzParseParams"
  "./mockserver/requestlog FuzzRequestLine"
  "./mockserver/sandbox FuzzAdminJSON"
  "./mockserver/sandbox FuzzUserWrites"
  "./baidupush FuzzOpen"
  "./baidupush FuzzDecrypt"
  "./config FuzzParse"
  "./contract FuzzCodeLine"
  "./internal/spec FuzzCompiledCheck"
  "./store/redisstore FuzzAppendEntryJSON"
  "./store/redisstore FuzzStoresAgree"
  "./store/memstore FuzzRecord"
)
for t in "${targets[@]}"; do
  set -- $t
  echo "fuzz $2 ($1, $fuzztime)"
  go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" -timeout 4m "$1" >/tmp/fuzz-$2.log 2>&1 || { cat /tmp/fuzz-$2.log; exit 1; }
  tail -1 /tmp/fuzz-$2.log
done
