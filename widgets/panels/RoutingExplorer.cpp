// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/RoutingExplorer.h"
#include "TableCell.h"

#include "panels/SampleInputsView.h"
#include "plots/PlotStyle.h"
#include "store/RunStore.h"
#include "util/Format.h"

#include <QAbstractTableModel>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSlider>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace mode {

// The rows on show, one line each, read from the samples when the view asks (10,000 rows cost
// nothing until they scroll into sight).
class SampleTableModel : public QAbstractTableModel {
  public:
    using QAbstractTableModel::QAbstractTableModel;

    void show(std::shared_ptr<const SampleRouting> samples, std::vector<std::size_t> rows,
              std::vector<std::string> classes, std::shared_ptr<const PredictionInput> inputs) {
        beginResetModel();
        samples_ = std::move(samples);
        rows_ = std::move(rows);
        classes_ = std::move(classes);
        inputs_ = inputs && inputs->recipe.isText() ? std::move(inputs) : nullptr;
        columns_ = {Row, Label, Mixture, MixtureVerdict, Top, Own, OwnVerdict, Weight};
        if (samples_ && samples_->k > 0) columns_.push_back(Gate);
        if (inputs_) columns_.push_back(Text);
        endResetModel();
    }
    int rowCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : static_cast<int>(rows_.size());
    }
    int columnCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : static_cast<int>(columns_.size());
    }
    QVariant headerData(int section, Qt::Orientation o, int role) const override {
        if (o != Qt::Horizontal || role != Qt::DisplayRole)
            return QAbstractTableModel::headerData(section, o, role);
        const bool c = !samples_ || samples_->classification;
        const QStringList names{tr("row"),
                                tr("label"),
                                tr("mixture"),
                                c ? QString() : tr("error"),
                                tr("top expert"),
                                tr("its own"),
                                c ? QString() : tr("error"),
                                tr("gate weight"),
                                tr("gate's %1 experts").arg(samples_ ? samples_->k : 0),
                                tr("text")};
        return section < static_cast<int>(columns_.size())
                   ? QVariant(names[columns_[static_cast<std::size_t>(section)]])
                   : QVariant();
    }
    QVariant data(const QModelIndex& index, int role) const override {
        if (role != Qt::DisplayRole || !samples_) return {};
        const SampleRouting& s = *samples_;
        const std::size_t i = rows_[static_cast<std::size_t>(index.row())];
        const bool known = !std::isnan(s.label[i]);
        auto verdict = [&](float predicted) -> QString {
            if (!known) return {};
            if (s.classification) return predicted == s.label[i] ? "\u2713" : "\u2717";
            return QString::number(predicted - s.label[i], 'g', 4);
        };
        switch (columns_[static_cast<std::size_t>(index.column())]) {
        case Row:
            return QString::number(s.row[i]);
        case Label:
            return known ? name(s.label[i]) : QStringLiteral("?");
        case Mixture:
            return name(s.prediction[i]);
        case MixtureVerdict:
            return verdict(s.prediction[i]);
        case Top:
            return QString::number(s.topExpert[i]);
        case Own:
            return name(s.expertPrediction[i]);
        case OwnVerdict:
            return verdict(s.expertPrediction[i]);
        case Weight:
            return QString::number(s.topWeight[i], 'f', 3);
        case Gate:
            return gate(s, i);
        case Text:
            return inputs_ ? SampleInputsView::firstWords(*inputs_, i) : QString();
        }
        return {};
    }

  private:
    enum Column { Row, Label, Mixture, MixtureVerdict, Top, Own, OwnVerdict, Weight, Gate, Text };
    // A top-k gate's experts of row i with their weights ("3: 0.71, 1: 0.29").
    static QString gate(const SampleRouting& s, std::size_t i) {
        QStringList out;
        const auto k = static_cast<std::size_t>(s.k);
        for (std::size_t j = i * k; j < (i + 1) * k; ++j)
            out << QString("%1: %2").arg(s.gateExperts[j]).arg(s.gateWeights[j], 0, 'f', 2);
        return out.join(", ");
    }
    QString name(float v) const {
        if (!samples_->classification || !(v >= 0))
            return QString::fromStdString(formatShortest(v));
        const auto k = static_cast<std::size_t>(v);
        return QString::fromStdString(k < classes_.size() ? classes_[k] : formatShortest(v));
    }
    std::shared_ptr<const SampleRouting> samples_;
    std::vector<std::size_t> rows_;
    std::vector<std::string> classes_;
    std::shared_ptr<const PredictionInput> inputs_;
    std::vector<Column> columns_;
};

