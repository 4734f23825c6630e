// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// How numbers and durations are written, for every program and view: one place, one style.

#include <optional>
#include <string>

namespace mode {

// A number as a person writes it: whole numbers in full ("1048576"), others with up to 15
// significant digits ("0.003", "1e-07"); "nan"/"inf" as such.
std::string formatNumber(double v);
// The shortest text that reads back as the same float ("0.1", not 0.100000001).
std::string formatShortest(float v);
// Fixed decimals ("0.9733"); `missing` for NaN, infinity or no value.
std::string formatFixed(double v, int decimals, const std::string& missing = "-");
std::string formatFixed(const std::optional<double>& v, int decimals,
                        const std::string& missing = "-");
// "+0.0123" / "-0.0123": a difference, with its sign always shown.
std::string formatSigned(double v, int decimals, const std::string& missing = "-");
// A CSV or JSON field: full precision (10 significant digits), empty for NaN and no value.
std::string formatField(double v);
std::string formatField(const std::optional<double>& v);
// "42 s", "3 min 05 s", "2 h 07 min"; `missing` for a negative, unknown or absurd time.
std::string formatDuration(double seconds, const std::string& missing = "?");
// "512 B", "64 KiB", "70.3 MiB", "1.2 GiB".
std::string formatBytes(double bytes);
// "loading FILE: 45% (70.3 of 155 MiB)", or without a percentage when the size is unknown.
std::string formatLoadProgress(const std::string& what, double done, double total);

} // namespace mode
