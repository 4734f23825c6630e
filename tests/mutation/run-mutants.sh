#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The mutation check (issue 37): plants each bug of tests/mutation/mutants.json, one at a time,
# in a scratch copy of the repository, rebuilds what depends on it, runs the tests and prints
# whether they caught it. Ends with the score and the survivors; exits 1 below --min-score.
# Not run in CI (a rebuild per mutant); see README, "Mutation check".
#
#   tests/mutation/run-mutants.sh [options] [MUTANT-ID ...]
#     --min-score N  exit 1 when less than N% of the mutants are caught (default 0)
#     --full         run the whole ctest for each mutant, not only the mutant's own "tests"
#     --scratch DIR  where the scratch clone and its build live (default /tmp/mode-mutants;
#                    $MODE_MUTANTS_DIR); made from this repository's HEAD (commit first), kept
#                    between runs so that later runs rebuild only what a mutant touches
#     --tree DIR     mutate this checkout instead (e.g. a worktree you do not edit meanwhile)
#     --build DIR    its build folder (default: DIR/build)
#     --list FILE    the mutants (default tests/mutation/mutants.json)
#     -j N           build and test jobs (default 2)
#     --no-baseline  skip the check that the chosen tests pass before any mutant
# Every file is restored after its mutant, also when the script is interrupted.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
list="$repo/tests/mutation/mutants.json"
scratch=${MODE_MUTANTS_DIR:-/tmp/mode-mutants}
tree="" build="" full=0 minScore=0 jobs=2 baseline=1
ids=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --min-score) minScore=$2; shift 2 ;;
    --full) full=1; shift ;;
    --scratch) scratch=$2; shift 2 ;;
    --tree) tree=$(cd "$2" && pwd); shift 2 ;;
    --build) build=$2; shift 2 ;;
    --list) list=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --no-baseline) baseline=0; shift ;;
    -h|--help) sed -n '3,20p' "$0"; exit 0 ;;
    -*) echo "run-mutants: unknown option $1" >&2; exit 2 ;;
    *) ids+=("$1"); shift ;;
    esac
done

# The scratch copy: a clone of HEAD, configured once.
if [[ -z "$tree" ]]; then
    tree="$scratch/src"
    head=$(git -C "$repo" rev-parse HEAD)
    if [[ ! -d "$tree/.git" ]]; then
        mkdir -p "$scratch"
        git clone --quiet --no-checkout "$repo" "$tree"
    else
        git -C "$tree" fetch --quiet "$repo" "$head"
    fi
    git -C "$tree" checkout --quiet --force --detach "$head"
    git -C "$tree" clean --quiet -fd -e build
fi
build=${build:-$tree/build}
if [[ ! -f "$build/build.ninja" ]]; then
    echo "== configuring $build"
    cmake -S "$tree" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMODE_BUILD_GUI=ON >/dev/null
fi
# Built-in data sets the tests read (copied from this checkout's build if it has them).
if [[ ! -e "$build/data" && -d "$repo/build/data" ]]; then cp -a "$repo/build/data" "$build/"; fi

mapfile -t all < <(python3 - "$list" "${ids[@]}" <<'EOF'
import json, sys
ms = json.load(open(sys.argv[1]))["mutants"]
want = sys.argv[2:]
known = {m["id"] for m in ms}
for w in want:
    if w not in known:
        sys.exit(f"run-mutants: no mutant {w}")
for m in ms:
    if not want or m["id"] in want:
        print(m["id"])
EOF
)

field() { # field ID NAME
    python3 - "$list" "$1" "$2" <<'EOF'
import json, sys
m = next(m for m in json.load(open(sys.argv[1]))["mutants"] if m["id"] == sys.argv[2])
print(m.get(sys.argv[3], ""))
EOF
}