RoutingExplorer::RoutingExplorer(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    epoch_ = new QComboBox(this);
    epoch_->setObjectName("explorerEpoch");
    epoch_->setToolTip(tr("The epochs whose test rows' routing was kept"));
    expert_ = new QComboBox(this);
    expert_->setObjectName("explorerExpert");
    class_ = new QComboBox(this);
    class_->setObjectName("explorerClass");
    for (QComboBox* c : {epoch_, expert_, class_}) { // narrow enough for two side by side
        c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        c->setMinimumContentsLength(9);
    }
    class_->setToolTip(tr("Only the rows of this class (their label)"));
    bar->addWidget(new QLabel(tr("Epoch"), this));
    bar->addWidget(epoch_);
    slider_ = new QSlider(Qt::Horizontal, this);
    slider_->setObjectName("explorerEpochSlider");
    slider_->setToolTip(tr("Scrub through the kept epochs"));
    slider_->setRange(0, 0);
    slider_->setMinimumWidth(80);
    bar->addWidget(slider_);
    bar->addWidget(new QLabel(tr("Expert"), this));
    bar->addWidget(expert_);
    bar->addWidget(new QLabel(tr("Class"), this));
    bar->addWidget(class_);
    bar->addStretch();
    layout->addLayout(bar);
    summary_ = new QLabel(tr("Open a stored run, or start one: each kept epoch's test rows show "
                             "here, expert by expert. A click on a cell of the routing heatmap "
                             "opens its rows here."),
                          this);
    summary_->setObjectName("explorerSummary");
    summary_->setWordWrap(true);
    layout->addWidget(summary_);
    auto* split = new QSplitter(Qt::Horizontal, this);
    samples_ = new QTableView(split);
    samples_->setObjectName("explorerSamples");
    model_ = new SampleTableModel(samples_);
    samples_->setModel(model_);
    samples_->verticalHeader()->setVisible(false);
    samples_->verticalHeader()->setDefaultSectionSize(samples_->fontMetrics().height() + 6);
    samples_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    samples_->horizontalHeader()->setResizeContentsPrecision(100); // widths from 100 rows
    samples_->horizontalHeader()->setStretchLastSection(true);
    pages_ = new QTabWidget(split);
    pages_->setObjectName("explorerPages");
    inputs_ = new SampleInputsView(pages_);
    inputs_->setObjectName("explorerInputs");
    pages_->addTab(inputs_, tr("Inputs"));
    confusion_ = new QTableWidget(pages_);
    confusion_->setObjectName("explorerConfusion");
    confusion_->setToolTip(tr("The top expert's own predictions (columns) against the labels "
                              "(rows) on the rows on show"));
    pages_->addTab(confusion_, tr("Confusion"));
    similarity_ = new QTableWidget(pages_);
    similarity_->setObjectName("explorerSimilarity");
    similarity_->setToolTip(tr("Cosine similarity of each pair of experts' centred outputs on "
                               "the test rows at this epoch (its mean off the diagonal is the "
                               "run's expert similarity, the homogenisation measure)"));
    pages_->addTab(similarity_, tr("Similarity"));
    overTraining_ = new QCustomPlot(pages_);
    overTraining_->setObjectName("explorerOverTraining");
    stylePlot(overTraining_, true, tr("No epochs yet"));
    overTraining_->xAxis->setLabel(tr("epoch"));
    QSharedPointer<QCPAxisTickerFixed> wholeEpochs(new QCPAxisTickerFixed);
    wholeEpochs->setTickStep(1);
    wholeEpochs->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    overTraining_->xAxis->setTicker(wholeEpochs);
    placeLegendAbove(overTraining_, 4);
    pages_->addTab(overTraining_, tr("Over training"));
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);
    // The slider and the list are one choice: the epoch on show.
    connect(slider_, &QSlider::valueChanged, epoch_, &QComboBox::setCurrentIndex);
    connect(epoch_, &QComboBox::currentIndexChanged, this, [this](int i) {
        const QSignalBlocker block(slider_);
        slider_->setValue(i);
    });
    connect(epoch_, &QComboBox::currentIndexChanged, this, [this] {
        if (epoch_->currentIndex() >= 0) loadEpoch(epoch_->currentData().toInt());
    });
    connect(expert_, &QComboBox::currentIndexChanged, this, [this] {
        fill();
        emit filterChanged(expert(), classIndex());
    });
    connect(class_, &QComboBox::currentIndexChanged, this, [this] {
        fill();
        emit filterChanged(expert(), classIndex());
    });
    connect(pages_, &QTabWidget::currentChanged, this, [this] {
        showInputs();
        emit pageChanged(page());
    });
}

