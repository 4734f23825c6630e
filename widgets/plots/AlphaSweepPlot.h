// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A measure against the distillation weight alpha, drawn one way for the Compare view and for
// mode-report: alpha on a log scale with a labelled tick at every alpha, alpha = 0 (the plain
// MoE, which a log scale cannot place) on its own tick one decade to the left, set apart by a
// break; each point with its interval, marked points filled and starred (e.g. significant after
// Holm's correction).

#include <QString>

#include <cmath>
#include <optional>
#include <vector>

class QCustomPlot;

namespace mode {

struct AlphaPoint {
    double alpha = 0;
    double value = 0;
    double lower = std::nan(""), upper = std::nan(""); // the interval drawn; NaN: none
    bool marked = false;
};
struct AlphaSeries {
    QString name;
    std::vector<AlphaPoint> points;
};

// Draws the series into the plot (clearing it first). A horizontal dashed line at
// `reference` (e.g. 0 for differences against alpha = 0) where given.
void drawAlphaSweep(QCustomPlot* plot, const std::vector<AlphaSeries>& series,
                    const QString& yLabel, std::optional<double> reference = std::nullopt,
                    const QString& referenceLabel = {});

// Where drawAlphaSweep puts an alpha on its (linear) x axis: log10(alpha), and alpha = 0 one
// decade left of the smallest alpha > 0 of `alphas`.
double alphaAxisPosition(double alpha, const std::vector<double>& alphas);

} // namespace mode
