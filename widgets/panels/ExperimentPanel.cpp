#include "panels/ExperimentPanel.h"

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
#include <QLabel>
#include <QLineEdit>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include <cmath>

namespace mode {

namespace {
constexpr int kSliderSteps = 600;      // 1..600: alpha from 1e-4 to 1e2 on a log scale; 0: alpha 0
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
} // namespace

ExperimentPanel::ExperimentPanel(QWidget* parent) : QWidget(parent) {
    form_ = new QFormLayout(this);
    form_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

    dataset_ = new QComboBox(this);
    dataset_->setObjectName("dataset");
    for (const auto& b : builtinDatasets())
        dataset_->addItem(tr("%1 (built-in)").arg(QString::fromStdString(b)), QString::fromStdString("builtin:" + b));
    dataset_->addItem(tr("Open file\u2026"), kOpenItem);
    addRow(tr("Dataset"), dataset_, "data.path",
           tr("A built-in dataset, or your own CSV file (a header row; the target column is chosen below)"));
    preview_ = new QLabel(this);
    preview_->setObjectName("preview");
    preview_->setWordWrap(true);
    preview_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form_->addRow(QString(), preview_);
    target_ = new QComboBox(this);
    target_->setObjectName("target");
    addRow(tr("Target column"), target_, "data.target", tr("The column to predict: text or few integers give classes, other numbers a regression"));
    subtask_ = new QComboBox(this);
    subtask_->setObjectName("subtaskColumn");
    addRow(tr("Sub-task column"), subtask_, "data.subtask_column",
           tr("Optional: a column naming each row's known sub-task or group; it is kept out of the features and "
              "used to measure gate routing accuracy"));

    experts_ = new QSpinBox(this);
    experts_->setObjectName("experts");
    experts_->setRange(0, 256);
    addRow(tr("Experts"), experts_, "model.experts", tr("Number of experts E (at least 1)"));
    backbone_ = new QComboBox(this);
    backbone_->setObjectName("backbone");
    backbone_->addItem(tr("none (raw features)"), "none");
    backbone_->addItem(tr("MLP layer"), "mlp");
    backbone_->addItem(tr("small CNN (images)"), "cnn");
    backbone_->addItem(tr("embedding bag (text)"), "embedding-bag");
    backbone_->addItem(tr("Transformer encoder (text)"), "transformer");
    backbone_->insertItem(0, tr("auto (embedding bag for text, else none)"), "auto");
    addRow(tr("Backbone"), backbone_, "model.backbone",
           tr("A feature extractor shared by the gate and the experts: none, one MLP layer, a small CNN for "
              "images (two 3x3 convolutions with pooling), or for text an embedding bag (mean of word vectors) or a "
              "one-layer Transformer encoder; auto picks the embedding bag for text"));
    gate_ = new QComboBox(this);
    gate_->setObjectName("gate");
    gate_->addItem(tr("dense softmax"), "dense");
    gate_->addItem(tr("sparse top-k"), "topk");
    addRow(tr("Gate"), gate_, "model.gate",
           tr("Dense: every expert gets a softmax weight. Top-k: only the k largest gate logits are kept "
              "(softmax over them, exact zeros elsewhere)"));
    topK_ = new QSpinBox(this);
    topK_->setObjectName("topK");
    topK_->setRange(0, 256);
    addRow(tr("k"), topK_, "model.top_k", tr("Experts each sample is sent to by the top-k gate (1 <= k <= E)"));
    hidden_ = new QLineEdit(this);
    hidden_->setObjectName("hidden");
    addRow(tr("Expert hidden sizes"), hidden_, "model.hidden",
           tr("Hidden layer widths of each expert MLP, comma-separated (e.g. 64,32); empty: a linear expert"));

    alpha_ = new QDoubleSpinBox(this);
    alpha_->setObjectName("alpha");
    alpha_->setDecimals(4);
    alpha_->setRange(-1, 1000);
    alpha_->setSingleStep(0.01);
    alphaSlider_ = new QSlider(Qt::Horizontal, this);
    alphaSlider_->setObjectName("alphaSlider");
    alphaSlider_->setRange(0, kSliderSteps);
    alphaSlider_->setToolTip(tr("Alpha on a log scale from 0.0001 to 100; far left is 0 (the plain MoE)"));
    auto* alphaRow = new QWidget(this);
    auto* alphaLayout = new QHBoxLayout(alphaRow);
    alphaLayout->setContentsMargins(0, 0, 0, 0);
    alphaLayout->addWidget(alpha_);
    alphaLayout->addWidget(alphaSlider_, 1);
    addRow(tr("Distillation weight \u03b1"), alphaRow, "loss.alpha",
           tr("Weight of the mutual distillation loss among the experts; 0 trains the plain mixture of experts"));
    alpha_->setToolTip(alphaRow->toolTip());
    distill_ = new QComboBox(this);
    distill_->setObjectName("distill");
    distill_->addItem(tr("MSE to the experts' mean"), "mse-mean");
    distill_->addItem(tr("MSE over all pairs"), "mse-pairwise");
    distill_->addItem(tr("KL on softened outputs"), "kl");
    addRow(tr("Distillation"), distill_, "loss.distill",
           tr("How each expert is pulled towards the others: squared error to the mean of all experts (itself "
              "included; with detach teacher, the mean of the other experts), the mean over all pairs, or KL "
              "divergence between temperature-softened distributions (classification only)"));
    temperature_ = new QDoubleSpinBox(this);
    temperature_->setObjectName("temperature");
    temperature_->setRange(0, 100);
    temperature_->setDecimals(2);
    addRow(tr("Temperature"), temperature_, "loss.temperature", tr("Softening temperature of the KL variant (> 0)"));
    detach_ = new QCheckBox(tr("teachers get no distillation gradient"), this);
    detach_->setObjectName("detachTeacher");
    addRow(tr("Detach teacher"), detach_, "loss.detach_teacher",
           tr("Treat the other experts as fixed teachers: the distillation gradient flows into the student only. "
              "For mse-mean the teacher of expert i is then the mean of the OTHER experts (detaching the mean of all "
              "would change nothing)"));
    balance_ = new QDoubleSpinBox(this);
    balance_->setObjectName("balance");
    balance_->setDecimals(4);
    balance_->setRange(-1, 100);
    addRow(tr("Load balancing"), balance_, "loss.balance_weight",
           tr("Weight of the load-balancing loss that keeps the experts evenly used (0: off)"));

    epochs_ = new QSpinBox(this);
    epochs_->setObjectName("epochs");
    epochs_->setRange(0, 1000000);
    addRow(tr("Epochs"), epochs_, "train.epochs", tr("Passes over the training split"));
    batch_ = new QSpinBox(this);
    batch_->setObjectName("batchSize");
    batch_->setRange(0, 1 << 20);
    addRow(tr("Batch size"), batch_, "train.batch_size", tr("Samples per optimisation step"));
    lr_ = new QDoubleSpinBox(this);
    lr_->setObjectName("lr");
    lr_->setDecimals(6);
    lr_->setRange(0, 10);
    lr_->setSingleStep(0.0005);
    addRow(tr("Learning rate"), lr_, "train.lr", tr("Step size of the optimiser (> 0)"));
    optimizer_ = new QComboBox(this);
    optimizer_->setObjectName("optimizer");
    for (const char* o : {"adam", "adamw", "sgd"}) optimizer_->addItem(o, o);
    addRow(tr("Optimiser"), optimizer_, "train.optimizer", tr("Adam, AdamW (decoupled weight decay) or SGD with momentum"));
    seed_ = new QSpinBox(this);
    seed_->setObjectName("seed");
    seed_->setRange(0, 1 << 30);
    addRow(tr("Seed"), seed_, "train.seed", tr("Seeds the initialisation, the split and the minibatch order: same seed, same run on the CPU"));
    device_ = new QComboBox(this);
    device_->setObjectName("device");
    device_->addItem(tr("auto"), "auto");
    for (const auto& d : availableDevices()) device_->addItem(QString::fromStdString(d), QString::fromStdString(d));
    addRow(tr("Device"), device_, "train.device", tr("Where to train: what this LibTorch offers (auto picks CUDA when present)"));
    name_ = new QLineEdit(this);
    name_->setObjectName("runName");
    name_->setPlaceholderText(tr("optional"));
    addRow(tr("Run name"), name_, "name", tr("A name for the run in the history"));

    setConfig(ExperimentConfig{});

    connect(dataset_, &QComboBox::activated, this, &ExperimentPanel::onDatasetChosen);
    for (auto* c : {target_, subtask_, backbone_, gate_, distill_, optimizer_, device_})
        connect(c, &QComboBox::currentIndexChanged, this, &ExperimentPanel::refresh);
    for (auto* s : {experts_, topK_, epochs_, batch_, seed_})
        connect(s, &QSpinBox::valueChanged, this, &ExperimentPanel::refresh);
    for (auto* s : {temperature_, balance_, lr_}) connect(s, &QDoubleSpinBox::valueChanged, this, &ExperimentPanel::refresh);
    connect(alpha_, &QDoubleSpinBox::valueChanged, this, [this](double a) {
        syncAlphaSlider(a);
        refresh();
    });
    connect(alphaSlider_, &QSlider::valueChanged, this, [this](int v) {
        if (updating_) return;
        updating_ = true;
        alpha_->setValue(sliderToAlpha(v));
        updating_ = false;
        refresh();
    });
    connect(detach_, &QCheckBox::toggled, this, &ExperimentPanel::refresh);
    for (auto* e : {hidden_, name_}) connect(e, &QLineEdit::textChanged, this, &ExperimentPanel::refresh);
}

void ExperimentPanel::addRow(const QString& label, QWidget* field, const QString& errorKey, const QString& tip) {
    field->setToolTip(tip);
    form_->addRow(label, field);
    if (auto* l = form_->labelForField(field)) l->setToolTip(tip);
    auto* error = new QLabel(this);
    error->setObjectName("error:" + errorKey);
    error->setWordWrap(true);
    error->setStyleSheet("color: #c62828;");
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
        preview_->setText(c.data.dataset == "regimes"
                              ? tr("%1 rows, %2 features, %3 classes, %4 known sub-tasks (synthetic)")
                                    .arg(c.data.regimes.samples).arg(c.data.regimes.features)
                                    .arg(c.data.regimes.classes).arg(c.data.regimes.subtasks)
                          : c.data.dataset == "debian-descriptions"
                              ? tr("Debian package descriptions labelled with their archive section (15 sections; "
                                   "built by setup.sh from apt's lists)")
                          : c.data.dataset == "fashion-mnist"
                              ? tr("70,000 grey images of 28×28 pixels in 10 classes (60,000 train, 10,000 test; "
                                   "Debian's dataset-fashion-mnist); the CNN backbone suits it")
                              : QString());
    }
    if (!c.data.target.empty()) target_->setCurrentIndex(std::max(0, target_->findText(QString::fromStdString(c.data.target))));
    if (!c.data.subtaskColumn.empty())
        subtask_->setCurrentIndex(std::max(0, subtask_->findData(QString::fromStdString(c.data.subtaskColumn))));
    experts_->setValue(c.model.experts);
    gate_->setCurrentIndex(std::max(0, gate_->findData(QString::fromStdString(c.model.gate))));
    backbone_->setCurrentIndex(std::max(0, backbone_->findData(QString::fromStdString(c.model.backbone))));
    topK_->setValue(c.model.topK);
    QStringList sizes;
    for (int h : c.model.hidden) sizes << QString::number(h);
    hidden_->setText(sizes.join(","));
    alpha_->setValue(c.loss.alpha);
    alphaSlider_->setValue(alphaToSlider(c.loss.alpha));
    distill_->setCurrentIndex(std::max(0, distill_->findData(QString::fromStdString(c.loss.distill))));
    temperature_->setValue(c.loss.temperature);
    detach_->setChecked(c.loss.detachTeacher);
    balance_->setValue(c.loss.balanceWeight);
    epochs_->setValue(c.train.epochs);
    batch_->setValue(static_cast<int>(c.train.batchSize));
    lr_->setValue(c.train.lr);
    optimizer_->setCurrentIndex(std::max(0, optimizer_->findData(QString::fromStdString(c.train.optimizer))));
    seed_->setValue(static_cast<int>(c.train.seed));
    device_->setCurrentIndex(std::max(0, device_->findData(QString::fromStdString(c.train.device))));
    name_->setText(QString::fromStdString(c.name));
    updating_ = false;
    refresh();
}

