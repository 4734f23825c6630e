#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# No function in core or app longer than the limit (default 80 lines, body included): a function
# that does one thing fits on a screen. Lengths from universal-ctags (its end: field).
set -euo pipefail
cd "$(dirname "$0")/../.."
limit=${1:-80}
command -v ctags >/dev/null || { echo "check-function-length: ctags is missing (apt-get install universal-ctags)" >&2; exit 1; }
long=$(find core app -name '*.cpp' -o -name '*.h' | sort | while read -r f; do
  ctags --fields=+ne --kinds-C++=f -f - --language-force=C++ "$f" |
    awk -F'\t' -v f="$f" -v limit="$limit" '{
      start = ""; end = "";
      for (i = 1; i <= NF; i++) { if ($i ~ /^line:/) start = substr($i, 6); if ($i ~ /^end:/) end = substr($i, 5) }
      if (start != "" && end != "" && end - start + 1 > limit) print f ":" start ": " $1 " has " end - start + 1 " lines"
    }'
done)
if [ -n "$long" ]; then
  echo "check-function-length: functions over $limit lines:" >&2
  echo "$long" >&2
  exit 1
fi
echo "check-function-length: every function in core and app has at most $limit lines"
