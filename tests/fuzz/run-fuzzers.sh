#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Fuzzes every parser that reads users' files with libFuzzer (clang), each for a bounded time,
# starting from the inputs kept in tests/fuzz/corpus/<target>, under AddressSanitizer and
# UndefinedBehaviorSanitizer. Prints one line a target with the executions run and what was found.
#
#   tests/fuzz/run-fuzzers.sh [SECONDS_PER_TARGET] [TARGET...]      (default 60 s; all targets)
#
# A finding (crash, leak, sanitizer report, uncaught exception, hang over 10 s) is written to
# build-fuzz/findings/<target>/; copy it into tests/fuzz/corpus/<target>/ with the fix, and the
# ctest replay (Fuzz.Replay.<target>) keeps it fixed. Installs clang with apt-get if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(csv idx tsv config store)
if ! command -v clang++ >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null
fi
mkdir -p build-fuzz
if ! { cmake -S tests/fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build build-fuzz; } > build-fuzz/build.log 2>&1; then
  echo "run-fuzzers.sh: the fuzz build failed (build-fuzz/build.log):" >&2
  grep -m 20 -E 'error|undefined reference|CMake Error' build-fuzz/build.log >&2 || tail -n 20 build-fuzz/build.log >&2
  exit 1
fi
status=0
for t in "${targets[@]}"; do
  work=build-fuzz/corpus/$t findings=build-fuzz/findings/$t
  mkdir -p "$work" "$findings"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  log=build-fuzz/$t.log
  set +e
  (cd "$findings" && UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    ../../fuzz-"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 ../../corpus/"$t") > "$log" 2>&1
  rc=$?
  set -e
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  found=$(find "$findings" -type f | wc -l)
  if [ "$rc" -eq 0 ] && [ "$found" -eq 0 ]; then
    printf '%-7s %10s executions in %s s, clean (corpus %s inputs)\n' "$t" "${runs:-?}" "$seconds" "$(ls "$work" | wc -l)"
  else
    printf '%-7s %10s executions, FOUND %s (exit %s): see %s and %s\n' "$t" "${runs:-?}" "$found" "$rc" "$findings" "$log"
    status=1
  fi
done
exit $status
