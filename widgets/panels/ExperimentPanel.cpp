// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/ExperimentPanel.h"

#include "Theme.h"

#include "data/CsvLoader.h"
#include "data/DatasetFactory.h"
#include "data/TextLoader.h"
#include "train/Trainer.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QRegularExpressionValidator>
#include <QSlider>
#include <QSpinBox>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace mode {

namespace {
constexpr int kSliderSteps = 600; // 1..600: alpha from 1e-4 to 1e2 on a log scale; 0: alpha 0
constexpr double kLogMin = -4, kLogMax = 2;
const char* kOpenItem = "open";

double sliderToAlpha(int v) {
    if (v <= 0) return 0;
    return std::pow(10.0, kLogMin + (v - 1) * (kLogMax - kLogMin) / (kSliderSteps - 1));
}
int alphaToSlider(double a) {
    if (a <= 0) return 0;
    const double t = (std::log10(a) - kLogMin) / (kLogMax - kLogMin);
    return std::clamp(1 + static_cast<int>(std::lround(t * (kSliderSteps - 1))), 1, kSliderSteps);
}

// A combo box as narrow as the form's column allows: its long choice labels are shown in the
// open list (and the tooltip), not by widening the whole form.
void fitToColumn(QComboBox* box) {
    box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    box->setMinimumContentsLength(12);
}
} // namespace

// A number box that shows 0.003, not 0.003000.
class CompactDoubleSpinBox : public QDoubleSpinBox {
  public:
    using QDoubleSpinBox::QDoubleSpinBox;
    QString textFromValue(double v) const override {
        QString t = locale().toString(v, 'f', decimals());
        if (t.contains(locale().decimalPoint())) {
            while (t.endsWith('0'))
                t.chop(1);
            if (t.endsWith(locale().decimalPoint())) t.chop(1);
        }
        return t;
    }
};

ExperimentPanel::ExperimentPanel(QWidget* parent) : QWidget(parent) {
    form_ = new QFormLayout(this);
    form_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

    dataset_ = new QComboBox(this);
    dataset_->setObjectName("dataset");
    fitToColumn(dataset_);
    for (const auto& b : builtinDatasets())
        dataset_->addItem(tr("%1 (built-in)").arg(QString::fromStdString(b)),
                          QString::fromStdString("builtin:" + b));
    dataset_->addItem(tr("Open file\u2026"), kOpenItem);
    addRow(tr("Dataset"), dataset_, "data.path",
           QString::fromStdString(findSetting("data.dataset")->fullHelp()));
    preview_ = new QLabel(this);
    preview_->setObjectName("preview");
    preview_->setWordWrap(true);
    preview_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form_->addRow(QString(), preview_);
    previewTable_ = new QTableWidget(this);
    previewTable_->setObjectName("previewTable");
    previewTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    previewTable_->setSelectionMode(QAbstractItemView::NoSelection);
    previewTable_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 4);
    previewTable_->setMaximumHeight(9 * (fontMetrics().height() + 4) + 2 * fontMetrics().height());
    previewTable_->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);
    form_->addRow(QString(), previewTable_);
    form_->setRowVisible(previewTable_, false);
    target_ = new QComboBox(this);
    target_->setObjectName("target");
    fitToColumn(target_);
    addRow(tr("Target column"), target_, "data.target",
           QString::fromStdString(findSetting("data.target")->fullHelp()));
    subtask_ = new QComboBox(this);
    subtask_->setObjectName("subtaskColumn");
    fitToColumn(subtask_);
    addRow(tr("Sub-task column"), subtask_, "data.subtask_column",
           QString::fromStdString(findSetting("data.subtask_column")->fullHelp()));

    addSettingFields();
    setConfig(ExperimentConfig{});

    connect(dataset_, &QComboBox::activated, this, &ExperimentPanel::onDatasetChosen);
    for (auto* c : {target_, subtask_})
        connect(c, &QComboBox::currentIndexChanged, this, &ExperimentPanel::refresh);
}

