#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A copied or moved build tests its own programs (issue 37): the test binaries find the
# programs next to themselves (TestSupport's programDir), not in the folder they were built in.
#
#   tests/check-moved-build.sh BUILD
#
# Copies BUILD/bin elsewhere (hard links: cheap, and the original is never touched), puts a
# wrapper in place of the copy's mode-train that leaves a mark and runs the real one, and runs a
# CLI test from the copy: the mark must be there. Then removes the copy's mode-train: the same
# test must fail (it would pass on the original build's program).
set -euo pipefail
build=$(cd "${1:?usage: check-moved-build.sh BUILD}" && pwd)
test=${2:-ModeTrainCli.HelpAndVersion}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -al "$build/bin" "$tmp/bin" 2>/dev/null || cp -a "$build/bin" "$tmp/bin"
[[ -d "$build/data" ]] && ln -s "$build/data" "$tmp/data"

rm "$tmp/bin/mode-train"
cp -p "$build/bin/mode-train" "$tmp/bin/mode-train.real"
cat >"$tmp/bin/mode-train" <<EOF
#!/bin/sh
touch "$tmp/used-the-copy"
exec "$tmp/bin/mode-train.real" "\$@"
EOF
chmod +x "$tmp/bin/mode-train"

export XDG_DATA_HOME="$tmp/data-home"
if ! "$tmp/bin/mode_cli_tests" --gtest_filter="$test" >"$tmp/log" 2>&1; then
    cat "$tmp/log"
    echo "FAIL: $test fails from the copy"
    exit 1
fi
if [[ ! -e "$tmp/used-the-copy" ]]; then
    echo "FAIL: $test from the copy did not run the copy's mode-train"
    exit 1
fi
rm "$tmp/bin/mode-train"
if "$tmp/bin/mode_cli_tests" --gtest_filter="$test" >"$tmp/log" 2>&1; then
    echo "FAIL: $test passed without the copy's mode-train: it ran another build's"
    exit 1
fi
echo "ok: a copy of $build/bin tests its own programs"
