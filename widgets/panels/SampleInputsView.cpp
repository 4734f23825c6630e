// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/SampleInputsView.h"
#include "TableCell.h"

#include "analysis/SampleProfile.h"
#include "plots/PlotStyle.h"
#include "util/Utf8.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace mode {

namespace {

// An image from C x H x W values (channel-major), stretched to the full grey or colour range.
QImage imageOf(const float* v, const std::vector<std::int64_t>& shape) {
    const int c = static_cast<int>(shape[0]), h = static_cast<int>(shape[1]),
              w = static_cast<int>(shape[2]);
    const std::size_t n = static_cast<std::size_t>(c) * h * w;
    const auto [lo, hi] = std::minmax_element(v, v + n);
    const float span = *hi > *lo ? *hi - *lo : 1.0f;
    QImage image(w, h, QImage::Format_RGB32);
    auto level = [&](int channel, int y, int x) {
        const float t = (v[(static_cast<std::size_t>(channel) * h + y) * w + x] - *lo) / span;
        return static_cast<int>(std::lround(255.0f * t));
    };
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const int r = level(0, y, x);
            image.setPixel(x, y, c >= 3 ? qRgb(r, level(1, y, x), level(2, y, x)) : qRgb(r, r, r));
        }
    return image;
}

QPixmap scaled(const QImage& image, int side) {
    return QPixmap::fromImage(
        image.scaled(side, side, Qt::KeepAspectRatio, Qt::FastTransformation));
}

} // namespace

SampleInputsView::SampleInputsView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    note_ = new QLabel(this);
    note_->setObjectName("explorerInputsNote");
    note_->setWordWrap(true);
    note_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    layout->addWidget(note_);
    pages_ = new QStackedWidget(this);
    layout->addWidget(pages_, 1);
    layout->addStretch(0);

    auto* images = new QWidget(pages_);
    auto* imagesLayout = new QVBoxLayout(images);
    imagesLayout->setContentsMargins(0, 0, 0, 0);
    meanImage_ = new QLabel(images);
    meanImage_->setObjectName("explorerMeanImage");
    imagesLayout->addWidget(meanImage_);
    gallery_ = new QListWidget(images);
    gallery_->setObjectName("explorerGallery");
    gallery_->setViewMode(QListView::IconMode);
    gallery_->setIconSize(QSize(56, 56));
    gallery_->setResizeMode(QListView::Adjust);
    gallery_->setMovement(QListView::Static);
    gallery_->setUniformItemSizes(true);
    imagesLayout->addWidget(gallery_, 1);
    pages_->addWidget(images);

    words_ = new QTableWidget(pages_);
    words_->setObjectName("explorerWords");
    words_->setToolTip(tr("Words over-represented in the group's texts against the other test "
                          "texts: log-odds with an informative Dirichlet prior (Monroe et al. "
                          "2008), sorted by z-score; rare words do not dominate"));
    pages_->addWidget(words_);

    auto* table = new QWidget(pages_);
    auto* tableLayout = new QVBoxLayout(table);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    features_ = new QTableWidget(table);
    features_->setObjectName("explorerFeatures");
    features_->setToolTip(tr("Each feature of the group against all test rows: the standardised "
                             "mean difference (group mean - mean of all) / SD of all, sorted by "
                             "its size"));
    tableLayout->addWidget(features_, 1);
    histograms_ = new QCustomPlot(table);
    histograms_->setObjectName("explorerHistograms");
    histograms_->setMinimumHeight(140);
    tableLayout->addWidget(histograms_, 1);
    pages_->addWidget(table);
    showNote(tr("The samples' inputs show here once an epoch's routing is on show."));
}

QString SampleInputsView::note() const {
    return note_->text();
}

void SampleInputsView::showNote(const QString& note) {
    note_->setText(note);
    pages_->setVisible(false);
}

QString SampleInputsView::firstWords(const PredictionInput& in, std::size_t row, int words) {
    if (!in.recipe.isText() || static_cast<std::int64_t>(row) >= in.data.rows) return {};
    QStringList out;
    const auto cols = static_cast<std::size_t>(in.data.cols);
    for (std::size_t t = 0; t < cols && out.size() < words; ++t) {
        const auto id = static_cast<std::size_t>(in.data.features[row * cols + t]);
        if (id == 0) break;
        out << QString::fromStdString(
            printable(id < in.recipe.vocabulary.size() ? in.recipe.vocabulary[id] : "?"));
    }
    return out.join(' ');
}

