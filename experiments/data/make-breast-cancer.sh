#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A real tabular dataset, offline: the Wisconsin breast cancer data (569 tumours, 30 measurements,
# malignant or benign) that Debian's python3-sklearn ships, turned into a plain CSV with a header.
#
#   experiments/data/make-breast-cancer.sh OUT_DIR      # writes OUT_DIR/breast-cancer.csv
set -euo pipefail
out_dir=${1:?usage: make-breast-cancer.sh OUT_DIR}
src=/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv
[ -r "$src" ] || { echo "make-breast-cancer: $src not found (install python3-sklearn)" >&2; exit 1; }
mkdir -p "$out_dir"
# Its first line is "rows,features,class0,class1"; the rows end with the class index.
awk -F, 'NR == 1 { n = $2; names[0] = $3; names[1] = $4
                   for (i = 0; i < n; i++) printf "m%d,", i; print "diagnosis"; next }
         { for (i = 1; i < NF; i++) printf "%s,", $i; print names[$NF] }' "$src" > "$out_dir/breast-cancer.csv"
echo "breast-cancer: $(($(wc -l < "$out_dir/breast-cancer.csv") - 1)) rows -> $out_dir/breast-cancer.csv"