RoutingExplorer::~RoutingExplorer() {
    if (watcher_) watcher_->waitForFinished();
}

void RoutingExplorer::clear() {
    ++generation_;
    ++inputsGeneration_;
    ++shownRun_;
    ready_ = false;
    listing_ = false;
    source_ = Source::None;
    run_ = -1;
    epochs_.clear();
    routing_.clear();
    fixed_.reset();
    rows_.clear(); // an expert or class asked for before (wanted*) is still chosen when it comes
    inputRows_.reset();
    inputsState_ = InputsState::NotAsked;
    const QSignalBlocker a(epoch_), b(expert_), c(class_);
    epoch_->clear();
    {
        const QSignalBlocker keep(slider_);
        slider_->setRange(0, 0);
    }
    expert_->clear();
    class_->clear();
    model_->show(nullptr, {}, {}, nullptr);
    confusion_->clear();
    confusion_->setRowCount(0);
    similarity_->clear();
    similarity_->setRowCount(0);
    overTraining_->clearGraphs();
    overTraining_->replot(QCustomPlot::rpQueuedReplot);
    inputs_->showNote(tr("The samples' inputs show here once an epoch's routing is on show."));
}

void RoutingExplorer::showRun(const QString& storePath, qint64 run,
                              const std::vector<std::string>& classNames) {
    clear();
    source_ = Source::Stored;
    path_ = storePath;
    run_ = run;
    classes_ = classNames;
    refreshEpochList();
}

void RoutingExplorer::showLiveRun(const ExperimentConfig& config, const RunStart& start,
                                  const QString& storePath, qint64 runId) {
    clear();
    source_ = Source::Live;
    path_ = storePath;
    run_ = runId;
    liveConfig_ = config;
    liveStart_ = start;
    classes_ = start.classNames;
}

void RoutingExplorer::showSamples(const SampleRouting& samples,
                                  std::shared_ptr<const PredictionInput> inputs,
                                  const QString& title) {
    clear();
    source_ = Source::Fixed;
    fixed_ = std::make_shared<const SampleRouting>(samples);
    classes_ = inputs ? inputs->recipe.classNames : std::vector<std::string>{};
    inputRows_ = std::move(inputs);
    inputsState_ = inputRows_ ? InputsState::Ready : InputsState::Failed;
    inputsProblem_ = tr("No inputs to show.");
    {
        const QSignalBlocker block(epoch_);
        epoch_->addItem(title, 0);
        epoch_->setEnabled(false);
    }
    fill();
}

// The kept epochs' list (small) from the store; new ones are added, the last followed.
void RoutingExplorer::refreshEpochList() {
    if (source_ != Source::Stored || listing_) return;
    listing_ = true;
    const int showing = shownRun_; // a later epoch's read does not make this list stale
    auto* list = new QFutureWatcher<std::vector<int>>(this);
    connect(list, &QFutureWatcherBase::finished, this, [this, list, showing] {
        list->deleteLater();
        if (showing != shownRun_) return;
        listing_ = false;
        std::vector<int> added;
        for (int e : list->result())
            if (epoch_->findData(e) < 0) added.push_back(e);
        if (!added.empty()) addKeptEpochs(added);
        if (epoch_->count() == 0) {
            summary_->setText(tr("Run %1 kept no per-sample routing (stored by an older version, "
                                 "or no epoch ended yet).")
                                  .arg(run_));
            ready_ = true;
            emit shown();
        }
    });
    const std::string path = path_.toStdString();
    const qint64 run = run_;
    list->setFuture(QtConcurrent::run([path, run]() -> std::vector<int> {
        try {
            return RunStore(path, RunStore::Mode::ReadOnly).sampleRoutingEpochs(run);
        } catch (const std::exception&) {
            return {};
        }
    }));
}

