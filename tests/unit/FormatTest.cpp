// SPDX-License-Identifier: GPL-3.0-or-later
// The one formatter and the one CSV writer, against texts written out by hand.

#include "util/Format.h"
#include "util/Csv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

using namespace mode;

TEST(Format, NumbersAsAPersonWritesThem) {
    EXPECT_EQ(formatNumber(1048576), "1048576");
    EXPECT_EQ(formatNumber(0.003), "0.003");
    EXPECT_EQ(formatNumber(-2), "-2");
    EXPECT_EQ(formatNumber(1e-7), "1e-07");
    EXPECT_EQ(formatShortest(0.1f), "0.1");
    EXPECT_EQ(formatShortest(3.0f), "3");
    EXPECT_EQ(formatFixed(0.97333, 4), "0.9733");
    EXPECT_EQ(formatFixed(std::nan(""), 4), "-");
    EXPECT_EQ(formatFixed(std::optional<double>{}, 2, ""), "");
    EXPECT_EQ(formatSigned(0.0125, 3), "+0.013");
    EXPECT_EQ(formatSigned(-0.5, 2), "-0.50");
    EXPECT_EQ(formatField(1.0 / 3), "0.3333333333");
    EXPECT_EQ(formatField(std::nan("")), "");
}

TEST(Format, Durations) {
    EXPECT_EQ(formatDuration(42.4), "42 s");
    EXPECT_EQ(formatDuration(185), "3 min 05 s");
    EXPECT_EQ(formatDuration(3725), "1 h 02 min");
    EXPECT_EQ(formatDuration(-1), "?");
    EXPECT_EQ(formatDuration(std::nan(""), "-"), "-");
}

TEST(Csv, FieldsAreQuotedOnlyWhereNeeded) {
    EXPECT_EQ(csvField("plain"), "plain");
    EXPECT_EQ(csvField("a,b"), "\"a,b\"");
    EXPECT_EQ(csvField("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csvField("two\nlines"), "\"two\nlines\"");
    std::ostringstream out;
    writeCsvRow(out, {"id", "name, full", ""});
    EXPECT_EQ(out.str(), "id,\"name, full\",\n");
}
