// SPDX-License-Identifier: GPL-3.0-or-later
// The routing explorer as a person uses it: a click on a heatmap cell, the pages of a stored run
// (inputs, similarity, routing over training) checked against the store and against values
// computed here from the run's own test rows, a gallery of images, and a live run followed.

#include "MainWindow.h"
#include "panels/PredictionDialog.h"
#include "panels/RoutingExplorer.h"
#include "panels/SampleInputsView.h"
#include "plots/RoutingHeatmap.h"
#include "predict/StoredPrediction.h"
#include "store/RunStore.h"

#include "GuiTestSupport.h"
#include "TestSupport.h"

#include <QComboBox>
#include <QListWidget>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTest>
#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <cmath>
#include <filesystem>

using namespace mode;
using namespace mode::test;

namespace {

struct Window : StoreWindow {
    Window() { window.resize(1366, 768); }
    void train(const std::string& flags) {
        const auto r = runCommand(mode::test::programDir() + "/mode-train -q --threads 1 " +
                                  "--device cpu --db " + db + " " + flags);
        ASSERT_EQ(r.exitCode, 0) << r.err;
    }
    RoutingExplorer* open(qint64 run) {
        EXPECT_TRUE(window.openStoredRun(run));
        auto* explorer = window.routingExplorer();
        EXPECT_TRUE(waitUntil([&] { return explorer->isReady(); }));
        return explorer;
    }
};

int rowsOf(RoutingExplorer* e) {
    return e->samplesTable()->model()->rowCount();
}

// Big-endian IDX bytes: a header, then the values.
std::string idx(std::vector<std::uint32_t> dims, const std::string& values) {
    std::string h{'\0', '\0', 0x08, static_cast<char>(dims.size())};
    for (auto d : dims)
        for (int shift : {24, 16, 8, 0})
            h += static_cast<char>((d >> shift) & 0xff);
    return h + values;
}

// n images of 8 x 8: class 0 bright on the left half, class 1 on the right, with noise.
void writeImages(TempDir& dir, const std::string& prefix, std::uint32_t n) {
    std::string pixels, labels;
    for (std::uint32_t i = 0; i < n; ++i) {
        const int label = static_cast<int>(i % 2);
        labels += static_cast<char>(label);
        for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 8; ++x)
                pixels += static_cast<char>(((x < 4) == (label == 0) ? 200 : 30) +
                                            static_cast<int>((i * 7 + x * 3 + y) % 40));
    }
    std::filesystem::create_directories(dir.path() / "images");
    dir.file("images/" + prefix + "-images-idx3-ubyte", idx({n, 8, 8}, pixels));
    dir.file("images/" + prefix + "-labels-idx1-ubyte", idx({n}, labels));
}

} // namespace

// A click on the cell (class 1, the expert of column 2) of the routing heatmap opens the Explorer
// on that class and that expert: as many rows as the stored routing has with that label and top
// expert.
TEST(Explorer, ClickingAHeatmapCellFiltersToItsClassAndExpert) {
    Window w;
    w.train("--epochs 3 --experts 4");
    auto* explorer = w.open(1);
    auto* tabs = w.window.findChild<QTabWidget*>();
    ASSERT_TRUE(tabs);
    tabs->setCurrentIndex(0);
    auto* heatmap = w.window.findChild<RoutingHeatmap*>();
    ASSERT_TRUE(heatmap);
    heatmap->setRows(RoutingHeatmap::Rows::Classes);
    heatmap->plot()->replot();
    ASSERT_TRUE(heatmap->showsClasses());
    const int expert = heatmap->expertAt(2);
    QTest::mouseClick(heatmap->plot(), Qt::LeftButton, {}, heatmap->cellCenter(1, 2));
    ASSERT_TRUE(waitUntil([&] { return tabs->currentWidget() == explorer; }));
    const auto samples = w.store().sampleRouting(1, 3);
    ASSERT_TRUE(samples);
    int expected = 0;
    for (std::size_t i = 0; i < samples->size(); ++i)
        expected += samples->topExpert[i] == expert && samples->label[i] == 1;
    EXPECT_EQ(rowsOf(explorer), expected);
    EXPECT_NE(explorer->summary().indexOf(QString("Expert %1, class '").arg(expert)), -1)
        << explorer->summary().toStdString();
    for (int r = 0; r < rowsOf(explorer); ++r) {
        const auto model = explorer->samplesTable()->model();
        EXPECT_EQ(model->index(r, 4).data().toInt(), expert);
    }
}

