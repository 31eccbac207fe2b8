#!/usr/bin/env bash
# Fuzz the decoders that face the network with libFuzzer (issue 7; Fuzz/README.md).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]     # default 30 s, every target
#   scripts/fuzz.sh 3600 transfer-body                    # an hour on one, by hand
#
# Builds Fuzz/ (release, -sanitize=fuzzer,address), then runs each target for the given time on
# a working corpus in .build/fuzz/corpus/<target> (kept between runs, so runs by hand build on
# each other), seeded from Fuzz/Seeds/<target> and, for the JSON targets, every proof and key of
# Tests/Vectors (or $ZKSETTLE_VECTORS). A finding (a crash, a broken promise, a leak, a timeout) is saved under
# .build/fuzz/findings/<target>/ and fails the run; copy it into Fuzz/Regressions/<target>/ once
# fixed, and the ordinary test run replays it from then on. Prints one JSON object.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-30}
shift || true
ALL=(proof-json vk-json transfer-body note-ciphertext address-string server-answer)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")
VECTORS=${ZKSETTLE_VECTORS:-Tests/Vectors}
[ -f "$VECTORS/groth16/manifest.json" ] || { echo "error: no reference vectors in $VECTORS" >&2; exit 2; }
WORK=.build/fuzz

# One combined -sanitize=fuzzer,address: swiftc keeps only the last -sanitize flag, and
# `swift build --sanitize=fuzzer --sanitize=address` passes two, in no fixed order, so a build
# gets coverage without AddressSanitizer or the reverse. --sanitize=fuzzer stays for SwiftPM's
# own part (libFuzzer's main at link time); the -Xswiftc flag comes after it and wins.
BUILD=(swift build --package-path Fuzz -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address)
echo "building Fuzz/ with -sanitize=fuzzer,address (release)" >&2
"${BUILD[@]}" >&2
BIN=$("${BUILD[@]}" --show-bin-path)

# Our code must carry AddressSanitizer's checks (the runtime alone is linked either way).
# (The count, not grep -q: under pipefail, grep -q leaving early kills nm with SIGPIPE.)
asan_checks=$(nm "$BIN/FuzzTargets.build/FuzzTarget.swift.o" | grep -c __asan_report || true)
if [ "$asan_checks" -eq 0 ]; then
  echo "error: Fuzz/ was built without AddressSanitizer's instrumentation" >&2; exit 1
fi

status=0
results=()
for t in "${TARGETS[@]}"; do
  [ -d "Fuzz/Seeds/$t" ] || { echo "error: unknown target $t (known: ${ALL[*]})" >&2; exit 2; }
  corpus=$WORK/corpus/$t; findings=$WORK/findings/$t; log=$WORK/$t.log
  mkdir -p "$corpus" "$findings"
  seeds=$WORK/seeds/$t; rm -rf "$seeds"; mkdir -p "$seeds"; cp Fuzz/Seeds/"$t"/* "$seeds/"
  case $t in
    proof-json) name=proof.json ;;
    vk-json) name=verification_key.json ;;
    *) name= ;;
  esac
  if [ -n "$name" ] && [ -d "$VECTORS/groth16" ]; then
    i=0; while IFS= read -r f; do cp "$f" "$seeds/vector-$i"; i=$((i + 1)); done < <(find "$VECTORS/groth16" -name "$name" | sort)
  fi
  echo "fuzzing $t for ${SECONDS_PER_TARGET}s (seeds: $(ls "$seeds" | wc -l), corpus: $(ls "$corpus" | wc -l))" >&2
  dict=(); [ -f "Fuzz/Dictionaries/$t.dict" ] && dict=(-dict="Fuzz/Dictionaries/$t.dict")
  rc=0
  # SWIFT_BACKTRACE off: Swift's crash backtracer reads memory ASan then reports as a second error.
  SWIFT_BACKTRACE=enable=no "$BIN/fuzz-$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    "${dict[@]}" -artifact_prefix="$findings/" -print_final_stats=1 \
    "$corpus" "$seeds" > "$log" 2>&1 || rc=$?
  if ! grep -q "inline 8-bit counters" "$log"; then
    echo "error: fuzz-$t is not instrumented for coverage (see $log)" >&2; exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  found=$(find "$findings" -type f | wc -l)
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "FINDING in $t (libFuzzer exit $rc); the input is in $findings/, the log in $log:" >&2
    grep -E "fuzz finding|Fatal error|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY" "$log" | head -5 >&2 || tail -20 "$log" >&2
  fi
  results+=("{\"target\": \"$t\", \"seconds\": $SECONDS_PER_TARGET, \"runs\": ${runs:-0}, \"execs_per_second\": ${rate:-0}, \"coverage\": ${cov:-0}, \"corpus\": $(ls "$corpus" | wc -l), \"findings\": $found, \"ok\": $([ "$rc" -eq 0 ] && echo true || echo false)}")
done
printf '{"fuzz": [\n  %s\n]}\n' "$(IFS=$'\n'; echo "${results[*]}" | paste -sd, | sed 's/},{/},\n  {/g')"
exit $status
