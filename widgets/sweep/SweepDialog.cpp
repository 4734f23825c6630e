// SPDX-License-Identifier: GPL-3.0-or-later
#include "sweep/SweepDialog.h"

#include "config/Settings.h"
#include "util/Format.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QFormLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>

#include <fstream>
#include <memory>

namespace mode {

namespace {

// "0, 0.01, 0.1" -> JSON values (numbers where they parse, else text).
std::vector<nlohmann::json> valueList(const QString& text, const std::string& field) {
    std::vector<nlohmann::json> out;
    for (const QString& part : text.split(',', Qt::SkipEmptyParts)) {
        const std::string v = part.trimmed().toStdString();
        if (v.empty()) continue;
        const auto j = nlohmann::json::parse(v, nullptr, false);
        out.push_back(j.is_discarded() ? nlohmann::json(v) : j);
    }
    if (out.empty()) throw ConfigError(field + ": give at least one value, separated by commas");
    return out;
}

} // namespace

SweepDialog::SweepDialog(const ExperimentConfig& base, const QString& sweepsFolder, QWidget* parent)
    : QDialog(parent), base_(base), folder_(sweepsFolder) {
    setWindowTitle(tr("New sweep"));
    auto* form = new QFormLayout(this);
    name_ = new QLineEdit(
        QString::fromStdString((base.name.empty() ? base.datasetLabel() : base.name) + "-alpha"),
        this);
    name_->setObjectName("sweepName");
    form->addRow(tr("Name"), name_);
    alphas_ = new QLineEdit("0, 0.01, 0.03, 0.1, 0.3, 1", this);
    alphas_->setObjectName("sweepAlphas");
    alphas_->setToolTip(tr("Distillation weights, separated by commas: a log grid with 0 (the "
                           "plain MoE every alpha is compared with)"));
    form->addRow(tr("\u03b1 values"), alphas_);
    otherKey_ = new QComboBox(this);
    otherKey_->setObjectName("sweepOtherKey");
    otherKey_->addItem(tr("(none)"), QString());
    for (const Setting& s : experimentSettings())
        if (s.key != "loss.alpha" && s.key != "train.seed" && s.key != "name" &&
            s.key != "train.threads") // mode-sweep gives each run one thread
            otherKey_->addItem(QString::fromStdString(s.key), QString::fromStdString(s.key));
    otherValues_ = new QLineEdit(this);
    otherValues_->setObjectName("sweepOtherValues");
    otherValues_->setPlaceholderText(tr("values, separated by commas"));
    auto* other = new QHBoxLayout;
    other->addWidget(otherKey_);
    other->addWidget(otherValues_, 1);
    form->addRow(tr("Also vary"), other);
    seeds_ = new QSpinBox(this);
    seeds_->setObjectName("sweepSeeds");
    seeds_->setRange(1, 1000);
    seeds_->setValue(3);
    seeds_->setToolTip(tr("Seeds 1..N for every point (with the adaptive rule: the first round)"));
    form->addRow(tr("Seeds"), seeds_);
    adaptive_ = new QCheckBox(tr("add seeds until the 95% CI of each \u03b1's paired difference "
                                 "against \u03b1 = 0 is narrower than"),
                              this);
    adaptive_->setObjectName("sweepAdaptive");
    width_ = new QDoubleSpinBox(this);
    width_->setObjectName("sweepWidth");
    width_->setDecimals(3);
    width_->setRange(0.001, 1);
    width_->setSingleStep(0.005);
    width_->setValue(0.02);
    maxSeeds_ = new QSpinBox(this);
    maxSeeds_->setObjectName("sweepMaxSeeds");
    maxSeeds_->setRange(2, 1000);
    maxSeeds_->setValue(10);
    auto* rule = new QHBoxLayout;
    rule->addWidget(adaptive_);
    rule->addWidget(width_);
    rule->addWidget(new QLabel(tr("at most"), this));
    rule->addWidget(maxSeeds_);
    rule->addWidget(new QLabel(tr("seeds"), this));
    form->addRow(QString(), rule);
    jobs_ = new QSpinBox(this);
    jobs_->setObjectName("sweepJobs");
    jobs_->setRange(1, 256);
    jobs_->setValue(std::max(1, QThread::idealThreadCount()));
    jobs_->setToolTip(tr("Runs at the same time, each a mode-train process with one LibTorch "
                         "thread (default: one per core)"));
    form->addRow(tr("Runs at once"), jobs_);
    file_ = new QLineEdit(this);
    file_->setObjectName("sweepFile");
    file_->setToolTip(tr("The sweep file written for mode-sweep: rerun it, or shard it on a "
                         "cluster (mode-sweep FILE --shard i/n)"));
    form->addRow(tr("Sweep file"), file_);
    summary_ = new QLabel(this);
    summary_->setObjectName("sweepSummary");
    summary_->setWordWrap(true);
    form->addRow(summary_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    auto* start = buttons->addButton(tr("Start sweep"), QDialogButtonBox::AcceptRole);
    start->setObjectName("startSweep");
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(start, &QPushButton::clicked, this, [this] {
        if (writeFile()) accept();
    });
    form->addRow(buttons);
    for (QLineEdit* e : {name_, alphas_, otherValues_})
        connect(e, &QLineEdit::textChanged, this, [this] { update(); });
    connect(name_, &QLineEdit::textChanged, this, [this] {
        file_->setText(
            QDir(folder_).filePath(name_->text().simplified().replace(' ', '-') + ".json"));
    });
    connect(otherKey_, &QComboBox::currentIndexChanged, this, [this] { update(); });
    for (QSpinBox* s : {seeds_, maxSeeds_, jobs_})
        connect(s, &QSpinBox::valueChanged, this, [this] { update(); });
    connect(adaptive_, &QCheckBox::toggled, this, [this] { update(); });
    file_->setText(QDir(folder_).filePath(name_->text() + ".json"));
    update();
    timeFirstRun();
}

SweepDialog::~SweepDialog() {
    if (timing_ && timing_->state() != QProcess::NotRunning) {
        timing_->kill();
        timing_->waitForFinished(2000);
    }
}

Sweep SweepDialog::sweep() const {
    nlohmann::json j;
    if (name_->text().trimmed().isEmpty()) throw ConfigError("give the sweep a name");
    j["name"] = name_->text().trimmed().toStdString();
    nlohmann::json base = base_.toJson();
    base.erase("name");
    j["base"] = base;
    nlohmann::ordered_json grid = nlohmann::ordered_json::object();
    // Seeds vary slowest: every alpha of seed 1 first, so the paired answer forms early.
    std::vector<int> seeds;
    for (int s = 1; s <= seeds_->value(); ++s)
        seeds.push_back(s);
    grid["train.seed"] = seeds;
    const std::string other = otherKey_->currentData().toString().toStdString();
    if (!other.empty()) grid[other] = valueList(otherValues_->text(), other);
    grid["loss.alpha"] = valueList(alphas_->text(), "loss.alpha");
    j["grid"] = grid;
    Sweep s = Sweep::fromJson(nlohmann::json::parse(j.dump()), "the sweep dialog");
    // fromJson orders the grid by name: put it back in the order chosen here.
    std::vector<std::pair<std::string, std::vector<nlohmann::json>>> ordered;
    for (auto it = grid.begin(); it != grid.end(); ++it)
        ordered.push_back({it.key(), std::vector<nlohmann::json>(it->begin(), it->end())});
    s.grid = ordered;
    return s;
}

SweepPlanChoice SweepDialog::plan() const {
    SweepPlanChoice p;
    p.file = file_->text();
    p.jobs = jobs_->value();
    p.adaptive = adaptive_->isChecked();
    p.width = width_->value();
    p.maxSeeds = std::max(maxSeeds_->value(), seeds_->value());
    return p;
}

int SweepDialog::runCount() const {
    try {
        return static_cast<int>(sweep().size());
    } catch (const std::exception&) {
        return 0;
    }
}

QString SweepDialog::summary() const {
    return summary_->text();
}

void SweepDialog::update() {
    QString text;
    try {
        const Sweep s = sweep();
        const auto runs = static_cast<double>(s.size());
        const double perSeed = runs / seeds_->value();
        text = adaptive_->isChecked()
                   ? tr("%1 runs to start with, at most %2")
                         .arg(s.size())
                         .arg(perSeed * std::max(maxSeeds_->value(), seeds_->value()))
                   : tr("%1 runs").arg(s.size());
        text += tr(", %1 at once").arg(jobs_->value());
        if (epochSeconds_) {
            const double each = startSeconds_ + *epochSeconds_ * base_.train.epochs;
            text += tr("; about %1 (one epoch of the first run took %2 s, starting it %3 s)")
                        .arg(QString::fromStdString(
                            formatDuration(each * runs / std::max(1, jobs_->value()))))
                        .arg(*epochSeconds_, 0, 'f', 2)
                        .arg(startSeconds_, 0, 'f', 1);
        } else {
            text += tr("; timing one epoch of the first run\u2026");
        }
    } catch (const std::exception& e) {
        text = QString::fromStdString(e.what());
    }
    summary_->setText(text);
}

// One epoch of the first point, without a store, in the background: the estimate's unit.
void SweepDialog::timeFirstRun() {
    ExperimentConfig c = base_;
    c.train.epochs = 1;
    c.train.threads = 1;
    c.name = "timing";
    const QString config = QDir::temp().filePath(
        QString("mode-sweep-timing-%1.json").arg(QCoreApplication::applicationPid()));
    std::ofstream(config.toStdString()) << c.toJson().dump();
    timing_ = new QProcess(this);
    auto clock = std::make_shared<QElapsedTimer>();
    clock->start();
    connect(timing_, &QProcess::finished, this, [this, config, clock] {
        QFile::remove(config);
        const auto j = QJsonDocument::fromJson(timing_->readAllStandardOutput()).object();
        if (j.contains("wall_seconds")) {
            epochSeconds_ = j.value("wall_seconds").toDouble();
            // What each run costs besides its epochs: starting, loading the data.
            startSeconds_ = std::max(0.0, clock->elapsed() / 1000.0 - *epochSeconds_);
        }
        update();
    });
    timing_->start(QCoreApplication::applicationDirPath() + "/mode-train",
                   {"--config", config, "--no-store", "--json", "-q"});
}

bool SweepDialog::writeFile() {
    try {
        const Sweep s = sweep();
        QDir().mkpath(QFileInfo(file_->text()).absolutePath());
        std::ofstream out(file_->text().toStdString(), std::ios::trunc);
        out << s.toFileText();
        if (!out.flush()) throw ConfigError("cannot write " + file_->text().toStdString());
        return true;
    } catch (const std::exception& e) {
        summary_->setText(QString::fromStdString(e.what()));
        return false;
    }
}

void SweepDialog::setName(const QString& name) {
    name_->setText(name);
}
void SweepDialog::setAlphas(const QString& list) {
    alphas_->setText(list);
}
void SweepDialog::setOtherField(const QString& key, const QString& values) {
    otherKey_->setCurrentIndex(std::max(0, otherKey_->findData(key)));
    otherValues_->setText(values);
}
void SweepDialog::setSeeds(int count) {
    seeds_->setValue(count);
}
void SweepDialog::setAdaptive(bool on, double width, int maxSeeds) {
    adaptive_->setChecked(on);
    width_->setValue(width);
    maxSeeds_->setValue(maxSeeds);
}
void SweepDialog::setJobs(int jobs) {
    jobs_->setValue(jobs);
}

} // namespace mode
