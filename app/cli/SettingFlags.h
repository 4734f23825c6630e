// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// mode-train's experiment flags, made from the settings table (config/Settings.h): one option
// per setting with a flag, its help (choices, range, default) from the declaration, grouped by
// the experiment file's sections. The man pages are made from this help.

#include "config/ExperimentConfig.h"
#include "config/Settings.h"

#include <CLI/CLI.hpp>

#include <deque>
#include <string>
#include <vector>

namespace mode {

class SettingFlags {
  public:
    explicit SettingFlags(CLI::App& app);

    // The settings whose flags were given, applied to `c` in the table's order. Throws
    // ConfigError naming the flag for a value of the wrong kind; ranges and choices are left to
    // validate(), which names the setting.
    void apply(ExperimentConfig& c) const;
    bool given(const std::string& flag) const;

  private:
    struct Entry {
        const Setting* setting = nullptr;
        CLI::Option* option = nullptr;
        std::string text;
        bool on = false;
    };
    std::deque<Entry> entries_; // stable addresses: CLI11 writes into them
};

} // namespace mode
