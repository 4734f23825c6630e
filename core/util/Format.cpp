// SPDX-License-Identifier: GPL-3.0-or-later
#include "util/Format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

namespace mode {

std::string formatNumber(double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)
        return std::to_string(static_cast<long long>(v));
    std::ostringstream s;
    s << std::setprecision(15);
    s << v;
    return s.str();
}

std::string formatShortest(float v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

std::string formatFixed(double v, int decimals, const std::string& missing) {
    if (!std::isfinite(v)) return missing;
    std::ostringstream s;
    s << std::fixed << std::setprecision(decimals) << v;
    return s.str();
}

std::string formatFixed(const std::optional<double>& v, int decimals, const std::string& missing) {
    return v ? formatFixed(*v, decimals, missing) : missing;
}

std::string formatSigned(double v, int decimals, const std::string& missing) {
    if (!std::isfinite(v)) return missing;
    return (v >= 0 ? "+" : "") + formatFixed(v, decimals, missing);
}

std::string formatField(double v) {
    if (!std::isfinite(v)) return "";
    std::ostringstream s;
    s << std::setprecision(10) << v;
    return s.str();
}

std::string formatField(const std::optional<double>& v) {
    return v ? formatField(*v) : "";
}

std::string formatDuration(double seconds, const std::string& missing) {
    if (!(seconds >= 0) || seconds > 1e7) return missing;
    const long t = static_cast<long>(seconds + 0.5);
    char buf[48];
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ld h %02ld min", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        std::snprintf(buf, sizeof buf, "%ld min %02ld s", t / 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld s", t);
    return buf;
}

std::string formatBytes(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u > 0 && bytes < 100 ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

std::string formatLoadProgress(const std::string& what, double done, double total) {
    if (total <= 0) return "loading " + what + ": " + formatBytes(done) + " read";
    char percent[16];
    std::snprintf(percent, sizeof percent, "%.0f%%", 100.0 * std::min(1.0, done / total));
    return "loading " + what + ": " + percent + " (" + formatBytes(done) + " of " +
           formatBytes(total) + ")";
}

} // namespace mode
