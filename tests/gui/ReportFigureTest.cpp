// SPDX-License-Identifier: GPL-3.0-or-later
// The report's figures read wherever they are drawn: mode-report under the offscreen platform
// (no display, no event loop) writes figures with tick labels and a legend, as the plots' own
// export does.

#include "plots/AlphaSweepPlot.h"
#include "plots/PlotExport.h"
#include "plots/PlotStyle.h"

#include "GuiTestSupport.h"
#include "TestSupport.h"

#include <QImage>
#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace mode;
using namespace mode::test;

namespace {

// Text and axes are drawn in the palette's text colour (black here); curves, grid and bands are
// coloured or light.
bool dark(QRgb p) {
    return qAlpha(p) > 128 && std::max({qRed(p), qGreen(p), qBlue(p)}) < 90;
}

// What a figure shows around its axes: the row of the x axis, the column of the y axis (the
// longest dark lines), the bands of text below the x axis and left of the y axis (runs of rows or
// columns with dark pixels, split by blank ones), and the dark pixels inside the axis rect away
// from the axes (the legend's text: the curves are coloured, the title is above the rect).
struct FigureText {
    int xAxisRow = -1, yAxisColumn = -1;
    int bandsBelow = 0, bandsLeft = 0;
    std::string below, left; // where the bands are
    int darkInside = 0;
};

// Runs of lines with dark pixels, a gap of fewer than `minGap` blank lines joining two (the
// space between two letters of a rotated title or of a tick label is no gap).
std::string bands(const std::vector<bool>& lines, int minGap, int* count) {
    std::string where;
    *count = 0;
    int start = -1, lastDark = -minGap - 1;
    for (int i = 0; i <= static_cast<int>(lines.size()); ++i) {
        const bool l = i < static_cast<int>(lines.size()) && lines[static_cast<std::size_t>(i)];
        if (l) {
            if (i - lastDark > minGap) {
                if (start >= 0)
                    where += std::to_string(start) + "-" + std::to_string(lastDark) + " ";
                start = i;
                ++*count;
            }
            lastDark = i;
        }
    }
    if (start >= 0) where += std::to_string(start) + "-" + std::to_string(lastDark);
    return where;
}

constexpr int kMinGap = 8; // pixels, at the export's scale of 2

FigureText readFigure(const QImage& image) {
    const QImage img = image.convertToFormat(QImage::Format_ARGB32);
    FigureText f;
    int best = 0;
    for (int y = 0; y < img.height(); ++y) {
        int n = 0;
        for (int x = 0; x < img.width(); ++x)
            n += dark(img.pixel(x, y));
        if (n > best) best = n, f.xAxisRow = y;
    }
    best = 0;
    for (int x = 0; x < img.width(); ++x) {
        int n = 0;
        for (int y = 0; y < img.height(); ++y)
            n += dark(img.pixel(x, y));
        if (n > best) best = n, f.yAxisColumn = x;
    }
    // Rows below the x axis (from a few pixels under it, past its tick marks), over the width of
    // the axis rect.
    std::vector<bool> rows;
    for (int y = f.xAxisRow + 3; y < img.height(); ++y) {
        bool any = false;
        for (int x = f.yAxisColumn + 3; x < img.width() && !any; ++x)
            any = dark(img.pixel(x, y));
        rows.push_back(any);
    }
    f.below = bands(rows, kMinGap, &f.bandsBelow);
    std::vector<bool> columns;
    for (int x = 0; x < f.yAxisColumn - 2; ++x) {
        bool any = false;
        for (int y = 0; y < f.xAxisRow - 3 && !any; ++y)
            any = dark(img.pixel(x, y));
        columns.push_back(any);
    }
    f.left = bands(columns, kMinGap, &f.bandsLeft);
    int top = f.xAxisRow; // of the axis rect: where the y axis' line begins
    while (top > 0 && dark(img.pixel(f.yAxisColumn, top - 1)))
        --top;
    const int margin = 24; // tick marks, the axis break mark
    for (int y = top + 2; y < f.xAxisRow - margin; ++y)
        for (int x = f.yAxisColumn + margin; x < img.width(); ++x)
            f.darkInside += dark(img.pixel(x, y));
    return f;
}

void expectReadable(const QImage& image, const std::string& what) {
    ASSERT_FALSE(image.isNull()) << what;
    const FigureText f = readFigure(image);
    EXPECT_EQ(f.bandsBelow, 2) << what << ": tick labels, then the axis' title, under the x axis "
                               << f.xAxisRow << ": " << f.below;
    EXPECT_EQ(f.bandsLeft, 2) << what << ": the axis' title, then tick labels, left of the y axis "
                              << f.yAxisColumn << ": " << f.left;
    EXPECT_GT(f.darkInside, 100) << what << ": the legend's text " << f.darkInside;
}

} // namespace

// The committed figures were drawn with their tick labels and legend: the reading of a figure
// finds them (a figure written without them has one band of text under its x axis, one left of
// its y axis, and no legend).
TEST(Report, TheCommittedFiguresReadAsFiguresWithTickLabelsAndLegend) {
    const std::filesystem::path figure = std::filesystem::path(MODE_SOURCE_DIR) /
                                         "experiments/figures/breast-cancer-csv-test_accuracy.png";
    expectReadable(QImage(QString::fromStdString(figure.string())), figure.filename().string());
}

// A figure drawn as mode-report draws it, without an event loop: styled, filled, exported at
// once. The plot's queued replot never comes; the export shows the data's tick labels and legend
// all the same.
TEST(Report, AFigureExportedWithoutAnEventLoopHasTickLabelsAndLegend) {
    TempDir dir;
    QCustomPlot plot;
    plot.resize(640, 400);
    stylePlot(&plot);
    AlphaSeries s{"mean \u00b1 sd over seeds", {}};
    for (double a : {0.0, 0.1, 0.3, 1.0})
        s.points.push_back({a, 0.9 + a / 20, 0.88 + a / 20, 0.92 + a / 20, false});
    drawAlphaSweep(&plot, {s}, "test accuracy");
    const std::string png = dir / "figure.png";
    ASSERT_TRUE(exportPlot(&plot, QString::fromStdString(png), 640, 400));
    EXPECT_TRUE(plot.xAxis->tickLabels());
    EXPECT_TRUE(plot.legend->visible());
    expectReadable(QImage(QString::fromStdString(png)), "exported figure");
}

// mode-report itself, on the offscreen platform, on a store of real runs.
TEST(Report, ModeReportWritesFiguresWithTickLabelsAndLegendOffscreen) {
    TempDir dir;
    const std::string sweep = dir.file(
        "s.json", R"({"name": "t", "base": {"train": {"epochs": 1, "threads": 1, "device": "cpu"},
                     "data": {"regimes": {"samples": 300}}},
                     "grid": {"loss.alpha": [0, 0.3], "train.seed": [1, 2]}})");
    const std::string db = dir / "runs.sqlite", out = dir / "report";
    const std::string bin = programDir();
    auto s = runCommand(bin + "/mode-sweep " + sweep + " --db " + db + " -j 2 -q");
    ASSERT_EQ(s.exitCode, 0) << s.err;
    auto r = runCommand("QT_QPA_PLATFORM=offscreen " + bin + "/mode-report --db " + db + " --out " +
                        out);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    for (const char* fig : {"regimes-test_accuracy.png", "regimes-gate_routing_accuracy.png"})
        expectReadable(QImage(QString::fromStdString(out + "/figures/" + fig)), fig);
}
