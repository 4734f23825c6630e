# SPDX-License-Identifier: GPL-3.0-or-later
# The layers of core, lowest first. A folder may include its own files and those of lower
# layers, never a higher layer's or a peer's on the same line (model and loss know nothing of
# each other). tests/structure/CheckLayers.cmake enforces it on every #include (a ctest test);
# README's "Architecture" draws the same order.
set(MODE_CORE_LAYERS
  "util"
  "config"
  "data"
  "model;loss;distributed"
  "train"
  "store"
  "analysis;sweep;predict"
  "report")