// A stored tabular run: the Inputs page's standardised mean differences against the run's own
// test rows (worked out here); the similarity matrix's mean off the diagonal is the epoch's
// stored expert similarity; routing over training draws, for expert 0, each class's share at
// every epoch from the stored routing.
TEST(Explorer, AStoredRunsInputsSimilarityAndRoutingOverTraining) {
    Window w;
    w.train("--epochs 3 --experts 4");
    auto* explorer = w.open(1);
    w.window.showExplorer(0);
    ASSERT_TRUE(waitUntil([&] { return explorer->inputsReady(); }));
    const auto samples = w.store().sampleRouting(1, 3);
    ASSERT_TRUE(samples);
    const PredictionInput test = runSplitRows(w.db, 1, "test");
    ASSERT_EQ(test.data.rows, static_cast<std::int64_t>(samples->size()));
    for (std::size_t r = 0; r < samples->size(); ++r) // the same rows, in the same order
        ASSERT_EQ(static_cast<float>(test.data.labels[r]), samples->label[r]) << "row " << r;
    // Feature by feature: (mean of expert 0's rows - mean of all) / population SD of all.
    const auto cols = static_cast<std::size_t>(test.data.cols);
    std::vector<double> smd(cols);
    for (std::size_t f = 0; f < cols; ++f) {
        double all = 0, group = 0, n = 0, squares = 0;
        const auto rows = static_cast<std::size_t>(test.data.rows);
        for (std::size_t r = 0; r < rows; ++r)
            all += test.data.features[r * cols + f];
        all /= static_cast<double>(rows);
        for (std::size_t r = 0; r < rows; ++r) {
            const double v = test.data.features[r * cols + f];
            squares += (v - all) * (v - all);
            if (samples->topExpert[r] == 0) {
                group += v;
                n += 1;
            }
        }
        smd[f] = (group / n - all) / std::sqrt(squares / static_cast<double>(rows));
    }
    auto* features = explorer->inputsView()->features();
    ASSERT_EQ(features->rowCount(), static_cast<int>(cols));
    double largest = 0;
    for (double d : smd)
        largest = std::max(largest, std::abs(d));
    EXPECT_NEAR(std::abs(features->item(0, 1)->text().toDouble()), largest, 5e-4)
        << "the first row is the feature that differs most";
    for (int r = 0; r < features->rowCount(); ++r) {
        const QString name = features->item(r, 0)->text();
        const auto f = std::find(test.recipe.featureNames.begin(), test.recipe.featureNames.end(),
                                 name.toStdString()) -
                       test.recipe.featureNames.begin();
        ASSERT_LT(static_cast<std::size_t>(f), cols) << name.toStdString();
        EXPECT_NEAR(features->item(r, 1)->text().toDouble(), smd[static_cast<std::size_t>(f)], 5e-4)
            << name.toStdString();
    }

    const auto epochs = w.store().epochs(1);
    const int e = samples->experts;
    ASSERT_EQ(samples->similarity.size(), static_cast<std::size_t>(e * e));
    double off = 0;
    for (int i = 0; i < e; ++i)
        for (int j = 0; j < e; ++j)
            if (i != j) off += samples->similarity[static_cast<std::size_t>(i * e + j)];
    EXPECT_NEAR(off / (e * (e - 1)), epochs.back().expertSimilarity, 1e-5);
    EXPECT_EQ(explorer->similarityTable()->rowCount(), e);
    EXPECT_EQ(explorer->similarityTable()->item(1, 2)->text(),
              QString::number(samples->similarity[static_cast<std::size_t>(e + 2)], 'f', 2));

    explorer->showPage("explorerOverTraining");
    auto* plot = explorer->overTrainingPlot();
    ASSERT_EQ(plot->graphCount(), 3) << "one line per class";
    ASSERT_EQ(plot->itemCount(), 1) << "the epoch on show, marked";
    auto* marker = qobject_cast<QCPItemStraightLine*>(plot->item(0));
    ASSERT_TRUE(marker);
    EXPECT_EQ(marker->point1->coords().x(), 3.0);
    for (int c = 0; c < 3; ++c) {
        ASSERT_EQ(plot->graph(c)->data()->size(), 3) << "one point per epoch";
        for (int k = 0; k < 3; ++k) {
            const RoutingMatrix& m = epochs[static_cast<std::size_t>(k)].routingByClass;
            EXPECT_NEAR(plot->graph(c)->data()->at(k)->value,
                        100.0 * m.argmaxShare[static_cast<std::size_t>(c * m.experts)], 1e-9);
        }
    }
}

