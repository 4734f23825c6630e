// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/PlotStyle.h"

#include "plots/PlotExport.h"

#include <QHelpEvent>
#include <QMenu>
#include <QPointer>
#include <QToolButton>
#include <QToolTip>
#include <QWhatsThis>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace mode {

QColor seriesColor(int index) {
    // Tableau 10, then 20 more picked one by one from Kelly's colours of maximum contrast and
    // Tableau's light and dark tones, each as far as possible from those before it: Compare's
    // first 20 runs differ by at least 67 in RGB, all 30 by at least 44.
    static const QColor colors[] = {
        QColor(31, 119, 180),  QColor(255, 127, 14),  QColor(44, 160, 44),   QColor(214, 39, 40),
        QColor(148, 103, 189), QColor(140, 86, 75),   QColor(227, 119, 194), QColor(127, 127, 127),
        QColor(188, 189, 34),  QColor(23, 190, 207),  QColor(158, 218, 229), QColor(219, 219, 141),
        QColor(43, 61, 38),    QColor(117, 21, 22),   QColor(249, 147, 121), QColor(81, 56, 103),
        QColor(12, 104, 113),  QColor(103, 103, 18),  QColor(247, 182, 210), QColor(152, 223, 138),
        QColor(243, 195, 0),   QColor(196, 156, 148), QColor(141, 182, 0),   QColor(96, 78, 151),
        QColor(179, 68, 108),  QColor(140, 69, 7),    QColor(226, 88, 34),   QColor(197, 176, 213),
        QColor(190, 0, 50),    QColor(0, 136, 86)};
    constexpr int n = static_cast<int>(std::size(colors));
    return colors[((index % n) + n) % n];
}

QToolButton* helpButton(QWidget* owner, const QString& help) {
    owner->setWhatsThis(help);
    auto* button = new QToolButton(owner);
    button->setText(QStringLiteral("?"));
    button->setAutoRaise(true);
    button->setToolTip(QObject::tr("What this plot shows (also Shift+F1, then a click on it)"));
    button->setAccessibleName(QObject::tr("Help on this plot"));
    QObject::connect(button, &QToolButton::clicked, owner, [owner, button] {
        QWhatsThis::showText(button->mapToGlobal(QPoint(0, button->height())), owner->whatsThis(),
                             owner);
    });
    return button;
}

Qt::Alignment emptiestCorner(QCustomPlot* plot) {
    const QRect area = plot->axisRect()->rect();
    const QSize legend = plot->legend->outerRect().size();
    const Qt::Alignment corners[] = {Qt::AlignTop | Qt::AlignRight, Qt::AlignTop | Qt::AlignLeft,
                                     Qt::AlignBottom | Qt::AlignRight,
                                     Qt::AlignBottom | Qt::AlignLeft};
    int fewest = -1;
    Qt::Alignment best = corners[0];
    for (const Qt::Alignment corner : corners) {
        const int x = corner & Qt::AlignLeft ? area.left() : area.right() - legend.width();
        const int y = corner & Qt::AlignTop ? area.top() : area.bottom() - legend.height();
        const QRect under(x, y, legend.width(), legend.height());
        int points = 0;
        for (int k = 0; k < plot->plottableCount(); ++k) {
            QCPAbstractPlottable* curve = plot->plottable(k);
            const QCPPlottableInterface1D* data = curve->interface1D();
            if (!curve->visible() || !data) continue;
            // A bar counts along its height (it covers what is below its top).
            const bool bar = qobject_cast<QCPBars*>(curve) != nullptr;
            const int n = data->dataCount();
            const int stride = std::max(1, n / 2000); // a bounded cost per repaint
            static const double barParts[] = {0.25, 0.5, 0.75, 1.0}, pointPart[] = {1.0};
            const auto parts = bar ? std::make_pair(barParts, barParts + 4)
                                   : std::make_pair(pointPart, pointPart + 1);
            for (int i = 0; i < n; i += stride)
                for (const double* part = parts.first; part != parts.second; ++part) {
                    const QPointF p(
                        curve->keyAxis()->coordToPixel(data->dataMainKey(i)),
                        curve->valueAxis()->coordToPixel(data->dataMainValue(i) * *part));
                    if (under.contains(p.toPoint())) ++points;
                }
        }
        if (fewest < 0 || points < fewest) {
            fewest = points;
            best = corner;
        }
    }
    return best;
}

void placeLegendAbove(QCustomPlot* plot, int perRow) {
    QCPLegend* legend = plot->legend;
    plot->axisRect()->insetLayout()->take(legend);
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, legend);
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    plot->plotLayout()->setRowSpacing(0);
    legend->setFillOrder(QCPLegend::foColumnsFirst);
    legend->setWrap(perRow);
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    legend->setMargins(QMargins(2, 0, 2, 0));
    legend->setRowSpacing(0);
    legend->setColumnSpacing(12);
    legend->setMaximumSize(QWIDGETSIZE_MAX, QWIDGETSIZE_MAX);
}