QString ExperimentPanel::openDataFile(const QString& path) {
    if (looksLikeTsv(path.toStdString())) return openTextFile(path);
    CsvPreview p;
    QString error;
    try {
        p = previewCsvFile(path.toStdString());
        if (p.columns.size() < 2) error = tr("%1: needs at least two columns (features and a target)").arg(path);
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
    // The preview: shape, columns and their kinds, and the classes of the chosen target.
    auto describeTarget = [this, p] {
        const int c = target_->currentData().toInt();
        if (c < 0 || c >= static_cast<int>(p.columns.size())) return QString();
        QString classes;
        if (!p.values[c].empty() && (p.kinds[c] == "text" || p.values[c].size() <= 20)) {
            QStringList v;
            for (const auto& [value, n] : p.values[c]) v << QString("%1 (%2)").arg(QString::fromStdString(value)).arg(n);
            classes = tr("%1 classes: %2").arg(p.values[c].size()).arg(v.join(", "));
        } else {
            classes = tr("numeric target with %1 values: regression").arg(p.distinctValues[c]);
        }
        QStringList cols;
        for (std::size_t i = 0; i < p.columns.size(); ++i)
            cols << QString("%1 <i>%2</i>").arg(QString::fromStdString(p.columns[i]).toHtmlEscaped(),
                                                QString::fromStdString(p.kinds[i]));
        return tr("<b>%1 rows \u00d7 %2 columns</b><br>%3<br>%4")
            .arg(p.rows)
            .arg(p.columns.size())
            .arg(cols.join(", "))
            .arg(classes.toHtmlEscaped());
    };
    preview_->setText(describeTarget());
    disconnect(target_, &QComboBox::currentIndexChanged, this, nullptr);
    connect(target_, &QComboBox::currentIndexChanged, this, [this, describeTarget] {
        preview_->setText(describeTarget());
        refresh();
    });
    updating_ = wasUpdating;
    refresh();
    return {};
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
    std::vector<std::int64_t> perClass(d.classNames.size(), 0);
    for (auto l : d.labels) ++perClass[static_cast<std::size_t>(l)];
    QStringList classes;
    for (std::size_t c = 0; c < d.classNames.size(); ++c)
        classes << QString("%1 (%2)").arg(QString::fromStdString(d.classNames[c]).toHtmlEscaped()).arg(perClass[c]);
    preview_->setText(tr("<b>%1 texts</b> (label&lt;TAB&gt;text)<br>%2 classes: %3<br>the embedding-bag or Transformer "
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
        const QString path = QFileDialog::getOpenFileName(this, tr("Open a data file"), QString(),
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

std::vector<int> ExperimentPanel::hiddenSizes(QString* error) const {
    std::vector<int> sizes;
    const QString text = hidden_->text().trimmed();
    if (text.isEmpty()) return sizes;
    for (const QString& part : text.split(',')) {
        bool ok = false;
        const int v = part.trimmed().toInt(&ok);
        if (!ok || v <= 0) {
            *error = tr("'%1' is not a positive width; write sizes like 64,32").arg(part.trimmed());
            return {};
        }
        sizes.push_back(v);
    }
    return sizes;
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
    c.model.experts = experts_->value();
    c.model.gate = gate_->currentData().toString().toStdString();
    c.model.backbone = backbone_->currentData().toString().toStdString();
    c.model.topK = topK_->value();
    QString ignored;
    c.model.hidden = hiddenSizes(&ignored);
    c.loss.alpha = alpha_->value();
    c.loss.distill = distill_->currentData().toString().toStdString();
    c.loss.temperature = temperature_->value();
    c.loss.detachTeacher = detach_->isChecked();
    c.loss.balanceWeight = balance_->value();
    c.train.epochs = epochs_->value();
    c.train.batchSize = batch_->value();
    c.train.lr = lr_->value();
    c.train.optimizer = optimizer_->currentData().toString().toStdString();
    c.train.seed = static_cast<std::uint64_t>(seed_->value());
    c.train.device = device_->currentData().toString().toStdString();
    c.name = name_->text().trimmed().toStdString();
    return c;
}

std::vector<ConfigIssue> ExperimentPanel::issues() const {
    auto out = validate(config(), true);
    QString hiddenError;
    hiddenSizes(&hiddenError);
    if (!hiddenError.isEmpty()) out.push_back({"model.hidden", hiddenError.toStdString()});
    if (!subtask_->currentData().toString().isEmpty() && subtask_->currentText() == target_->currentText())
        out.push_back({"data.subtask_column", "the sub-task column cannot be the target column"});
    return out;
}

QString ExperimentPanel::errorFor(const QString& field) const {
    auto* l = errors_.value(field);
    return l && l->isVisible() ? l->text() : QString();
}

void ExperimentPanel::refresh() {
    if (updating_) return;
    const bool topk = gate_->currentData().toString() == "topk";
    topK_->setEnabled(topk);
    temperature_->setEnabled(distill_->currentData().toString() == "kl");
    const auto problems = issues();
    QMap<QString, QStringList> byField;
    for (const auto& i : problems) {
        QString field = QString::fromStdString(i.field);
        if (!errors_.contains(field)) {
            if (field.startsWith("data.")) field = "data.path";
            else if (field.startsWith("model.")) field = "model.experts";
            else if (field.startsWith("loss.")) field = "loss.alpha";
            else field = "train.epochs";
        }
        byField[field] << QString::fromStdString(i.message);
    }
    for (auto it = errors_.begin(); it != errors_.end(); ++it) {
        QStringList lines = byField.value(it.key());
        if (it.key() == "data.path" && !fileError_.isEmpty()) lines.prepend(fileError_); // the file that was refused
        it.value()->setText(lines.join("\n"));
        it.value()->setVisible(!lines.isEmpty());
    }
    const bool valid = problems.empty();
    QString why;
    if (!valid) why = QString::fromStdString(problems.front().field + ": " + problems.front().message);
    emit changed();
    if (valid != lastValid_ || !valid) {
        lastValid_ = valid;
        emit validityChanged(valid, why);
    }
}

} // namespace mode
