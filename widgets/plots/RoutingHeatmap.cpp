// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/RoutingHeatmap.h"

#include "plots/PlotStyle.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QSlider>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <cmath>

namespace mode {

RoutingHeatmap::RoutingHeatmap(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    auto* bar = new QHBoxLayout;
    measure_ = new QComboBox(this);
    measure_->addItem(tr("mean gate weight"));
    measure_->addItem(tr("share of top-expert picks"));
    measure_->setToolTip(
        tr("Colour: the mean gate weight the row's test samples give each expert, or the share "
           "of them whose largest gate weight is that expert's"));
    rows_ = new QComboBox(this);
    rows_->addItem(tr("classes"));
    rows_->addItem(tr("sub-tasks"));
    rows_->setToolTip(
        tr("Rows: the classes, or the known sub-tasks of the data (where the data has them)"));
    slider_ = new QSlider(Qt::Horizontal, this);
    slider_->setRange(0, 0);
    slider_->setToolTip(tr("Scrub back through the epochs of the run"));
    for (auto* box : {measure_, rows_}) { // narrow: the open list shows the choices whole
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(8);
    }
    epochLabel_ = new QLabel(tr("no epoch yet"), this);
    epochLabel_->setMinimumWidth(90);
    bar->addWidget(measure_);
    bar->addWidget(rows_);
    bar->addWidget(slider_, 1);
    bar->addWidget(epochLabel_);
    layout->addLayout(bar);

    plot_ = new QCustomPlot(this);
    plot_->setMinimumSize(160, 100);
    layout->addWidget(plot_, 1);
    stylePlot(plot_, false);
    plot_->setInteractions(QCP::Interactions());
    plot_->xAxis->setLabel(tr("expert"));
    plot_->yAxis->setRangeReversed(true);
    for (QCPAxis* a : {plot_->xAxis, plot_->yAxis})
        a->grid()->setVisible(false);
    map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
    map_->setInterpolate(false);
    scale_ = new QCPColorScale(plot_);
    plot_->plotLayout()->addElement(0, 1, scale_);
    scale_->setType(QCPAxis::atRight);
    scale_->axis()->setTickLabelColor(plot_->xAxis->tickLabelColor());
    scale_->axis()->setLabelColor(plot_->xAxis->labelColor());
    map_->setColorScale(scale_);
    map_->setGradient(viridis());
    map_->setDataRange(QCPRange(0, 1));
    auto* group = new QCPMarginGroup(plot_);
    plot_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    scale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);

