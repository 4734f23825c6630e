#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the Debian package from a finished build, checks what it holds and declares, unpacks it
# into a scratch root and runs the programs from there:
#   tests/packaging/test-deb.sh BUILD_DIR [--gui]
set -euo pipefail
build=$(cd "$1" && pwd)
gui=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" >/dev/null) || fail "cpack -G DEB did not build the package"
deb=$(ls "$work"/out/*.deb)
echo "package: $(basename "$deb") ($(du -h "$deb" | cut -f1))"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for need in libopenblas0 libtorch libsqlite3; do
  grep -q "$need" <<<"$depends" || fail "Depends lacks $need"
done
if [ "$gui" = --gui ]; then
  for need in qt6-qpa-plugins libqt6svg6 libqcustomplot2.1-qt6 libqt6widgets6; do
    grep -q "$need" <<<"$depends" || fail "Depends lacks $need"
  done
fi
# Every dependency resolvable on this Debian (nothing to download: it was built here).
apt-get install --simulate -qq "$deb" >/dev/null 2>"$work/apt.err" || { cat "$work/apt.err"; fail "the dependencies do not resolve"; }

root=$work/root
dpkg-deb -x "$deb" "$root"
tools=(mode-train mode-runs mode-sweep)
[ "$gui" = --gui ] && tools+=(mode-workbench mode-report)
for t in "${tools[@]}"; do
  [ -x "$root/usr/bin/$t" ] || fail "usr/bin/$t missing"
  [ -s "$root/usr/share/man/man1/$t.1.gz" ] || fail "man page of $t missing"
  zcat "$root/usr/share/man/man1/$t.1.gz" | grep -q '^\.SH DESCRIPTION\|^\.SH OPTIONS\|EXAMPLES\|Examples' || fail "man page of $t is empty"
  page=$(zcat "$root/usr/share/man/man1/$t.1.gz")
  # Titled after the program (not after a warning printed before --help), NAME saying it once.
  grep -q "^\.TH ${t^^} \"1\"" <<<"$page" || fail "man page of $t is titled '$(grep -m1 '^\.TH' <<<"$page")'"
  name=$(grep -A1 '^\.SH NAME' <<<"$page" | tail -1)
  [[ "$name" == "$t \\- "* && "$name" != *"\\- $t"* ]] || fail "man page of $t: NAME reads '$name'"
  out=$(QT_QPA_PLATFORM=offscreen "$root/usr/bin/$t" --version 2>/dev/null) || fail "$t --version failed"
  grep -q "0\.[0-9]" <<<"$out" || fail "$t --version printed '$out'"
done
"$root/usr/bin/mode-train" --version
"$root/usr/bin/mode-train" --epochs 1 --threads 1 --no-store -q --json | grep -q '"status": "finished"' || fail "the installed mode-train did not train"
rc=0
"$root/usr/bin/mode-train" --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "an unknown flag gave exit $rc, not 2"

if [ "$gui" = --gui ]; then
  app=io.github.mode_workbench.ModeWorkbench
  for f in usr/share/applications/$app.desktop usr/share/metainfo/$app.metainfo.xml usr/share/icons/hicolor/scalable/apps/$app.svg; do
    [ -s "$root/$f" ] || fail "$f missing"
  done
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$root/usr/share/applications/$app.desktop" || fail "the desktop entry is not valid"
  fi
  if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net --pedantic "$root/usr/share/metainfo/$app.metainfo.xml" >"$work/as.log" 2>&1 ||
      { grep -v '^I:' "$work/as.log"; grep -q '^E:' "$work/as.log" && fail "the AppStream metadata is not valid"; }
  fi
  # The installed workbench starts (offscreen), opens its store and shows a window.
  QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME="$work/config" XDG_RUNTIME_DIR="$work/runtime" \
    "$root/usr/bin/mode-workbench" --db "$work/runs.sqlite" --screenshot "$work/shot.png" >/dev/null 2>&1 ||
    fail "the installed workbench did not start"
  [ -s "$work/shot.png" ] || fail "the installed workbench showed no window"
  rc=0
  "$root/usr/bin/mode-workbench" --bogus >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 2 ] || fail "the workbench answered an unknown flag with exit $rc, not 2 (no display needed)"
fi
echo "the package installs and runs"