apply() { # apply ID: writes the mutated file; fails unless the text is found exactly once
    python3 - "$list" "$1" "$tree" <<'EOF'
import json, sys, pathlib
m = next(m for m in json.load(open(sys.argv[1]))["mutants"] if m["id"] == sys.argv[2])
p = pathlib.Path(sys.argv[3]) / m["file"]
text = p.read_text()
n = text.count(m["find"])
if n != 1:
    sys.exit(f"{m['file']}: the text to mutate occurs {n} times")
p.write_text(text.replace(m["find"], m["replace"]))
EOF
}

saved="" savedFile=""
restore() {
    if [[ -n "$savedFile" ]]; then
        cp -p "$saved" "$savedFile" && touch "$savedFile"
        savedFile=""
    fi
}
trap 'restore; rm -f "$saved"' EXIT
trap 'exit 130' INT TERM
saved=$(mktemp)

log="$build/mutant-logs"
mkdir -p "$log"

buildAll() { nice -n 10 cmake --build "$build" -j "$jobs" >"$1" 2>&1; }
runTests() { # runTests FILTER LOG
    local args=(--test-dir "$build" -j "$jobs" --timeout 900 --output-on-failure)
    [[ $full -eq 1 || -z "$1" ]] || args+=(-R "$1")
    nice -n 10 ctest "${args[@]}" >"$2" 2>&1
}

echo "== building $build"
buildAll "$log/build-baseline.log" || { echo "run-mutants: the unmutated tree does not build ($log/build-baseline.log)"; exit 2; }
if [[ $baseline -eq 1 ]]; then
    filters=()
    for id in "${all[@]}"; do filters+=("$(field "$id" tests)"); done
    union=$(IFS='|'; echo "${filters[*]}")
    [[ $full -eq 1 ]] && union=""
    echo "== baseline: the chosen tests pass on the unmutated tree"
    runTests "$union" "$log/test-baseline.log" ||
        { echo "run-mutants: tests fail without any mutant ($log/test-baseline.log)"; exit 2; }
fi

caught=0 survived=0 invalid=0
survivors=()
for id in "${all[@]}"; do
    file=$(field "$id" file)
    savedFile="$tree/$file"
    cp -p "$savedFile" "$saved"
    start=$SECONDS
    if ! apply "$id" 2>"$log/$id.apply.log"; then
        verdict="invalid (text not found: $(cat "$log/$id.apply.log"))"
        invalid=$((invalid + 1))
    elif ! buildAll "$log/$id.build.log"; then
        verdict="invalid (does not build: $log/$id.build.log)"
        invalid=$((invalid + 1))
    elif runTests "$(field "$id" tests)" "$log/$id.test.log"; then
        if grep -q "No tests were found" "$log/$id.test.log"; then
            verdict="invalid (no test matches its filter)"
            invalid=$((invalid + 1))
            restore
            printf '%-32s %-40s %4ss  %s\n' "$id" "$file" $((SECONDS - start)) "$verdict"
            continue
        fi
        verdict="SURVIVED"
        survived=$((survived + 1))
        expected=$(field "$id" expected)
        survivors+=("$id ($file: $(field "$id" reason))${expected:+ -- expected: $expected}")
    else
        failed=$(grep -c "(Failed)\|(Timeout)\|(SEGFAULT)\|(Subprocess aborted)" "$log/$id.test.log" || true)
        verdict="caught ($failed failing tests)"
        caught=$((caught + 1))
    fi
    restore
    printf '%-32s %-40s %4ss  %s\n' "$id" "$file" $((SECONDS - start)) "$verdict"
done
echo "== rebuilding the unmutated tree"
buildAll "$log/build-final.log" || true

total=$((caught + survived))
score=$(( total > 0 ? 100 * caught / total : 0 ))
echo
echo "mutants: $total run, $caught caught, $survived survived, $invalid invalid; score ${score}%"
if [[ ${#survivors[@]} -gt 0 ]]; then
    echo "survivors:"
    printf '  %s\n' "${survivors[@]}"
fi
echo "logs: $log"
if [[ $score -lt $minScore ]]; then
    echo "run-mutants: score ${score}% is below ${minScore}%"
    exit 1
fi