// More kept epochs in the list; the last one shown (read once) where the list was following.
void RoutingExplorer::addKeptEpochs(const std::vector<int>& epochs) {
    const bool follow = epoch_->currentIndex() == epoch_->count() - 1;
    {
        const QSignalBlocker block(epoch_);
        for (int epoch : epochs)
            epoch_->addItem(tr("epoch %1").arg(epoch), epoch);
        const QSignalBlocker keep(slider_);
        slider_->setRange(0, epoch_->count() - 1);
        if (follow) epoch_->setCurrentIndex(epoch_->count() - 1);
        slider_->setValue(epoch_->currentIndex());
    }
    if (follow) loadEpoch(epochs.back());
}

void RoutingExplorer::addEpoch(const EpochMetrics& e, const std::vector<std::string>& classNames) {
    if (source_ == Source::Fixed) return;
    if (source_ == Source::None) source_ = Source::Live; // a live run without showLiveRun
    classes_ = classNames;
    routing_[e.epoch] = e.routingByClass;
    if (e.samples) {
        epochs_[e.epoch] = e.samples;
        addKeptEpochs({e.epoch});
    } else if (source_ == Source::Stored) {
        refreshEpochList(); // a followed run: the store may have kept this one
    }
    if (pages_->currentWidget() == overTraining_) fillOverTraining();
}

void RoutingExplorer::loadEpoch(int epoch) {
    if (epochs_.count(epoch) || source_ != Source::Stored) {
        fill();
        return;
    }
    const int generation = ++generation_;
    model_->show(nullptr, {}, {}, nullptr);
    summary_->setText(tr("Reading the routing of epoch %1\u2026").arg(epoch));
    if (watcher_) watcher_.release()->deleteLater();
    watcher_ = std::make_unique<QFutureWatcher<std::shared_ptr<const SampleRouting>>>();
    connect(watcher_.get(), &QFutureWatcherBase::finished, this,
            [this, w = watcher_.get(), generation, epoch] {
                if (generation != generation_) return;
                if (auto s = w->result()) {
                    epochs_[epoch] = s;
                    fill();
                    return;
                }
                summary_->setText(
                    tr("The routing of epoch %1 cannot be read from the store.").arg(epoch));
                ready_ = true;
                emit shown();
            });
    const std::string path = path_.toStdString();
    const qint64 run = run_;
    watcher_->setFuture(
        QtConcurrent::run([path, run, epoch]() -> std::shared_ptr<const SampleRouting> {
            try {
                auto s = RunStore(path, RunStore::Mode::ReadOnly).sampleRouting(run, epoch);
                return s ? std::make_shared<const SampleRouting>(std::move(*s)) : nullptr;
            } catch (const std::exception&) {
                return nullptr;
            }
        }));
}

const SampleRouting* RoutingExplorer::shownSamples() const {
    if (fixed_) return fixed_.get();
    const auto it = epochs_.find(shownEpoch());
    return it == epochs_.end() ? nullptr : it->second.get();
}

QString RoutingExplorer::groupName() const {
    const int expert = expert_->currentData().toInt(), cls = class_->currentData().toInt();
    QString name = expert < 0 ? tr("Every expert") : tr("Expert %1").arg(expert);
    if (cls >= 0 && static_cast<std::size_t>(cls) < classes_.size())
        name += tr(", class '%1'").arg(QString::fromStdString(classes_[cls]));
    return name;
}