// Every setting with a label in the table gets a field, in the table's order; the advanced ones
// are folded under "More settings".
void ExperimentPanel::addSettingFields() {
    for (const auto& s : experimentSettings()) {
        if (s.label.empty()) continue;
        Field f{&s, makeEditor(s), nullptr};
        f.row = f.widget;
        if (s.key == "loss.alpha") { // the number and a log-scale slider that reaches 0
            alphaSlider_ = new QSlider(Qt::Horizontal, this);
            alphaSlider_->setObjectName("alphaSlider");
            alphaSlider_->setRange(0, kSliderSteps);
            alphaSlider_->setToolTip(
                tr("Alpha on a log scale from 0.0001 to 100; far left is 0 (the plain MoE)"));
            f.row = new QWidget(this);
            auto* layout = new QHBoxLayout(f.row);
            layout->setContentsMargins(0, 0, 0, 0);
            layout->addWidget(f.widget);
            layout->addWidget(alphaSlider_, 1);
            auto* box = static_cast<QDoubleSpinBox*>(f.widget);
            connect(box, &QDoubleSpinBox::valueChanged, this,
                    [this](double a) { syncAlphaSlider(a); });
            connect(alphaSlider_, &QSlider::valueChanged, this, [this, box](int v) {
                if (updating_) return;
                updating_ = true;
                box->setValue(sliderToAlpha(v));
                updating_ = false;
                refresh();
            });
        }
        addRow(QString::fromStdString(s.label), f.row, QString::fromStdString(s.key),
               QString::fromStdString(s.fullHelp()));
        f.widget->setToolTip(f.row->toolTip());
        fields_.push_back(f);
    }
    more_ = new QToolButton(this);
    more_->setObjectName("moreSettings");
    more_->setCheckable(true);
    more_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    more_->setArrowType(Qt::RightArrow);
    more_->setText(tr("More settings"));
    more_->setToolTip(tr("Show the settings most runs leave at their defaults"));
    form_->addRow(more_);
    connect(more_, &QToolButton::toggled, this, [this](bool on) {
        more_->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
        updateRowVisibility();
    });
}

QWidget* ExperimentPanel::makeEditor(const Setting& s) {
    QWidget* w = nullptr;
    // Number boxes reach one step past the lower bound, so that an impossible value can be typed
    // and is then explained next to the field rather than silently refused.
    // A whole number without an upper bound a spin box can hold (a 64-bit seed) is typed.
    const bool typed = s.kind == SettingKind::Integer && (!s.max || *s.max > 2147483647.0);
    switch (typed ? SettingKind::Text : s.kind) {
    case SettingKind::Integer: {
        auto* box = new QSpinBox(this);
        const double lo = s.min ? *s.min - 1 : -1e9, hi = s.max ? *s.max : 1e9;
        box->setRange(static_cast<int>(std::max(lo, -2147483647.0)),
                      static_cast<int>(std::min(hi, 2147483647.0)));
        connect(box, &QSpinBox::valueChanged, this, &ExperimentPanel::refresh);
        w = box;
        break;
    }
    case SettingKind::Real: {
        auto* box = new CompactDoubleSpinBox(this);
        box->setDecimals(6);
        box->setRange(s.min ? *s.min - 1 : -1e9, s.max ? *s.max : 1e9);
        box->setSingleStep(s.max && *s.max <= 1 ? 0.05 : s.key == "train.lr" ? 0.0005 : 0.01);
        connect(box, &QDoubleSpinBox::valueChanged, this, &ExperimentPanel::refresh);
        w = box;
        break;
    }
    case SettingKind::Switch: {
        auto* box = new QCheckBox(this);
        connect(box, &QCheckBox::toggled, this, &ExperimentPanel::refresh);
        w = box;
        break;
    }
    case SettingKind::Choice: {
        auto* box = new QComboBox(this);
        if (s.key == "train.device") { // what this LibTorch offers
            box->addItem(tr("auto"), "auto");
            for (const auto& d : availableDevices())
                box->addItem(QString::fromStdString(d), QString::fromStdString(d));
        } else {
            for (const auto& c : s.choices)
                box->addItem(QString::fromStdString(c.label), QString::fromStdString(c.name));
        }
        connect(box, &QComboBox::currentIndexChanged, this, &ExperimentPanel::refresh);
        fitToColumn(box);
        w = box;
        break;
    }
    default: {
        auto* edit = new QLineEdit(this);
        if (s.kind == SettingKind::Text)
            edit->setPlaceholderText(tr("optional"));
        else
            edit->setPlaceholderText(tr("comma-separated"));
        connect(edit, &QLineEdit::textChanged, this, &ExperimentPanel::refresh);
        w = edit;
    }
    }
    w->setObjectName(QString::fromStdString(s.widget));
    return w;
}

