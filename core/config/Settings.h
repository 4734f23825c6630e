// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The settings vocabulary: one declaration per setting of an experiment (its JSON key, its flag,
// its kind, range or choices, help, the form's label and where it applies). The experiment
// file's reader and writer, validation, mode-train's flags and help (and so the man pages) and
// the workbench's form are all made from this one table; the default is the value
// ExperimentConfig's member is initialised with. Adding a setting is one line here plus its use.

#include "config/ExperimentConfig.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mode {

enum class SettingKind {
    Integer,     // a whole number (the member's type bounds it too)
    Real,        // a finite number
    Switch,      // true / false; a flag without a value on the command line
    Text,        // free text
    Choice,      // one of `choices`
    IntegerList, // whole numbers, "64,32" on the command line
    TextList     // strings, "a,b" on the command line
};

// Which data a setting applies to (the form hides the others).
enum Applies : unsigned {
    kTabular = 1u, // CSV files and the synthetic regimes
    kImages = 2u,  // IDX folders, fashion-mnist
    kText = 4u,    // TSV text, debian-descriptions
    kRegimes = 8u, // only the built-in synthetic regimes data
    kAnyData = kTabular | kImages | kText | kRegimes
};

struct SettingChoice {
    std::string name;  // as written: "mse-mean"; "cuda:N" stands for cuda:0, cuda:1, ...
    std::string label; // for the form
};

struct Setting {
    std::string key;  // dotted JSON path: "train.epochs"
    std::string flag; // mode-train's flag ("--epochs"); empty: experiment files only
    SettingKind kind = SettingKind::Text;
    std::string label;  // the form's label; empty: not a plain field of the form
    std::string widget; // the form field's object name (tests and screenshots find it by it)
    std::string help;   // one sentence: what it does
    std::vector<SettingChoice> choices;
    std::optional<double> min, max; // for numbers and each element of a list
    bool minOpen = false, maxOpen = false;
    std::string note; // what a special value means ("0: one per core")
    unsigned applies = kAnyData;
    bool advanced = false; // folded away in the form
    // Meaningful only while another setting has this value (e.g. top_k with gate = topk): the
    // form disables the field otherwise, validation skips it.
    std::string onlyWhenKey, onlyWhenValue;

    std::function<nlohmann::json(const ExperimentConfig&)> get;
    // Throws ConfigError "<source>: '<key>' <what is wrong>" for a value of the wrong type.
    std::function<void(ExperimentConfig&, const nlohmann::json&, const std::string& source)> set;

    nlohmann::json defaultValue() const { return get(ExperimentConfig{}); }
    bool isNumber() const;
    // "must be between 1 and 256", "must be in [0, 1)", "must be >= 0": empty without a range.
    std::string rangeText() const;
    // "dense | topk" (names only).
    std::string choiceText() const;
    // Whether the value is one of the choices (patterns like cuda:N included).
    bool acceptsChoice(const std::string& value) const;
    // The help line of the command line and the tooltip: help, choices, range, default.
    std::string fullHelp() const;
};

// Every setting, in the order of the experiment file, the form and the help.
const std::vector<Setting>& experimentSettings();
// The setting with this key (or flag, "--epochs"); nullptr if none.
const Setting* findSetting(const std::string& key);
const Setting* findSettingByFlag(const std::string& flag);

// A value typed on the command line for `s`, as JSON (a whole number, a number, a list...).
// Throws ConfigError naming `where` (the flag) for text that is not of the setting's kind.
nlohmann::json settingValueFromText(const Setting& s, const std::string& text,
                                    const std::string& where);

// What is wrong with the value of `s` in `c` against its own declaration (range, choices), or
// nothing. Settings that do not apply (onlyWhen) are not checked.
std::optional<std::string> settingProblem(const Setting& s, const ExperimentConfig& c);
bool settingApplies(const Setting& s, const ExperimentConfig& c);

} // namespace mode
