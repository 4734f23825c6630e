// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/SettingFlags.h"

namespace mode {
namespace {

std::string groupOf(const Setting& s) {
    const std::string section = s.key.substr(0, s.key.find('.'));
    if (section == "data") return s.applies == kRegimes ? "Data: the synthetic regimes" : "Data";
    if (section == "model") return "Model";
    if (section == "loss") return "Loss";
    if (section == "train") return "Training";
    return "Run";
}

const char* typeName(SettingKind k) {
    switch (k) {
    case SettingKind::Integer:
        return "INT";
    case SettingKind::Real:
        return "NUMBER";
    case SettingKind::Choice:
        return "CHOICE";
    case SettingKind::IntegerList:
        return "INT,...";
    case SettingKind::TextList:
        return "TEXT,...";
    default:
        return "TEXT";
    }
}

} // namespace

SettingFlags::SettingFlags(CLI::App& app) {
    for (const auto& s : experimentSettings()) {
        if (s.flag.empty()) continue;
        Entry& e = entries_.emplace_back();
        e.setting = &s;
        const std::string help = s.fullHelp() + " [" + s.key + "]";
        if (s.kind == SettingKind::Switch)
            e.option = app.add_flag(s.flag + ",!--no-" + s.flag.substr(2), e.on, help);
        else
            e.option = app.add_option(s.flag, e.text, help)->type_name(typeName(s.kind));
        e.option->group(groupOf(s));
    }
}

void SettingFlags::apply(ExperimentConfig& c) const {
    for (const auto& e : entries_) {
        if (e.option->count() == 0) continue;
        const auto value = e.setting->kind == SettingKind::Switch
                               ? nlohmann::json(e.on)
                               : settingValueFromText(*e.setting, e.text, e.setting->flag);
        e.setting->set(c, value, e.setting->flag);
    }
}

bool SettingFlags::given(const std::string& flag) const {
    for (const auto& e : entries_)
        if (e.setting->flag == flag) return e.option->count() > 0;
    return false;
}

} // namespace mode
