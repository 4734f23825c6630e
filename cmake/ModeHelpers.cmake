# SPDX-License-Identifier: GPL-3.0-or-later
# Lets a target's LibTorch-heavy sources reuse modecore's precompiled <torch/torch.h>.
function(mode_use_torch_pch target)
  if(MODE_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM modecore)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  endif()
endfunction()