void placeLegendInEmptiestCorner(QCustomPlot* plot) {
    if (!plot->legend->visible() || plot->graphCount() == 0) return;
    if (plot->legend->layout() != plot->axisRect()->insetLayout()) return; // placed above
    plot->axisRect()->insetLayout()->setInsetAlignment(0, emptiestCorner(plot));
}

QString crosshairText(QCustomPlot* plot, double key) {
    struct Near {
        QString name;
        double key, value;
    };
    std::vector<Near> found;
    for (int g = 0; g < plot->graphCount(); ++g) {
        QCPGraph* graph = plot->graph(g);
        // Hidden curves and the edges of bands (no pen) say nothing of their own.
        if (!graph->visible() || graph->dataCount() == 0 || graph->pen().style() == Qt::NoPen)
            continue;
        // The point nearest to key: the first at or after it, or the one before.
        auto it = graph->data()->findBegin(key, false);
        if (it == graph->data()->constEnd()) --it;
        if (it != graph->data()->constBegin()) {
            auto before = it - 1;
            if (std::abs(before->key - key) < std::abs(it->key - key)) it = before;
        }
        if (std::isnan(it->value)) continue;
        found.push_back({graph->name(), it->key, it->value});
    }
    if (found.empty()) return {};
    const auto nearest = std::min_element(found.begin(), found.end(), [&](auto& a, auto& b) {
        return std::abs(a.key - key) < std::abs(b.key - key);
    });
    const QString xName =
        plot->xAxis->label().isEmpty() ? QStringLiteral("x") : plot->xAxis->label().toLower();
    QString text = QString("%1 %2").arg(xName, QString::number(nearest->key, 'g', 8));
    for (const auto& f : found) {
        text += "\n" + (f.name.isEmpty() ? QStringLiteral("value") : f.name) + ": " +
                QString::number(f.value, 'g', 4);
        if (f.key != nearest->key)
            text += QString(" (%1 %2)").arg(xName, QString::number(f.key, 'g', 8));
    }
    return text;
}

bool plotHasData(QCustomPlot* plot) {
    for (int i = 0; i < plot->plottableCount(); ++i) {
        QCPAbstractPlottable* p = plot->plottable(i);
        if (!p->visible()) continue;
        if (const auto* data = p->interface1D(); data && data->dataCount() > 0) return true;
        if (auto* map = qobject_cast<QCPColorMap*>(p);
            map && map->data()->keySize() > 0 && map->data()->valueSize() > 0)
            return true;
    }
    return false;
}

namespace {

// The crosshair: a dashed vertical line at the mouse and a tooltip of the values under it; it
// goes when the mouse leaves the plot.
class Crosshair : public QObject {
  public:
    explicit Crosshair(QCustomPlot* plot) : QObject(plot), plot_(plot) {
        plot->installEventFilter(this);
        connect(plot, &QCustomPlot::mouseMove, this, &Crosshair::moved);
    }

  private:
    bool eventFilter(QObject*, QEvent* event) override {
        if (event->type() == QEvent::Leave) hide();
        // The mouse rests on the plot: the values stay (no help tooltip of a parent replaces
        // them).
        if (event->type() == QEvent::ToolTip && line_ && line_->visible()) {
            const auto* help = static_cast<QHelpEvent*>(event);
            const QString text = crosshairText(plot_, plot_->xAxis->pixelToCoord(help->x()));
            if (!text.isEmpty())
                QToolTip::showText(help->globalPos() + QPoint(14, 10), text, plot_);
            return true;
        }
        return false;
    }
    void moved(QMouseEvent* event) {
        const QPoint at = event->position().toPoint();
        if (event->buttons() != Qt::NoButton || !plot_->axisRect()->rect().contains(at) ||
            plot_->graphCount() == 0) {
            hide();
            return;
        }
        const double key = plot_->xAxis->pixelToCoord(at.x());
        const QString text = crosshairText(plot_, key);
        if (text.isEmpty()) {
            hide();
            return;
        }
        if (!line_) {
            line_ = new QCPItemStraightLine(plot_);
            line_->setSelectable(false);
            QColor c = plot_->palette().color(QPalette::WindowText);
            c.setAlphaF(0.45);
            line_->setPen(QPen(c, 1, Qt::DashLine));
        }
        line_->setVisible(true);
        line_->point1->setCoords(key, 0);
        line_->point2->setCoords(key, 1);
        plot_->replot(QCustomPlot::rpQueuedReplot);
        QToolTip::showText(event->globalPosition().toPoint() + QPoint(14, 10), text, plot_);
    }
    void hide() {
        if (line_ && line_->visible()) {
            line_->setVisible(false);
            plot_->replot(QCustomPlot::rpQueuedReplot);
        }
        QToolTip::hideText();
    }
    QCustomPlot* plot_;
    QPointer<QCPItemStraightLine> line_; // a plot's clearItems() deletes it
};

// A note in the middle of an empty plot, instead of bare 0-5 axes.
class EmptyNote : public QObject {
  public:
    EmptyNote(QCustomPlot* plot, QString note)
        : QObject(plot), plot_(plot), note_(std::move(note)), legend_(plot->legend->visible()) {
        connect(plot, &QCustomPlot::beforeReplot, this, &EmptyNote::update);
        update();
    }