// The rows of the chosen expert and class at the epoch on show, sorted by gate weight, and
// every page's view of them.
void RoutingExplorer::fill() {
    const SampleRouting* onShow = shownSamples();
    if (!onShow) return;
    const SampleRouting& s = *onShow;
    bool applied = false; // a choice made before the rows arrived is made now
    if (expert_->count() != s.experts + 1) {
        const QSignalBlocker block(expert_);
        const int keep = wantedExpert_ ? *wantedExpert_ : expert();
        applied = applied || wantedExpert_.has_value();
        wantedExpert_.reset();
        expert_->clear();
        expert_->addItem(tr("every expert"), -1);
        for (int e = 0; e < s.experts; ++e)
            expert_->addItem(tr("expert %1").arg(e), e);
        expert_->setCurrentIndex(std::max(0, expert_->findData(keep)));
    }
    const int classes = s.classification ? static_cast<int>(classes_.size()) : 0;
    if (class_->count() != classes + 1) {
        const QSignalBlocker block(class_);
        class_->clear();
        class_->addItem(tr("every class"), -1);
        for (int c = 0; c < classes; ++c)
            class_->addItem(QString::fromStdString(classes_[static_cast<std::size_t>(c)]), c);
        class_->setEnabled(classes > 0);
        class_->setCurrentIndex(std::max(0, class_->findData(wantedClass_.value_or(-1))));
        applied = applied || wantedClass_.has_value();
        wantedClass_.reset();
    }
    const int expert = expert_->currentData().toInt(), cls = class_->currentData().toInt();
    rows_.clear();
    for (std::size_t i = 0; i < s.size(); ++i)
        if ((expert < 0 || s.topExpert[i] == expert) && (cls < 0 || s.label[i] == cls))
            rows_.push_back(i);
    std::stable_sort(rows_.begin(), rows_.end(),
                     [&](std::size_t a, std::size_t b) { return s.topWeight[a] > s.topWeight[b]; });
    const auto samples = fixed_ ? fixed_ : epochs_.at(shownEpoch());
    model_->show(samples, rows_, classes_,
                 inputsState_ == InputsState::Ready ? inputRows_ : nullptr);
    samples_->resizeColumnsToContents();
    std::int64_t mixtureRight = 0, ownRight = 0, labelled = 0;
    for (std::size_t i : rows_) {
        if (std::isnan(s.label[i])) continue;
        ++labelled;
        mixtureRight += s.prediction[i] == s.label[i];
        ownRight += s.expertPrediction[i] == s.label[i];
    }
    const QString where = fixed_ ? epoch_->currentText() : tr("epoch %1").arg(shownEpoch());
    QString text = tr("%1 at %2: %3 of %4 rows (%5%)")
                       .arg(groupName())
                       .arg(where)
                       .arg(rows_.size())
                       .arg(s.size())
                       .arg(100.0 * static_cast<double>(rows_.size()) /
                                static_cast<double>(std::max<std::size_t>(1, s.size())),
                            0, 'f', 1);
    if (s.classification && labelled > 0) {
        const auto n = static_cast<double>(labelled);
        text += tr("; the mixture right on %1%, the top expert alone on %2% (its probing accuracy)")
                    .arg(100.0 * static_cast<double>(mixtureRight) / n, 0, 'f', 1)
                    .arg(100.0 * static_cast<double>(ownRight) / n, 0, 'f', 1);
    }
    summary_->setText(text);
    fillConfusion(s);
    fillSimilarity(s);
    fillOverTraining();
    showInputs();
    ready_ = true;
    emit shown();
    if (applied) emit filterChanged(expert, cls);
}

void RoutingExplorer::fillConfusion(const SampleRouting& s) {
    confusion_->clear();
    const int classes = s.classification ? static_cast<int>(classes_.size()) : 0;
    confusion_->setRowCount(classes);
    confusion_->setColumnCount(classes);
    if (classes == 0) return;
    QStringList labels;
    for (const auto& c : classes_)
        labels << QString::fromStdString(c);
    confusion_->setHorizontalHeaderLabels(labels);
    confusion_->setVerticalHeaderLabels(labels);
    std::vector<std::int64_t> counts(static_cast<std::size_t>(classes * classes), 0);
    for (std::size_t i : rows_) {
        if (std::isnan(s.label[i])) continue;
        const auto l = static_cast<int>(s.label[i]), p = static_cast<int>(s.expertPrediction[i]);
        if (l >= 0 && l < classes && p >= 0 && p < classes)
            ++counts[static_cast<std::size_t>(l * classes + p)];
    }
    for (int l = 0; l < classes; ++l)
        for (int p = 0; p < classes; ++p)
            confusion_->setItem(
                l, p,
                readOnlyCell(QString::number(counts[static_cast<std::size_t>(l * classes + p)])));
    confusion_->resizeColumnsToContents();
}

void RoutingExplorer::fillSimilarity(const SampleRouting& s) {
    similarity_->clear();
    const int e = s.experts;
    const bool have = s.similarity.size() == static_cast<std::size_t>(e) * e && e > 0;
    similarity_->setRowCount(have ? e : 0);
    similarity_->setColumnCount(have ? e : 0);
    if (!have) return;
    QStringList names;
    for (int i = 0; i < e; ++i)
        names << QString::number(i);
    similarity_->setHorizontalHeaderLabels(names);
    similarity_->setVerticalHeaderLabels(names);
    const int chosen = expert_->currentData().toInt();
    for (int i = 0; i < e; ++i)
        for (int j = 0; j < e; ++j) {
            const double v = s.similarity[static_cast<std::size_t>(i * e + j)];
            auto* item = readOnlyCell(QString::number(v, 'f', 2));
            const QColor c = viridisColor((v + 1.0) / 2.0); // -1 .. 1
            item->setBackground(c);
            item->setForeground(c.lightnessF() > 0.55 ? Qt::black : Qt::white);
            if (i == chosen || j == chosen) {
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
            }
            similarity_->setItem(i, j, item);
        }
    similarity_->resizeColumnsToContents();
}