void SampleInputsView::showGroup(const std::shared_ptr<const PredictionInput>& inputs,
                                 const std::vector<std::size_t>& group, const QString& groupName) {
    if (!inputs) return showNote(tr("No inputs to show."));
    const PredictionInput& in = *inputs;
    pages_->setVisible(true);
    if (in.recipe.imageShape.size() == 3) {
        showImages(in, group, groupName);
        pages_->setCurrentIndex(0);
    } else if (group.size() == static_cast<std::size_t>(in.data.rows)) {
        pages_->setVisible(false); // nothing to set these rows apart from
        note_->setText(tr("Every test row is on show: pick an expert or a class to see what sets "
                          "its rows apart from the others."));
    } else if (in.recipe.isText()) {
        showWords(in, group);
        pages_->setCurrentIndex(1);
        note_->setText(tr("%1: the words most over-represented in its %2 texts against the "
                          "other test texts (z-score of the log-odds with a prior)")
                           .arg(groupName)
                           .arg(group.size()));
    } else {
        showFeatures(in, group, groupName);
        pages_->setCurrentIndex(2);
    }
}

void SampleInputsView::showImages(const PredictionInput& in, const std::vector<std::size_t>& group,
                                  const QString& groupName) {
    const auto& shape = in.recipe.imageShape;
    const auto cols = static_cast<std::size_t>(in.data.cols);
    gallery_->clear();
    const std::size_t shown = std::min<std::size_t>(group.size(), kMaxThumbnails);
    for (std::size_t i = 0; i < shown; ++i) {
        const std::size_t r = group[i];
        auto* item = new QListWidgetItem(
            QIcon(scaled(imageOf(in.data.features.data() + r * cols, shape), 56)), QString());
        item->setToolTip(tr("test row %1").arg(r));
        gallery_->addItem(item);
    }
    std::vector<std::size_t> all(static_cast<std::size_t>(in.data.rows));
    for (std::size_t r = 0; r < all.size(); ++r)
        all[r] = r;
    const auto groupMean = meanOfRows(in.data.features, cols, group);
    const auto allMean = meanOfRows(in.data.features, cols, all);
    const std::vector<float> g(groupMean.begin(), groupMean.end()),
        a(allMean.begin(), allMean.end());
    QImage pair(2 * static_cast<int>(shape[2]) + 2, static_cast<int>(shape[1]),
                QImage::Format_RGB32);
    pair.fill(Qt::white);
    if (!group.empty()) {
        QPainter p(&pair);
        p.drawImage(0, 0, imageOf(g.data(), shape));
        p.drawImage(static_cast<int>(shape[2]) + 2, 0, imageOf(a.data(), shape));
    }
    meanImage_->setPixmap(QPixmap::fromImage(pair.scaled(
        pair.width() * 3, pair.height() * 3, Qt::KeepAspectRatio, Qt::FastTransformation)));
    note_->setText(tr("%1: its mean image (left) beside the mean of all test images (right); "
                      "below, its first %2 of %3 images by gate weight")
                       .arg(groupName)
                       .arg(shown)
                       .arg(group.size()));
}

void SampleInputsView::showWords(const PredictionInput& in, const std::vector<std::size_t>& group) {
    const auto scores =
        overRepresentedWords(in.data.features, static_cast<std::size_t>(in.data.cols), group, 30);
    words_->clear();
    words_->setColumnCount(4);
    words_->setHorizontalHeaderLabels({tr("word"), tr("z"), tr("in the group"), tr("elsewhere")});
    words_->setRowCount(static_cast<int>(scores.size()));
    for (std::size_t i = 0; i < scores.size(); ++i) {
        const auto& w = scores[i];
        const auto id = static_cast<std::size_t>(w.word);
        const int row = static_cast<int>(i);
        words_->setItem(row, 0,
                        readOnlyCell(QString::fromStdString(printable(
                            id < in.recipe.vocabulary.size() ? in.recipe.vocabulary[id] : "?"))));
        words_->setItem(row, 1, readOnlyCell(QString::number(w.zScore, 'f', 2)));
        words_->setItem(row, 2, readOnlyCell(QString::number(w.inGroup)));
        words_->setItem(row, 3, readOnlyCell(QString::number(w.inOthers)));
    }
    words_->resizeColumnsToContents();
}

