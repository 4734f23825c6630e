#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One-step setup for MoDE Workbench on Debian 12 (bookworm), as root or with sudo.
#   ./setup.sh            install what is missing, configure and build into build/
#   ./setup.sh --no-gui   the same without Qt (core + command-line tools, e.g. a GPU server)
# Idempotent: packages already installed are skipped, the build is incremental.
set -euo pipefail
cd "$(dirname "$0")"

GUI=ON
for arg in "$@"; do
  case "$arg" in
    --no-gui) GUI=OFF ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

PACKAGES=(build-essential cmake ninja-build pkg-config ccache
  libtorch-dev libgloo-dev libopenblas0 libsqlite3-dev libsqlitecpp-dev sqlite3
  nlohmann-json3-dev libcli11-dev libboost-math-dev zlib1g-dev dataset-fashion-mnist python3-sklearn
  libgtest-dev libgmock-dev libbenchmark-dev help2man clang-format universal-ctags)
if [ "$GUI" = ON ]; then
  PACKAGES+=(qt6-base-dev qt6-svg-dev libqcustomplot-dev libqcustomplot2.1-qt6
    xvfb xauth openbox xdotool imagemagick desktop-file-utils appstream)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "setup.sh: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# OpenBLAS runs its own thread pool next to LibTorch's; the engine pins it to one thread itself,
# this covers the first BLAS call before that.
export OPENBLAS_NUM_THREADS=1

JOBS=${MODE_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMODE_BUILD_GUI="$GUI" \
  ${MODE_CMAKE_ARGS:-} >/dev/null
cmake --build build -j "$JOBS"

# Datasets made offline from installed packages (generated, not committed): Debian's package
# descriptions (text) and the breast cancer data shipped with python3-sklearn (tabular).
if [ ! -s build/data/debian-descriptions.tsv ]; then
  experiments/data/make-debian-descriptions.sh build/data || echo "setup.sh: debian-descriptions not built; the other datasets work" >&2
fi
if [ ! -s build/data/breast-cancer.csv ]; then
  experiments/data/make-breast-cancer.sh build/data || echo "setup.sh: breast-cancer.csv not built; the other datasets work" >&2
fi
echo "setup.sh: programs are in build/bin/: $(ls build/bin | tr '\n' ' ')"