// The chosen expert's share of each class's test rows (the rows whose top expert it is)
// against epoch; for every expert, each expert's share of the chosen class (or of all rows).
void RoutingExplorer::fillOverTraining() {
    if (pages_->currentWidget() != overTraining_) return; // drawn when its page is shown
    overTraining_->clearGraphs();
    const int expert = expert_->currentData().toInt(), cls = class_->currentData().toInt();
    const bool byClass = expert >= 0;
    const RoutingMatrix* first = routing_.empty() ? nullptr : &routing_.begin()->second;
    const int lines = !first    ? 0
                      : byClass ? static_cast<int>(first->rowNames.size())
                                : first->experts;
    std::vector<QVector<double>> xs(static_cast<std::size_t>(lines)), ys(xs.size());
    std::vector<double> peak(xs.size(), 0.0);
    for (int k = 0; k < lines; ++k) {
        const auto line = static_cast<std::size_t>(k);
        for (const auto& [epoch, m] : routing_) {
            const int rows = static_cast<int>(m.rowNames.size());
            double share = 0, weight = 0;
            for (int r = 0; r < rows; ++r) {
                if (byClass ? r != k : (cls >= 0 && r != cls)) continue;
                const int e = byClass ? expert : k;
                const auto n = static_cast<double>(m.rowCounts[static_cast<std::size_t>(r)]);
                share += n * m.argmaxShare[static_cast<std::size_t>(r * m.experts + e)];
                weight += n;
            }
            xs[line] << epoch;
            ys[line] << (weight > 0 ? 100.0 * share / weight : 0.0);
            peak[line] = std::max(peak[line], ys[line].back());
        }
    }
    // The six lines that reach highest in colour, the others thin and grey (one legend entry).
    std::vector<int> order(static_cast<std::size_t>(lines));
    for (int k = 0; k < lines; ++k)
        order[static_cast<std::size_t>(k)] = k;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return peak[static_cast<std::size_t>(a)] > peak[static_cast<std::size_t>(b)];
    });
    bool otherNamed = false;
    for (int k = 0; k < lines; ++k) {
        const auto line = static_cast<std::size_t>(k);
        const auto rank = std::find(order.begin(), order.end(), k) - order.begin();
        auto* g = overTraining_->addGraph();
        g->setData(xs[line], ys[line], true);
        if (rank < 6) {
            g->setPen(QPen(seriesColor(static_cast<int>(rank)), 2));
            g->setName(byClass ? QString::fromStdString(first->rowNames[line])
                               : tr("expert %1").arg(k));
        } else {
            g->setPen(QPen(QColor(150, 150, 150), 1));
            g->setName(byClass ? tr("other classes") : tr("other experts"));
            if (otherNamed) g->removeFromLegend();
            otherNamed = true;
        }
    }
    overTraining_->yAxis->setLabel(
        byClass
            ? tr("expert %1's share of each class (%)").arg(expert)
            : tr("each expert's share of %1 (%)")
                  .arg(cls >= 0 ? QString::fromStdString(classes_[static_cast<std::size_t>(cls)])
                                : tr("all rows")));
    overTraining_->rescaleAxes();
    overTraining_->yAxis->setRange(0, 100);
    const QCPRange epochs = overTraining_->xAxis->range(); // room for the marker at either end
    overTraining_->xAxis->setRange(epochs.lower - 0.5, epochs.upper + 0.5);
    // The epoch on show, as a dashed line.
    overTraining_->clearItems();
    if (shownEpoch() > 0) {
        auto* line = new QCPItemStraightLine(overTraining_);
        line->setObjectName("shownEpochLine");
        line->point1->setCoords(shownEpoch(), 0);
        line->point2->setCoords(shownEpoch(), 1);
        line->setPen(QPen(palette().color(QPalette::WindowText), 1, Qt::DashLine));
    }
    overTraining_->replot(QCustomPlot::rpQueuedReplot);
}