// Images: the gallery holds the expert's first rows by gate weight, at most kMaxThumbnails.
TEST(Explorer, TheGalleryShowsTheExpertsImages) {
    Window w;
    writeImages(w.dir, "train", 240);
    writeImages(w.dir, "t10k", 150);
    w.train("--data " + w.dir / "images" + " --format idx --epochs 2 --experts 2");
    auto* explorer = w.open(1);
    const auto samples = w.store().sampleRouting(1, 2);
    ASSERT_TRUE(samples);
    ASSERT_EQ(samples->size(), 150u);
    for (int expert : {-1, 0, 1}) {
        w.window.showExplorer(expert);
        ASSERT_TRUE(waitUntil([&] { return explorer->inputsReady(); }));
        int rows = 0;
        for (auto t : samples->topExpert)
            rows += expert < 0 || t == expert;
        EXPECT_EQ(explorer->inputsView()->gallery()->count(),
                  std::min(rows, SampleInputsView::kMaxThumbnails))
            << "expert " << expert;
        EXPECT_EQ(rowsOf(explorer), rows);
    }
}

// A run trained here: the Explorer lists each kept epoch as it ends and shows the last.
TEST(Explorer, FollowsALiveRunsEpochs) {
    Window w;
    auto* explorer = w.window.routingExplorer();
    std::vector<int> seen;
    QObject::connect(explorer, &RoutingExplorer::shown, [&] {
        if (seen.empty() || seen.back() != explorer->shownEpoch())
            seen.push_back(explorer->shownEpoch());
    });
    w.window.showExplorer(-1);
    auto* epochs = w.window.findChild<QSpinBox*>("epochs");
    ASSERT_TRUE(epochs);
    epochs->setValue(3);
    ASSERT_TRUE(w.window.startRun());
    ASSERT_TRUE(waitUntil([&] { return w.window.startButton()->isEnabled(); }, 120000));
    ASSERT_EQ(w.store().epochs(1).size(), 3u);
    EXPECT_EQ(explorer->epochCount(), 3) << "every epoch of a short run is kept";
    EXPECT_EQ(explorer->shownEpoch(), 3);
    EXPECT_EQ(seen, (std::vector<int>{1, 2, 3})) << "each epoch shown as it ended";
    EXPECT_EQ(rowsOf(explorer), static_cast<int>(w.store().sampleRouting(1, 3)->size()));
    // The slider scrubs back: epoch 1's rows.
    auto* slider = explorer->findChild<QSlider*>("explorerEpochSlider");
    ASSERT_TRUE(slider);
    EXPECT_EQ(slider->maximum(), 2);
    EXPECT_EQ(slider->value(), 2);
    slider->setValue(0);
    EXPECT_EQ(explorer->shownEpoch(), 1);
    EXPECT_NE(explorer->summary().indexOf("at epoch 1:"), -1) << explorer->summary().toStdString();
}

// Regression: no right or wrong, the error of the mixture and of the expert instead; no class
// filter and no confusion matrix.
TEST(Explorer, ARegressionRunShowsErrors) {
    Window w;
    std::string csv = "a,b,y\n";
    for (int i = 0; i < 200; ++i)
        csv += std::to_string(i % 13) + "," + std::to_string((i * 7) % 5) + "," +
               std::to_string(0.5 * (i % 13) - (i * 7) % 5) + "\n";
    w.train("--data " + w.dir.file("r.csv", csv) + " --epochs 2 --experts 2");
    auto* explorer = w.open(1);
    w.window.showExplorer(-1);
    auto* model = explorer->samplesTable()->model();
    ASSERT_GT(model->rowCount(), 0);
    EXPECT_EQ(model->headerData(3, Qt::Horizontal).toString(), "error");
    EXPECT_EQ(model->headerData(6, Qt::Horizontal).toString(), "error");
    const auto samples = w.store().sampleRouting(1, 2);
    ASSERT_TRUE(samples);
    EXPECT_FALSE(samples->classification);
    // The first row shown has the largest gate weight; its error is prediction - label.
    std::size_t first = 0;
    for (std::size_t i = 1; i < samples->size(); ++i)
        if (samples->topWeight[i] > samples->topWeight[first]) first = i;
    EXPECT_NEAR(model->index(0, 3).data().toString().toDouble(),
                samples->prediction[first] - samples->label[first], 1e-3);
    EXPECT_EQ(explorer->confusionTable()->rowCount(), 0);
    EXPECT_FALSE(explorer->findChild<QComboBox*>("explorerClass")->isEnabled());
}
