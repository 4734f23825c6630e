// SPDX-License-Identifier: GPL-3.0-or-later
// UTF-8 validation and terminal-safe printing against byte sequences worked out by hand.

#include "util/Utf8.h"

#include <gtest/gtest.h>

using namespace mode;

TEST(Utf8, ValidAndInvalidSequences) {
    EXPECT_TRUE(isValidUtf8("plain ascii"));
    EXPECT_TRUE(isValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")); // é, €, an emoji
    EXPECT_EQ(invalidUtf8Offset("ab\xff"), 2u);
    EXPECT_EQ(invalidUtf8Offset("\xc0\x80"), 0u) << "overlong NUL";
    EXPECT_EQ(invalidUtf8Offset("x\xe0\x80\x80"), 1u) << "overlong three-byte form";
    EXPECT_EQ(invalidUtf8Offset("\xed\xa0\x80"), 0u) << "a UTF-16 surrogate";
    EXPECT_EQ(invalidUtf8Offset("\xf4\x90\x80\x80"), 0u) << "past U+10FFFF";
    EXPECT_EQ(invalidUtf8Offset("\xe2\x82"), 0u) << "cut short";
    EXPECT_EQ(invalidUtf8Offset("\x80"), 0u) << "a lone continuation byte";
}

TEST(Utf8, PrintableEscapesControlsAndBrokenBytes) {
    EXPECT_EQ(printable("red \x1b[31mtext"), "red \\x1b[31mtext");
    EXPECT_EQ(printable("bad\xff end"), "bad\\xff end");
    EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9") << "valid UTF-8 stays";
    EXPECT_EQ(printable("a\xc2\x9b"
                        "31m"),
              "a\\u009b31m")
        << "a C1 control (CSI) is escaped too";
}
