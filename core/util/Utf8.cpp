// SPDX-License-Identifier: GPL-3.0-or-later
#include "util/Utf8.h"

namespace mode {

std::size_t invalidUtf8Offset(std::string_view s) {
    std::size_t i = 0;
    const std::size_t n = s.size();
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    auto cont = [&](std::size_t k) { return k < n && (byte(k) & 0xC0) == 0x80; };
    while (i < n) {
        const unsigned char c = byte(i);
        if (c < 0x80) {
            ++i;
        } else if (c >= 0xC2 && c <= 0xDF) {
            if (!cont(i + 1)) return i;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (!cont(i + 1) || !cont(i + 2)) return i;
            const unsigned char c1 = byte(i + 1);
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F))
                return i; // overlong, surrogate
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return i;
            const unsigned char c1 = byte(i + 1);
            if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
                return i; // overlong, past U+10FFFF
            i += 4;
        } else {
            return i;
        }
    }
    return std::string_view::npos;
}

std::string printable(std::string_view s) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto bad = invalidUtf8Offset(s.substr(i));
        const std::size_t end = bad == std::string_view::npos ? s.size() : i + bad;
        for (; i < end; ++i) {
            const auto c = static_cast<unsigned char>(s[i]);
            if (c < 0x20 || c == 0x7F) {
                out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
            } else if (c == 0xC2 && i + 1 < end && static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
                // C1 controls (U+0080-U+009F; U+009B acts as ESC [ on some terminals)
                const auto c1 = static_cast<unsigned char>(s[++i]);
                out += std::string("\\u00") + hex[c1 >> 4] + hex[c1 & 15];
            } else {
                out += s[i];
            }
        }
        if (i < s.size()) {
            const auto c = static_cast<unsigned char>(s[i]);
            out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
            ++i;
        }
    }
    return out;
}

} // namespace mode