void ExperimentPanel::writeField(const Field& f, const nlohmann::json& v) {
    if (auto* box = qobject_cast<QSpinBox*>(f.widget))
        box->setValue(static_cast<int>(
            std::clamp(v.get<double>(), double(box->minimum()), double(box->maximum()))));
    else if (auto* box = qobject_cast<QDoubleSpinBox*>(f.widget))
        box->setValue(v.get<double>());
    else if (auto* box = qobject_cast<QCheckBox*>(f.widget))
        box->setChecked(v.get<bool>());
    else if (auto* box = qobject_cast<QComboBox*>(f.widget))
        box->setCurrentIndex(
            std::max(0, box->findData(QString::fromStdString(v.get<std::string>()))));
    else if (auto* edit = qobject_cast<QLineEdit*>(f.widget)) {
        // Text as it is; numbers as JSON writes them (all 64 bits of a seed); lists comma-joined.
        auto text = [](const nlohmann::json& x) {
            return QString::fromStdString(x.is_string() ? x.get<std::string>() : x.dump());
        };
        QStringList items;
        if (v.is_array())
            for (const auto& x : v)
                items << text(x);
        edit->setText(v.is_array() ? items.join(",") : text(v));
    }
}

nlohmann::json ExperimentPanel::readField(const Field& f, std::string* error) const {
    if (auto* box = qobject_cast<QSpinBox*>(f.widget)) return box->value();
    if (auto* box = qobject_cast<QDoubleSpinBox*>(f.widget)) return box->value();
    if (auto* box = qobject_cast<QCheckBox*>(f.widget)) return box->isChecked();
    if (auto* box = qobject_cast<QComboBox*>(f.widget))
        return box->currentData().toString().toStdString();
    const std::string text = static_cast<QLineEdit*>(f.widget)->text().trimmed().toStdString();
    if (f.setting->kind == SettingKind::Text) return text;
    if (f.setting->kind == SettingKind::Integer && text.empty()) {
        *error = "give a whole number";
        return nullptr;
    }
    try {
        return settingValueFromText(*f.setting, text, f.setting->label);
    } catch (const std::exception& e) {
        *error = e.what();
        return nullptr;
    }
}

const ExperimentPanel::Field* ExperimentPanel::fieldFor(const std::string& key) const {
    for (const auto& f : fields_)
        if (f.setting->key == key) return &f;
    return nullptr;
}

unsigned ExperimentPanel::currentData() const {
    const QString data = dataset_->currentData().toString();
    if (data == "builtin:regimes")
        return kRegimes; // generated: nothing to impute, no columns to pick
    if (data == "builtin:fashion-mnist") return kImages;
    if (data == "builtin:debian-descriptions") return kText;
    if (!data.startsWith("file:")) return kAnyData;
    const std::string path = data.mid(5).toStdString();
    if (QFileInfo(data.mid(5)).isDir()) return kImages;
    return looksLikeTsv(path) ? kText : kTabular;
}

void ExperimentPanel::updateRowVisibility() {
    const unsigned data = currentData();
    const bool more = more_ && more_->isChecked();
    for (const auto& f : fields_) {
        const Setting& s = *f.setting;
        QLabel* error = errors_.value(QString::fromStdString(s.key));
        const bool failing = error && !error->text().isEmpty(); // shown even when folded away
        const bool shown = (s.applies & data) != 0 && (!s.advanced || more || failing);
        form_->setRowVisible(f.row, shown);
        if (error) form_->setRowVisible(error, shown && failing);
    }
}

void ExperimentPanel::addRow(const QString& label, QWidget* field, const QString& errorKey,
                             const QString& tip) {
    field->setToolTip(tip);
    form_->addRow(label, field);
    if (auto* l = form_->labelForField(field)) l->setToolTip(tip);
    auto* error = new QLabel(this);
    error->setObjectName("error:" + errorKey);
    error->setWordWrap(true);
    error->setStyleSheet(QString("color: %1;").arg(errorTextColor(palette()).name()));
    error->setVisible(false);
    form_->addRow(QString(), error);
    errors_[errorKey] = error;
}

void ExperimentPanel::syncAlphaSlider(double alpha) {
    if (updating_) return;
    updating_ = true;
    alphaSlider_->setValue(alphaToSlider(alpha));
    updating_ = false;
}

