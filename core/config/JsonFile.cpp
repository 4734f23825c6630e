// SPDX-License-Identifier: GPL-3.0-or-later
#include "config/JsonFile.h"

#include "config/ExperimentConfig.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace mode {

using json = nlohmann::json;

namespace {

std::string lineAndColumn(const std::string& text, std::size_t byte) {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return std::to_string(line) + ":" + std::to_string(col);
}

// A SAX pass that finds the first key repeated within one object, with its dotted path.
struct DuplicateKeys : nlohmann::json_sax<json> {
    std::vector<std::set<std::string>> keys; // one set per open object
    std::vector<std::string> path;           // the key leading into each open object or array
    std::string pending;                     // the key whose value comes next
    std::string duplicate;

    bool value() {
        pending.clear();
        return true;
    }
    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool string(string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool start_object(std::size_t) override {
        path.push_back(pending);
        pending.clear();
        keys.emplace_back();
        return true;
    }
    bool key(string_t& k) override {
        if (!keys.back().insert(k).second) {
            std::string where;
            for (const auto& p : path)
                if (!p.empty()) where += p + ".";
            duplicate = where + k;
            return false; // stop here
        }
        pending = k;
        return true;
    }
    bool end_object() override {
        keys.pop_back();
        path.pop_back();
        return true;
    }
    bool start_array(std::size_t) override {
        path.push_back(pending);
        pending.clear();
        return true;
    }
    bool end_array() override {
        path.pop_back();
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }
};

} // namespace

json parseJsonText(const std::string& text, const std::string& source) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        const std::string what = e.what();
        const auto pos = what.find("parse error");
        throw ConfigError(source + ":" + lineAndColumn(text, e.byte) + ": not valid JSON (" +
                          (pos == std::string::npos ? what : what.substr(pos)) + ")");
    } catch (const json::out_of_range& e) { // a number past a double's range, e.g. 1e400
        const std::string what = e.what();
        const auto pos = what.find("number overflow");
        throw ConfigError(source + ": " + (pos == std::string::npos ? what : what.substr(pos)) +
                          ": the number is beyond the range of a double");
    }
    DuplicateKeys sax;
    json::sax_parse(text, &sax);
    if (!sax.duplicate.empty())
        throw ConfigError(source + ": the key '" + sax.duplicate +
                          "' appears twice; give each setting once");
    return j;
}

std::string readConfigText(const std::string& path, const char* what, std::size_t limit) {
    const std::string name = "the " + std::string(what) + " " + path;
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (std::filesystem::is_directory(st)) throw ConfigError(name + " is a folder, not a file");
    if (std::filesystem::exists(st) && !std::filesystem::is_regular_file(st))
        throw ConfigError(name + " is not a regular file (a device, pipe or socket)");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot open the " + std::string(what));
    std::string text;
    char chunk[1 << 16];
    while (in && text.size() <= limit) {
        in.read(chunk, sizeof chunk);
        text.append(chunk, static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw ConfigError(path + ": cannot read the " + std::string(what));
    if (text.size() > limit)
        throw ConfigError(name + " is larger than " + std::to_string(limit >> 20) +
                          " MiB, more than any " + std::string(what) + " holds");
    return text;
}

json readJsonFile(const std::string& path, const char* what) {
    return parseJsonText(readConfigText(path, what), path);
}

} // namespace mode