void SampleInputsView::showFeatures(const PredictionInput& in,
                                    const std::vector<std::size_t>& group,
                                    const QString& groupName) {
    const auto cols = static_cast<std::size_t>(in.data.cols);
    const auto d = standardisedMeanDifferences(in.data.features, cols, group);
    features_->clear();
    features_->setColumnCount(4);
    features_->setHorizontalHeaderLabels(
        {tr("feature"), tr("SMD"), tr("group mean"), tr("mean of all")});
    features_->setRowCount(static_cast<int>(d.size()));
    auto name = [&](std::size_t f) {
        return QString::fromStdString(printable(f < in.recipe.featureNames.size()
                                                    ? in.recipe.featureNames[f]
                                                    : "x" + std::to_string(f)));
    };
    for (std::size_t i = 0; i < d.size(); ++i) {
        const int row = static_cast<int>(i);
        features_->setItem(row, 0, readOnlyCell(name(d[i].feature)));
        features_->setItem(row, 1, readOnlyCell(QString::number(d[i].smd, 'f', 3)));
        features_->setItem(row, 2, readOnlyCell(QString::number(d[i].groupMean, 'f', 3)));
        features_->setItem(row, 3, readOnlyCell(QString::number(d[i].allMean, 'f', 3)));
    }
    features_->resizeColumnsToContents();
    note_->setText(
        tr("%1 against all %2 test rows, feature by feature (the prepared, "
           "standardised values); below, histograms of the three that differ most (the group in "
           "colour, all rows in grey)")
            .arg(groupName)
            .arg(in.data.rows));
    // Histograms of the top features: the group's and all rows' densities.
    histograms_->clearPlottables();
    histograms_->plotLayout()->clear();
    const std::size_t top = std::min<std::size_t>(3, d.size());
    for (std::size_t k = 0; k < top; ++k) {
        auto* rect = new QCPAxisRect(histograms_);
        histograms_->plotLayout()->addElement(0, static_cast<int>(k), rect);
        const std::size_t f = d[k].feature;
        double lo = 1e300, hi = -1e300;
        for (std::int64_t r = 0; r < in.data.rows; ++r) {
            const double v = in.data.features[static_cast<std::size_t>(r) * cols + f];
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
        const int bins = 20;
        const double width = hi > lo ? (hi - lo) / bins : 1.0;
        auto histogram = [&](const std::vector<std::size_t>* rows) {
            QVector<double> keys(bins), counts(bins, 0);
            const auto n = rows ? rows->size() : static_cast<std::size_t>(in.data.rows);
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t r = rows ? (*rows)[i] : i;
                const double v = in.data.features[r * cols + f];
                counts[std::clamp(static_cast<int>((v - lo) / width), 0, bins - 1)] += 1.0;
            }
            for (int b = 0; b < bins; ++b) {
                keys[b] = lo + (b + 0.5) * width;
                counts[b] /= std::max<double>(1.0, static_cast<double>(n));
            }
            return std::make_pair(keys, counts);
        };
        const auto [allKeys, allShare] = histogram(nullptr);
        const auto [groupKeys, groupShare] = histogram(&group);
        auto* everyRow = new QCPGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        everyRow->setData(allKeys, allShare);
        everyRow->setLineStyle(QCPGraph::lsStepCenter);
        everyRow->setPen(QPen(Qt::gray, 1.5));
        auto* inGroup = new QCPGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        inGroup->setData(groupKeys, groupShare);
        inGroup->setLineStyle(QCPGraph::lsStepCenter);
        inGroup->setPen(QPen(seriesColor(0), 2));
        const QColor text = palette().color(QPalette::WindowText);
        for (QCPAxis* axis : rect->axes()) {
            axis->setBasePen(QPen(text));
            axis->setTickPen(QPen(text));
            axis->setSubTickPen(QPen(text));
            axis->setTickLabelColor(text);
            axis->setLabelColor(text);
        }
        rect->axis(QCPAxis::atBottom)->setLabel(name(f));
        rect->axis(QCPAxis::atLeft)->setLabel(k == 0 ? tr("share of rows") : QString());
        everyRow->rescaleAxes();
        inGroup->rescaleAxes(true);
    }
    histograms_->setBackground(palette().color(QPalette::Base));
    histograms_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace mode