void ExperimentPanel::setConfig(const ExperimentConfig& c) {
    updating_ = true;
    base_ = c;
    if (!c.data.path.empty()) {
        QString err = openDataFile(QString::fromStdString(c.data.path));
        (void)err; // shown next to the field
    } else {
        int i = dataset_->findData(QString::fromStdString("builtin:" + c.data.dataset));
        dataset_->setCurrentIndex(std::max(0, i));
        lastDatasetIndex_ = dataset_->currentIndex();
        target_->clear();
        subtask_->clear();
        form_->setRowVisible(target_, false);
        form_->setRowVisible(subtask_, false);
        form_->setRowVisible(previewTable_, false);
        csv_.reset();
        preview_->setText(
            c.data.dataset == "regimes"
                ? tr("%1 rows, %2 features, %3 classes, %4 known sub-tasks (synthetic)")
                      .arg(c.data.regimes.samples)
                      .arg(c.data.regimes.features)
                      .arg(c.data.regimes.classes)
                      .arg(c.data.regimes.subtasks)
            : c.data.dataset == "debian-descriptions"
                ? tr("Debian package descriptions labelled with their archive section (15 "
                     "sections; "
                     "built by setup.sh from apt's lists)")
            : c.data.dataset == "fashion-mnist"
                ? tr("70,000 grey images of 28×28 pixels in 10 classes (60,000 train, 10,000 test; "
                     "Debian's dataset-fashion-mnist); the CNN backbone suits it")
                : QString());
    }
    if (!c.data.target.empty())
        target_->setCurrentIndex(
            std::max(0, target_->findText(QString::fromStdString(c.data.target))));
    if (!c.data.subtaskColumn.empty())
        subtask_->setCurrentIndex(
            std::max(0, subtask_->findData(QString::fromStdString(c.data.subtaskColumn))));
    for (const auto& f : fields_)
        writeField(f, f.setting->get(c));
    alphaSlider_->setValue(alphaToSlider(c.loss.alpha));
    updating_ = false;
    updateRowVisibility();
    refresh();
}

QString ExperimentPanel::openDataFile(const QString& path) {
    if (looksLikeTsv(path.toStdString())) return openTextFile(path);
    CsvPreview p;
    QString error;
    try {
        p = previewCsvFile(path.toStdString());
        if (p.columns.size() < 2)
            error = tr("%1: needs at least two columns (features and a target)").arg(path);
    } catch (const std::exception& e) {
        error = QString::fromStdString(e.what());
    }
    fileError_ = error;
    if (!error.isEmpty()) {
        dataset_->setCurrentIndex(lastDatasetIndex_);
        refresh();
        return error;
    }
    const bool wasUpdating = updating_;
    updating_ = true;
    int i = dataset_->findData("file:" + path);
    if (i < 0) {
        i = dataset_->count() - 1; // before "Open file..."
        dataset_->insertItem(i, QFileInfo(path).fileName(), "file:" + path);
        dataset_->setItemData(i, path, Qt::ToolTipRole);
    }
    dataset_->setCurrentIndex(i);
    lastDatasetIndex_ = i;
    target_->clear();
    subtask_->clear();
    subtask_->addItem(tr("none"), QString());
    for (std::size_t c = 0; c < p.columns.size(); ++c) {
        const QString name = QString::fromStdString(p.columns[c]);
        target_->addItem(name, static_cast<int>(c));
        subtask_->addItem(name, name);
    }
    target_->setCurrentIndex(target_->count() - 1);
    form_->setRowVisible(target_, true);
    form_->setRowVisible(subtask_, true);
    csv_ = std::move(p);
    csvPath_ = path;
    showCsvPreview();
    disconnect(target_, &QComboBox::currentIndexChanged, this, nullptr);
    connect(target_, &QComboBox::currentIndexChanged, this, [this] {
        preview_->setText(describeCsv());
        refresh();
    });
    updating_ = wasUpdating;
    refresh();
    return {};
}

