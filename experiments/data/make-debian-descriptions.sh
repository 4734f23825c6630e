#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the `debian-descriptions` text dataset, offline, from the package lists apt already has:
# each Debian package's description (its short and long text) labelled with its archive section,
# for the most common sections. Deterministic for given package lists: packages sorted by name,
# at most PER_SECTION of each section.
#
#   experiments/data/make-debian-descriptions.sh OUT_DIR [SECTIONS] [PER_SECTION]
# writes OUT_DIR/debian-descriptions.tsv (label<TAB>text) and prints its size.
set -euo pipefail
out_dir=${1:?usage: make-debian-descriptions.sh OUT_DIR [SECTIONS] [PER_SECTION]}
sections=${2:-15}
per_section=${3:-1500}
mkdir -p "$out_dir"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# One line per package: section<TAB>name<TAB>description (long description joined, paragraph
# dots dropped). Non-free and contrib sections count as their main section.
apt-cache dumpavail | awk -v RS="" -F "\n" '
{
  pkg = ""; sec = ""; desc = ""; indesc = 0
  for (i = 1; i <= NF; i++) {
    line = $i
    if (line ~ /^Package: /) { pkg = substr(line, 10); indesc = 0 }
    else if (line ~ /^Section: /) { sec = substr(line, 10); indesc = 0 }
    else if (line ~ /^Description: /) { desc = substr(line, 14); indesc = 1 }
    else if (indesc && line ~ /^ /) { if (line != " .") desc = desc " " substr(line, 2) }
    else indesc = 0
  }
  if (pkg == "" || sec == "" || desc == "") next
  sub(/^(contrib|non-free|non-free-firmware)\//, "", sec)
  gsub(/\t/, " ", desc)
  print sec "\t" pkg "\t" desc
}' | LC_ALL=C sort -t "$(printf '\t')" -k2,2 -u > "$tmp"

total=$(wc -l < "$tmp")
if [ "$total" -lt 1000 ]; then
  echo "make-debian-descriptions: only $total package descriptions in apt's lists; run apt-get update first" >&2
  exit 1
fi
# The most common sections (ties by name), then at most per_section packages of each, by name.
top=$(cut -f1 "$tmp" | LC_ALL=C sort | uniq -c | LC_ALL=C sort -k1,1nr -k2,2 | head -n "$sections" | awk '{print $2}')
LC_ALL=C awk -F "\t" -v keep="$(echo $top)" -v cap="$per_section" '
BEGIN { n = split(keep, k, " "); for (i = 1; i <= n; i++) want[k[i]] = 1 }
want[$1] && count[$1]++ < cap { print $1 "\t" $3 }' "$tmp" > "$out_dir/debian-descriptions.tsv"
echo "debian-descriptions: $(wc -l < "$out_dir/debian-descriptions.tsv") descriptions in $(echo "$top" | wc -l) sections -> $out_dir/debian-descriptions.tsv"