    connect(plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* event) {
        const int rows = rowCount(), experts = expertCount();
        const auto column =
            static_cast<int>(std::lround(plot_->xAxis->pixelToCoord(event->position().x())));
        const auto row =
            static_cast<int>(std::lround(plot_->yAxis->pixelToCoord(event->position().y())));
        if (row >= 0 && row < rows && column >= 0 && column < experts &&
            plot_->axisRect()->rect().contains(event->position().toPoint()))
            emit cellClicked(row, expertAt(column), showsClasses());
    });
    plot_->setCursor(Qt::PointingHandCursor);
    plot_->setToolTip(tr("Click a cell to see its rows in the Explorer"));
    connect(measure_, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
    connect(rows_, &QComboBox::activated, this, [this] { rowsChosen_ = true; });
    connect(rows_, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
    connect(slider_, &QSlider::valueChanged, this, [this](int v) {
        follow_ = v == slider_->maximum();
        shown_ = v;
        redraw();
    });
    redraw();
}

void RoutingHeatmap::setExpertOrder(std::vector<int> order) {
    order_ = std::move(order);
    redraw();
}

int RoutingHeatmap::expertAt(int column) const {
    const RoutingMatrix* m = shownMatrix();
    if (!m || static_cast<int>(order_.size()) != m->experts) return column; // not this matrix's
    return column >= 0 && column < m->experts ? order_[static_cast<std::size_t>(column)] : column;
}

void RoutingHeatmap::setCompact(bool compact) {
    for (QWidget* w : {static_cast<QWidget*>(measure_), static_cast<QWidget*>(rows_),
                       static_cast<QWidget*>(slider_)})
        w->setVisible(!compact);
    if (compact && scale_->layout()) {
        plot_->plotLayout()->take(scale_);
        plot_->plotLayout()->simplify();
        scale_->setVisible(false);
    }
    redraw();
}

QWidget* RoutingHeatmap::colorBar(QWidget* parent) {
    auto* box = new QWidget(parent);
    auto* l = new QHBoxLayout(box);
    l->setContentsMargins(0, 0, 0, 0);
    const int width = 160, height = 12;
    QImage image(width, height, QImage::Format_RGB32);
    QCPColorGradient g = viridis(); // color() is not const
    for (int x = 0; x < width; ++x) {
        const QRgb c = g.color(x / double(width - 1), QCPRange(0, 1));
        for (int y = 0; y < height; ++y)
            image.setPixel(x, y, c);
    }
    auto* bar = new QLabel(box);
    bar->setObjectName("sharedColorBar");
    bar->setPixmap(QPixmap::fromImage(image));
    l->addWidget(new QLabel("0", box));
    l->addWidget(bar);
    l->addWidget(new QLabel("1", box));
    return box;
}

void RoutingHeatmap::clear() {
    history_.clear();
    shown_ = -1;
    follow_ = true;
    QSignalBlocker block(slider_);
    slider_->setRange(0, 0);
    redraw();
}

void RoutingHeatmap::addEpoch(const EpochMetrics& e) {
    // Where the data knows its sub-tasks, those rows show the gate's specialisation best.
    if (history_.empty() && e.routingBySubtask && !rowsChosen_) {
        QSignalBlocker block(rows_);
        rows_->setCurrentIndex(1);
    }
    history_.push_back({e.epoch, e.routingByClass, e.routingBySubtask});
    rows_->setEnabled(std::any_of(history_.begin(), history_.end(),
                                  [](const Entry& x) { return x.bySubtask.has_value(); }));
    QSignalBlocker block(slider_);
    slider_->setRange(0, static_cast<int>(history_.size()) - 1);
    if (follow_) {
        shown_ = static_cast<int>(history_.size()) - 1;
        slider_->setValue(shown_);
    }
    redraw();
}

void RoutingHeatmap::setMeasure(Measure m) {
    measure_->setCurrentIndex(m == Measure::MeanGate ? 0 : 1);
}
void RoutingHeatmap::setRows(Rows r) {
    rows_->setCurrentIndex(r == Rows::Classes ? 0 : 1);
}

void RoutingHeatmap::showEpochIndex(int index) {
    if (history_.empty()) return;
    slider_->setValue(std::clamp(index, 0, static_cast<int>(history_.size()) - 1));
}

int RoutingHeatmap::shownEpoch() const {
    return shown_ >= 0 && shown_ < epochCount() ? history_[shown_].epoch : 0;
}

const RoutingMatrix* RoutingHeatmap::shownMatrix() const {
    if (shown_ < 0 || shown_ >= epochCount()) return nullptr;
    const Entry& e = history_[static_cast<std::size_t>(shown_)];
    if (rows_->currentIndex() == 1 && e.bySubtask) return &*e.bySubtask;
    return &e.byClass;
}

int RoutingHeatmap::rowCount() const {
    auto* m = shownMatrix();
    return m ? static_cast<int>(m->rowNames.size()) : 0;
}
int RoutingHeatmap::expertCount() const {
    auto* m = shownMatrix();
    return m ? m->experts : 0;
}
double RoutingHeatmap::cellValue(int row, int expert) const {
    auto* m = shownMatrix();
    if (!m) return 0;
    const auto& v = measure_->currentIndex() == 0 ? m->meanGate : m->argmaxShare;
    return v[static_cast<std::size_t>(row * m->experts + expert)];
}
bool RoutingHeatmap::showsClasses() const {
    if (shown_ < 0 || shown_ >= epochCount()) return true;
    return !(rows_->currentIndex() == 1 && history_[static_cast<std::size_t>(shown_)].bySubtask);
}

QPoint RoutingHeatmap::cellCenter(int row, int column) const {
    return {static_cast<int>(plot_->xAxis->coordToPixel(column)),
            static_cast<int>(plot_->yAxis->coordToPixel(row))};
}

QStringList RoutingHeatmap::rowNames() const {
    QStringList names;
    if (auto* m = shownMatrix())
        for (const auto& n : m->rowNames)
            names << QString::fromStdString(n);
    return names;
}

void RoutingHeatmap::redraw() {
    plot_->clearItems();
    const RoutingMatrix* m = shownMatrix();
    if (!m || m->rowNames.empty() || m->experts <= 0) {
        map_->data()->setSize(1, 1);
        map_->data()->fill(0);
        map_->setVisible(false);
        epochLabel_->setText(tr("no epoch yet"));
        plot_->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    const int rows = static_cast<int>(m->rowNames.size()), experts = m->experts;
    map_->setVisible(true);
    map_->data()->setSize(experts, rows);
    map_->data()->setRange(QCPRange(0, experts - 1), QCPRange(0, rows - 1));
    for (int r = 0; r < rows; ++r)
        for (int x = 0; x < experts; ++x)
            map_->data()->setCell(x, r, cellValue(r, expertAt(x)));
    scale_->axis()->setLabel(measure_->currentIndex() == 0 ? tr("mean gate weight")
                                                           : tr("share of top-expert picks"));

    QSharedPointer<QCPAxisTickerText> xt(new QCPAxisTickerText), yt(new QCPAxisTickerText);
    for (int x = 0; x < experts; ++x)
        xt->addTick(x, QString::number(expertAt(x)));
    for (int r = 0; r < rows; ++r)
        yt->addTick(r, QString::fromStdString(m->rowNames[static_cast<std::size_t>(r)]));
    plot_->xAxis->setTicker(xt);
    plot_->yAxis->setTicker(yt);
    plot_->yAxis->setLabel(showsClasses() ? tr("class") : tr("sub-task"));
    plot_->xAxis->setRange(-0.5, experts - 0.5);
    plot_->yAxis->setRange(-0.5, rows - 0.5);
    if (rows * experts <= 160) { // numbers in the cells while they fit
        for (int r = 0; r < rows; ++r)
            for (int x = 0; x < experts; ++x) {
                const double v = cellValue(r, expertAt(x));
                auto* t = new QCPItemText(plot_);
                t->position->setCoords(x, r);
                t->setText(QString::number(v, 'f', 2));
                t->setColor(v > 0.6 ? Qt::black : Qt::white);
                t->setClipToAxisRect(true);
            }
    }
    epochLabel_->setText(tr("epoch %1 (%2/%3)")
                             .arg(history_[static_cast<std::size_t>(shown_)].epoch)
                             .arg(shown_ + 1)
                             .arg(epochCount()));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace mode