  private:
    void update() {
        const bool empty = !plotHasData(plot_);
        if (!item_ && empty) {
            item_ = new QCPItemText(plot_);
            item_->setSelectable(false);
            item_->position->setType(QCPItemPosition::ptAxisRectRatio);
            item_->position->setCoords(0.5, 0.5);
            item_->setPositionAlignment(Qt::AlignCenter);
            item_->setText(note_);
            item_->setColor(plot_->palette().color(QPalette::PlaceholderText));
        }
        if (item_) item_->setVisible(empty);
        for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis})
            axis->setTickLabels(!empty);
        if (legend_) plot_->legend->setVisible(!empty); // names of curves not there yet
    }
    QCustomPlot* plot_;
    QString note_;
    bool legend_;
    QPointer<QCPItemText> item_; // a plot's clearItems() deletes it
};

void addContextMenu(QCustomPlot* plot) {
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(plot, &QWidget::customContextMenuRequested, plot, [plot](const QPoint& at) {
        QMenu menu(plot);
        menu.addAction(QObject::tr("Export\u2026"), plot, [plot] {
            exportPlotInteractively(plot, plot->window(),
                                    plot->objectName().isEmpty() ? QStringLiteral("plot")
                                                                 : plot->objectName());
        });
        menu.addAction(QObject::tr("Copy image"), plot, [plot] { copyPlotToClipboard(plot); });
        menu.addAction(QObject::tr("Copy data (CSV)"), plot,
                       [plot] { QApplication::clipboard()->setText(plotToCsv(plot)); });
        menu.addSeparator();
        menu.addAction(QObject::tr("Fit"), plot, [plot] { fitPlot(plot); });
        menu.exec(plot->mapToGlobal(at));
    });
}

} // namespace

void stylePlot(QCustomPlot* plot, bool withLegend, const QString& emptyNote) {
    const QPalette pal = plot->palette();
    const QColor fg = pal.color(QPalette::WindowText);
    const QColor bg = pal.color(QPalette::Base);
    const QColor grid = QColor::fromRgbF(fg.redF(), fg.greenF(), fg.blueF(), 0.15);
    plot->setBackground(bg);
    for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {
        axis->setBasePen(QPen(fg));
        axis->setTickPen(QPen(fg));
        axis->setSubTickPen(QPen(fg));
        axis->setTickLabelColor(fg);
        axis->setLabelColor(fg);
        axis->grid()->setPen(QPen(grid));
    }
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->setNoAntialiasingOnDrag(true);
    if (withLegend) {
        plot->legend->setVisible(true);
        plot->legend->setBrush(QBrush(QColor::fromRgbF(bg.redF(), bg.greenF(), bg.blueF(), 0.85)));
        plot->legend->setTextColor(fg);
        plot->legend->setBorderPen(QPen(grid));
        plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
        // A click on a legend entry hides its curve (and shows it again); the entry greys out.
        QObject::connect(plot, &QCustomPlot::legendClick, plot,
                         [plot, fg](QCPLegend*, QCPAbstractLegendItem* item, QMouseEvent*) {
                             auto* entry = qobject_cast<QCPPlottableLegendItem*>(item);
                             if (!entry) return;
                             QCPAbstractPlottable* curve = entry->plottable();
                             curve->setVisible(!curve->visible());
                             QColor text = fg;
                             if (!curve->visible()) text.setAlphaF(0.35);
                             entry->setTextColor(text);
                             plot->replot(QCustomPlot::rpQueuedReplot);
                         });
        // The legend sits in the corner with the fewest data points under it.
        QObject::connect(plot, &QCustomPlot::beforeReplot, plot,
                         [plot] { placeLegendInEmptiestCorner(plot); });
    }
    QObject::connect(plot, &QCustomPlot::mouseDoubleClick, plot,
                     [plot](QMouseEvent*) { fitPlot(plot); });
    new Crosshair(plot);
    addContextMenu(plot);
    if (!emptyNote.isEmpty()) new EmptyNote(plot, emptyNote);
}

void fitPlot(QCustomPlot* plot) {
    plot->rescaleAxes(true);
    for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {
        QCPRange r = axis->range();
        if (axis->scaleType() == QCPAxis::stLinear) {
            const double pad = r.size() > 0 ? r.size() * 0.04 : 0.5;
            axis->setRange(r.lower - (axis == plot->yAxis ? pad : 0), r.upper + pad);
        }
    }
    plot->replot(QCustomPlot::rpQueuedReplot);
}

QCPColorGradient viridis() {
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorStopAt(0.00, QColor(68, 1, 84));
    g.setColorStopAt(0.25, QColor(59, 82, 139));
    g.setColorStopAt(0.50, QColor(33, 145, 140));
    g.setColorStopAt(0.75, QColor(94, 201, 98));
    g.setColorStopAt(1.00, QColor(253, 231, 37));
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    return g;
}

QColor viridisColor(double t) {
    QCPColorGradient g = viridis(); // color() is not const
    return QColor::fromRgb(g.color(std::clamp(t, 0.0, 1.0), QCPRange(0, 1)));
}

} // namespace mode
