#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the engine, the command-line tools and the tests with AddressSanitizer and
# UndefinedBehaviorSanitizer (the `asan` CMake preset, in build-asan/) and runs the whole suite
# under them. Any report fails the run. Takes 10-15 minutes on 2 cores.
#
#   tests/run-sanitizers.sh [CTEST ARGS...]        e.g. tests/run-sanitizers.sh -R Trainer
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset asan >/dev/null
cmake --build build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizer-suppressions.txt:print_suppressions=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ctest --test-dir build-asan --output-on-failure -j 2 "$@"
