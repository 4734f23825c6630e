// SPDX-License-Identifier: GPL-3.0-or-later
// The window on every screen and under every hand: its minimum size fits a 1024x640 screen (and
// so 1920x1080 at 150%), the run table can take most of the height, the wheel scrolls the form
// without editing it, the plots' values stay on screen, long run names stay in their column.

#include "MainWindow.h"
#include "compare/CompareView.h"
#include "panels/ExperimentPanel.h"
#include "panels/RunBrowser.h"
#include "plots/LossPlot.h"
#include "plots/PlotStyle.h"
#include "store/RunStore.h"

#include "GuiTestSupport.h"
#include "TestSupport.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QHeaderView>
#include <QLineEdit>
#include <QScrollArea>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTest>
#include <QToolTip>
#include <QWheelEvent>
#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <cmath>
#include <set>
#include <string>

using namespace mode;
using namespace mode::test;

namespace {

// One notch of the wheel turned over the middle of the widget, as the system sends it.
void turnWheel(QWidget* w, int notches) {
    const QPointF at(w->width() / 2.0, w->height() / 2.0);
    QWheelEvent wheel(at, w->mapToGlobal(at), QPoint(), QPoint(0, 120 * notches), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(w, &wheel);
}

// A finished run of one epoch in the store, named `name`.
void trainOne(const std::string& db, const std::string& name) {
    const auto r = runCommand(std::string(MODE_BIN_DIR) +
                              "/mode-train -q --epochs 1 --threads 1 --device cpu --db " + db +
                              " --regimes-samples 300 --name '" + name + "'");
    ASSERT_EQ(r.exitCode, 0) << r.err;
}

// A cell's editor is open in the table.
bool editing(const QTableWidget* table) {
    for (auto* e : table->viewport()->findChildren<QLineEdit*>())
        if (e->isVisible()) return true;
    return false;
}

} // namespace

// The wheel over a field that has not been clicked scrolls the form, it never edits the field;
// a clicked (focused) field takes the wheel as before.
TEST(Workbench, TheWheelOverAnUnfocusedFieldChangesNothing) {
    StoreWindow w;
    auto* panel = w.window.experimentPanel();
    auto* distill = panel->findChild<QComboBox*>("distill");
    auto* epochs = panel->findChild<QSpinBox*>("epochs");
    ASSERT_NE(distill, nullptr);
    ASSERT_NE(epochs, nullptr);
    w.window.startButton()->setFocus();
    const QString before = distill->currentText();
    const int epochsBefore = epochs->value();
    for (int notches : {-1, 1, -1}) {
        turnWheel(distill, notches);
        turnWheel(epochs, notches);
    }
    EXPECT_EQ(distill->currentText(), before) << "the wheel changed Distillation";
    EXPECT_EQ(epochs->value(), epochsBefore) << "the wheel changed Epochs";
    EXPECT_EQ(distill->focusPolicy(), Qt::StrongFocus) << "no focus by the wheel";
    EXPECT_EQ(epochs->focusPolicy(), Qt::StrongFocus);
    epochs->setFocus();
    ASSERT_TRUE(waitUntil([&] { return epochs->hasFocus(); }, 2000));
    turnWheel(epochs, 1);
    EXPECT_EQ(epochs->value(), epochsBefore + 1) << "a focused field takes the wheel";
}

