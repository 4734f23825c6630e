// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/ConsoleProgress.h"

#include "util/Format.h"

#include <cstdio>
#include <string>

namespace mode {

ConsoleProgress::ConsoleProgress(std::ostream& out, bool enabled, bool terminal)
    : out_(out), enabled_(enabled), terminal_(terminal) {}

void ConsoleProgress::onRunStart(const RunStart& s) {
    start_ = s;
    if (!enabled_) return;
    out_ << "training " << s.experts << " experts on " << s.datasetName << " (" << s.trainRows
         << " train, " << s.valRows << " val, " << s.testRows << " test rows, " << s.features
         << " features), " << s.parameters << " parameters, " << s.epochs << " epochs x "
         << s.stepsPerEpoch << " steps on " << s.device << "\n";
    if (s.resumedFromEpoch > 0)
        out_ << "resuming after epoch " << s.resumedFromEpoch << " (step " << s.resumedFromStep
             << ") from its checkpoint\n";
}

void ConsoleProgress::clearBar() {
    if (barShown_) out_ << "\r\033[K";
    barShown_ = false;
}

void ConsoleProgress::onStep(const StepMetrics& m) {
    if (!enabled_ || !terminal_) return;
    const auto now = std::chrono::steady_clock::now();
    const bool last = m.stepInEpoch == start_.stepsPerEpoch;
    if (!last && now - lastDraw_ < std::chrono::milliseconds(100)) return;
    lastDraw_ = now;
    const std::int64_t total = start_.stepsPerEpoch * start_.epochs;
    const double frac = total ? static_cast<double>(m.step) / static_cast<double>(total) : 0;
    const int width = 24, filled = static_cast<int>(frac * width);
    std::string bar(filled, '#');
    bar.resize(width, '.');
    const double eta = frac > 0 ? m.wallSeconds * (1 - frac) / frac : -1;
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "\r\033[Kepoch %d/%d [%s] %3.0f%%  loss %.4f (task %.4f, distill %.4f)  %.0f "
                  "samples/s  ETA %s",
                  m.epoch, start_.epochs, bar.c_str(), frac * 100, m.total, m.task, m.distill,
                  m.samplesPerSecond, formatDuration(eta).c_str());
    out_ << buf << std::flush;
    barShown_ = true;
}

void ConsoleProgress::onEpoch(const EpochMetrics& m) {
    if (!enabled_) return;
    clearBar();
    char buf[320];
    int n = std::snprintf(
        buf, sizeof buf,
        "epoch %3d/%d  loss %.4f (task %.4f, distill %.4f)  val %s %.4f  test %s %.4f", m.epoch,
        start_.epochs, m.trainLoss, m.trainTaskLoss, m.trainDistillLoss,
        start_.classification ? "acc" : "R^2", m.valAccuracy, start_.classification ? "acc" : "R^2",
        m.testAccuracy);
    if (m.gateRoutingAccuracy && n > 0 && n < static_cast<int>(sizeof buf))
        std::snprintf(buf + n, sizeof buf - n, "  routing %.3f", *m.gateRoutingAccuracy);
    out_ << buf << "\n" << std::flush;
}

LoadProgressLine::LoadProgressLine(std::ostream& out, bool enabled, bool terminal, std::string what)
    : out_(out), enabled_(enabled), terminal_(terminal), what_(std::move(what)),
      start_(std::chrono::steady_clock::now()) {}

bool LoadProgressLine::operator()(std::uint64_t done, std::uint64_t total) {
    if (!enabled_) return true;
    const auto now = std::chrono::steady_clock::now();
    const auto every = terminal_ ? std::chrono::milliseconds(200) : std::chrono::seconds(10);
    if (now - start_ < std::chrono::seconds(1) || now - lastDraw_ < every) return true;
    lastDraw_ = now;
    const std::string text =
        formatLoadProgress(what_, static_cast<double>(done), static_cast<double>(total));
    if (terminal_)
        out_ << "\r\033[K" << text << std::flush;
    else
        out_ << text << "\n" << std::flush;
    shown_ = terminal_;
    return true;
}

void LoadProgressLine::finish() {
    if (shown_) out_ << "\r\033[K" << std::flush;
    shown_ = false;
}

void ConsoleProgress::onRunEnd(const RunResult&) {
    if (enabled_) clearBar();
    out_ << std::flush;
}

} // namespace mode
