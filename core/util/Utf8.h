// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// UTF-8 checks for text that comes from users and files (names, labels, column names): the
// store, JSON and the terminal all expect valid UTF-8.

#include <cstddef>
#include <string>
#include <string_view>

namespace mode {

// The offset of the first byte that does not start a valid UTF-8 sequence (overlong forms,
// surrogates and code points past U+10FFFF are invalid), or npos when the text is valid.
std::size_t invalidUtf8Offset(std::string_view text);
inline bool isValidUtf8(std::string_view text) {
    return invalidUtf8Offset(text) == std::string_view::npos;
}

// The text with control characters (terminal escapes among them) shown as \xNN (C1 controls as
// \u00NN) and invalid UTF-8 bytes as \xNN: safe to print to a terminal.
std::string printable(std::string_view text);

} // namespace mode
