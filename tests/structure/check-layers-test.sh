#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The layer check on the tree passes, and it fails on planted includes against the order: a lower
# layer including a higher one, core including Qt, widgets including app.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
check() { cmake -DSOURCE_DIR="$1" -P "$src/tests/structure/CheckLayers.cmake"; }
check "$src"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
plant() { # folder file line: a tree with one source that holds the line
  rm -rf "$scratch/tree" && mkdir -p "$scratch/tree/core" "$scratch/tree/$1"
  cp "$src/core/Layers.cmake" "$scratch/tree/core/"
  printf '#pragma once\n%s\n' "$3" > "$scratch/tree/$1/$2"
}
for case in 'core/config|Bad.h|#include "data/Dataset.h"' 'core/store|Bad.cpp|#include "report/RunSummary.h"' \
            'core/model|Bad.cpp|#include "loss/MutualDistillationLoss.h"' 'core/util|Bad.cpp|#include <QString>' \
            'widgets|Bad.cpp|#include "cli/TrainCommand.h"' 'core/newfolder|Bad.cpp|#include "util/Utf8.h"'; do
  IFS='|' read -r folder file line <<< "$case"
  plant "$folder" "$file" "$line"
  if check "$scratch/tree" >/dev/null 2>&1; then
    echo "check-layers-test: the check passed $folder/$file with: $line" >&2
    exit 1
  fi
done
plant core/train Good.cpp '#include "model/MoDEModel.h"'
check "$scratch/tree" >/dev/null
echo "check-layers-test: the order holds and each planted violation was caught"