// The inputs of the rows on show, read (in the background) when the Inputs page is first shown.
void RoutingExplorer::showInputs() {
    if (pages_->currentWidget() == overTraining_) fillOverTraining();
    // Read only for a person looking (a hidden explorer would read a data file for nothing).
    if (pages_->currentWidget() != inputs_ || !shownSamples() || !isVisible()) return;
    switch (inputsState_) {
    case InputsState::NotAsked:
        loadInputs();
        return;
    case InputsState::Loading:
        return;
    case InputsState::Failed:
        inputs_->showNote(inputsProblem_);
        return;
    case InputsState::Ready:
        break;
    }
    if (inputRows_->data.rows != static_cast<std::int64_t>(shownSamples()->size())) {
        inputs_->showNote(tr("The data file's test split has %1 rows, the routing %2: the inputs "
                             "cannot be matched to the rows.")
                              .arg(inputRows_->data.rows)
                              .arg(shownSamples()->size()));
        return;
    }
    inputs_->showGroup(inputRows_, rows_, groupName());
    emit inputsShown();
}

void RoutingExplorer::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    showInputs();
}

void RoutingExplorer::loadInputs() {
    if (source_ != Source::Stored && source_ != Source::Live) return;
    inputsState_ = InputsState::Loading;
    inputs_->showNote(tr("Reading the run's test rows from its data file\u2026"));
    const int generation = ++inputsGeneration_;
    auto* w = new QFutureWatcher<std::shared_ptr<const PredictionInput>>(this);
    auto problem = std::make_shared<std::string>();
    connect(w, &QFutureWatcherBase::finished, this, [this, w, generation, problem] {
        w->deleteLater();
        if (generation != inputsGeneration_) return;
        inputRows_ = w->result();
        inputsState_ = inputRows_ ? InputsState::Ready : InputsState::Failed;
        inputsProblem_ =
            tr("The run's test rows cannot be read: %1").arg(QString::fromStdString(*problem));
        model_->show(fixed_                        ? fixed_
                     : epochs_.count(shownEpoch()) ? epochs_.at(shownEpoch())
                                                   : nullptr,
                     rows_, classes_, inputRows_);
        showInputs();
    });
    const std::string path = path_.toStdString();
    const qint64 run = run_;
    const bool stored = source_ == Source::Stored || (run_ > 0 && !path_.isEmpty());
    const ExperimentConfig config = liveConfig_;
    const RunStart start = liveStart_;
    w->setFuture(QtConcurrent::run([=]() -> std::shared_ptr<const PredictionInput> {
        try {
            return std::make_shared<const PredictionInput>(
                stored ? runSplitRows(path, run, "test") : runSplitRows(config, start, "test"));
        } catch (const std::exception& e) {
            *problem = e.what();
            return nullptr;
        }
    }));
}

void RoutingExplorer::setExpert(int expert) {
    const int i = expert_->findData(expert);
    if (i >= 0)
        expert_->setCurrentIndex(i);
    else if (expert_->count() == 0)
        wantedExpert_ = expert; // chosen when the rows arrive (one not there is ignored)
}

void RoutingExplorer::setClass(int classIndex) {
    const int i = class_->findData(classIndex);
    if (i >= 0)
        class_->setCurrentIndex(i);
    else if (class_->count() == 0)
        wantedClass_ = classIndex;
}

void RoutingExplorer::setEpochIndex(int index) {
    epoch_->setCurrentIndex(index);
}

void RoutingExplorer::showPage(const QString& objectName) {
    for (int i = 0; i < pages_->count(); ++i)
        if (pages_->widget(i)->objectName() == objectName) pages_->setCurrentIndex(i);
}

int RoutingExplorer::expert() const {
    return expert_->currentIndex() >= 0 ? expert_->currentData().toInt() : -1;
}

int RoutingExplorer::classIndex() const {
    return class_->currentIndex() >= 0 ? class_->currentData().toInt() : -1;
}

QString RoutingExplorer::page() const {
    return pages_->currentWidget() ? pages_->currentWidget()->objectName() : QString();
}

int RoutingExplorer::shownEpoch() const {
    return epoch_->currentIndex() >= 0 ? epoch_->currentData().toInt() : 0;
}

int RoutingExplorer::epochCount() const {
    return fixed_ ? 0 : epoch_->count();
}

QString RoutingExplorer::summary() const {
    return summary_->text();
}

} // namespace mode