// The summary: shape, and the classes (or regression) of the chosen target.
QString ExperimentPanel::describeCsv() const {
    if (!csv_) return {};
    const CsvPreview& p = *csv_;
    const int c = target_->currentData().toInt();
    if (c < 0 || c >= static_cast<int>(p.columns.size())) return {};
    QString classes;
    if (!p.values[c].empty() && (p.kinds[c] == "text" || p.values[c].size() <= 20)) {
        QStringList v;
        for (const auto& [value, n] : p.values[c])
            v << QString("%1 (%2)").arg(QString::fromStdString(value)).arg(n);
        classes = tr("%1 classes: %2").arg(p.values[c].size()).arg(v.join(", "));
    } else {
        classes = tr("numeric target with %1 values: regression").arg(p.distinctValues[c]);
    }
    return tr("<b>%1 rows \u00d7 %2 columns</b> (the first rows below; a column's header says "
              "its kind, its tooltip why)<br>target: %3")
        .arg(p.rows)
        .arg(p.columns.size())
        .arg(classes.toHtmlEscaped());
}

// The first rows as a table; each column's header names its kind, red where the column keeps
// the file from loading as it is, with the reason in its tooltip.
void ExperimentPanel::showCsvPreview() {
    const CsvPreview& p = *csv_;
    previewTable_->clear();
    previewTable_->setColumnCount(static_cast<int>(p.columns.size()));
    previewTable_->setRowCount(static_cast<int>(p.head.size()));
    for (std::size_t c = 0; c < p.columns.size(); ++c) {
        const auto& stats = p.stats[c];
        const bool mixed = stats.numbersWithText();
        auto* header = new QTableWidgetItem(
            QString("%1\n%2").arg(QString::fromStdString(p.columns[c]),
                                  mixed ? tr("numbers + text")
                                        : QString::fromStdString(p.kinds[c])) +
            (stats.missing > 0 ? tr(", %1 missing").arg(stats.missing) : QString()));
        header->setToolTip(QString::fromStdString(p.columns[c] + ": " + describeCsvColumn(p, c)));
        if (mixed) header->setForeground(errorTextColor(palette()));
        previewTable_->setHorizontalHeaderItem(static_cast<int>(c), header);
        for (std::size_t r = 0; r < p.head.size(); ++r)
            previewTable_->setItem(static_cast<int>(r), static_cast<int>(c),
                                   new QTableWidgetItem(QString::fromStdString(p.head[r][c])));
    }
    previewTable_->resizeColumnsToContents();
    form_->setRowVisible(previewTable_, true);
    preview_->setText(describeCsv());
}

QString ExperimentPanel::openTextFile(const QString& path) {
    Dataset d;
    try {
        d = loadTsvFile(path.toStdString());
    } catch (const std::exception& e) {
        fileError_ = QString::fromStdString(e.what());
        dataset_->setCurrentIndex(lastDatasetIndex_);
        refresh();
        return fileError_;
    }
    fileError_.clear();
    const bool wasUpdating = updating_;
    updating_ = true;
    int i = dataset_->findData("file:" + path);
    if (i < 0) {
        i = dataset_->count() - 1;
        dataset_->insertItem(i, QFileInfo(path).fileName(), "file:" + path);
        dataset_->setItemData(i, path, Qt::ToolTipRole);
    }
    dataset_->setCurrentIndex(i);
    lastDatasetIndex_ = i;
    target_->clear();
    subtask_->clear();
    form_->setRowVisible(target_, false);
    form_->setRowVisible(subtask_, false);
    form_->setRowVisible(previewTable_, false);
    csv_.reset();
    std::vector<std::int64_t> perClass(d.classNames.size(), 0);
    for (auto l : d.labels)
        ++perClass[static_cast<std::size_t>(l)];
    QStringList classes;
    for (std::size_t c = 0; c < d.classNames.size(); ++c)
        classes << QString("%1 (%2)")
                       .arg(QString::fromStdString(d.classNames[c]).toHtmlEscaped())
                       .arg(perClass[c]);
    preview_->setText(tr("<b>%1 texts</b> (label&lt;TAB&gt;text)<br>%2 classes: %3<br>the "
                         "embedding-bag or Transformer "
                         "backbone reads them")
                          .arg(d.rows)
                          .arg(d.classNames.size())
                          .arg(classes.join(", ")));
    updating_ = wasUpdating;
    refresh();
    return {};
}

void ExperimentPanel::onDatasetChosen(int index) {
    if (dataset_->itemData(index).toString() == kOpenItem) {
        const QString path =
            QFileDialog::getOpenFileName(this, tr("Open a data file"), QString(),
                                         tr("Data files (*.csv *.tsv *.txt);;All files (*)"));
        if (path.isEmpty()) {
            dataset_->setCurrentIndex(lastDatasetIndex_);
            return;
        }
        openDataFile(path);
        return;
    }
    lastDatasetIndex_ = index;
    fileError_.clear();
    const QString data = dataset_->itemData(index).toString();
    if (data.startsWith("builtin:")) {
        ExperimentConfig c = config();
        c.data = DataConfig{};
        c.data.dataset = data.mid(8).toStdString();
        setConfig(c);
    } else {
        openDataFile(data.mid(5));
    }
}

ExperimentConfig ExperimentPanel::config() const {
    ExperimentConfig c = base_;
    const QString data = dataset_->currentData().toString();
    if (data.startsWith("file:")) {
        c.data.path = data.mid(5).toStdString();
        c.data.dataset.clear();
        c.data.target = target_->currentText().toStdString();
        c.data.subtaskColumn = subtask_->currentData().toString().toStdString();
    } else if (data.startsWith("builtin:")) {
        c.data.path.clear();
        c.data.dataset = data.mid(8).toStdString();
    }
    for (const auto& f : fields_) {
        std::string error;
        const auto value = readField(f, &error);
        if (!error.empty()) continue; // issues() reports it; the setting keeps its last value
        try {
            f.setting->set(c, value, "the form");
        } catch (const std::exception&) {
            // a value the setting's type cannot hold (a negative seed): issues() reports it
        }
    }
    return c;
}

std::vector<ConfigIssue> ExperimentPanel::issues() const {
    auto out = validate(config(), true);
    ExperimentConfig scratch;
    for (const auto& f : fields_) {
        std::string error;
        const auto value = readField(f, &error);
        if (error.empty()) {
            try {
                f.setting->set(scratch, value, "the form");
            } catch (const std::exception& e) {
                error = e.what();
            }
        }
        if (!error.empty()) out.push_back({f.setting->key, error});
    }
    if (!subtask_->currentData().toString().isEmpty() &&
        subtask_->currentText() == target_->currentText())
        out.push_back({"data.subtask_column", "the sub-task column cannot be the target column"});
    // What loading the file would refuse, from its preview: Start stays disabled with the reason.
    const ExperimentConfig c = config();
    if (csv_ && out.empty() && QString::fromStdString(c.data.path) == csvPath_) {
        std::string problem;
        try {
            problem = csvLoadProblem(*csv_, csvOptionsOf(c.data));
        } catch (const std::exception& e) {
            problem = e.what();
        }
        if (!problem.empty())
            out.push_back(
                {"data.path", QFileInfo(csvPath_).fileName().toStdString() + ", " + problem});
    }
    return out;
}

QString ExperimentPanel::errorFor(const QString& field) const {
    auto* l = errors_.value(field);
    return l && l->isVisible() ? l->text() : QString();
}

void ExperimentPanel::refresh() {
    if (updating_) return;
    const ExperimentConfig current = config();
    for (const auto& f : fields_)
        f.row->setEnabled(settingApplies(*f.setting, current));
    const auto problems = issues();
    QMap<QString, QStringList> byField;
    for (const auto& i : problems) {
        QString field = QString::fromStdString(i.field);
        if (!errors_.contains(field)) {
            if (field.startsWith("data."))
                field = "data.path";
            else if (field.startsWith("model."))
                field = "model.experts";
            else if (field.startsWith("loss."))
                field = "loss.alpha";
            else
                field = "train.epochs";
        }
        byField[field] << QString::fromStdString(i.message);
    }
    for (auto it = errors_.begin(); it != errors_.end(); ++it) {
        QStringList lines = byField.value(it.key());
        if (it.key() == "data.path" && !fileError_.isEmpty())
            lines.prepend(fileError_); // the file that was refused
        it.value()->setText(lines.join("\n"));
        it.value()->setVisible(!lines.isEmpty());
    }
    updateRowVisibility();
    const bool valid = problems.empty();
    QString why;
    if (!valid)
        why = QString::fromStdString(problems.front().field + ": " + problems.front().message);
    emit changed();
    if (valid != lastValid_ || !valid) {
        lastValid_ = valid;
        emit validityChanged(valid, why);
    }
}

} // namespace mode
