// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The experiment form: dataset (built-in or the user's file, with a preview), the model, the
// loss and the training knobs. The knobs are made from the settings table: each with its label,
// range or choices and help (the tooltip); settings that do not apply to the data chosen are
// hidden, the advanced ones folded under "More settings". A setting that cannot work shows why
// next to its field, and the panel reports itself invalid (Start stays disabled).

#include "config/ExperimentConfig.h"
#include "config/Settings.h"
#include "data/CsvLoader.h"

#include <QMap>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QSlider;
class QSpinBox;
class QTableWidget;
class QToolButton;

namespace mode {

class ExperimentPanel : public QWidget {
    Q_OBJECT
  public:
    explicit ExperimentPanel(QWidget* parent = nullptr);

    ExperimentConfig config() const;
    void setConfig(const ExperimentConfig& config);
    // Problems of the current settings (empty: Start may go).
    std::vector<ConfigIssue> issues() const;
    bool isValid() const { return issues().empty(); }
    // Uses the user's CSV file as the dataset; returns the error (empty on success).
    QString openDataFile(const QString& path);
    // The error shown next to a field ("model.top_k", ...), empty if none.
    QString errorFor(const QString& field) const;

  signals:
    void changed();
    void validityChanged(bool valid, const QString& why);

  private:
    // One form field made from a setting's declaration (config/Settings.h).
    struct Field {
        const Setting* setting = nullptr;
        QWidget* widget = nullptr; // the editor (spin box, combo box, check box or line edit)
        QWidget* row = nullptr;    // what the form shows (the editor, or a row holding it)
    };
    void addRow(const QString& label, QWidget* field, const QString& errorKey, const QString& tip);
    void addSettingFields();
    QWidget* makeEditor(const Setting& s);
    void writeField(const Field& f, const nlohmann::json& value);
    // The field's value, or the reason it cannot be read (e.g. "64,x" in a list of sizes).
    nlohmann::json readField(const Field& f, std::string* error) const;
    const Field* fieldFor(const std::string& key) const;
    unsigned currentData() const; // Applies bits of the data chosen
    void updateRowVisibility();
    void onDatasetChosen(int index);
    QString openTextFile(const QString& path);
    void showCsvPreview(); // the table and the summary, for the target chosen
    QString describeCsv() const;
    void refresh();
    void syncAlphaSlider(double alpha);

    QFormLayout* form_;
    QComboBox* dataset_;
    QComboBox* target_;
    QComboBox* subtask_;
    QLabel* preview_;
    QTableWidget* previewTable_;    // a CSV file's first rows, each column's kind in its header
    std::optional<CsvPreview> csv_; // of the CSV file chosen (csvPath_)
    QString csvPath_;
    QSlider* alphaSlider_ = nullptr;
    QToolButton* more_ = nullptr;
    std::vector<Field> fields_;
    QMap<QString, QLabel*> errors_;
    QString fileError_;     // why the last file chosen was refused
    ExperimentConfig base_; // settings without a field keep their values
    int lastDatasetIndex_ = 0;
    bool updating_ = false;
    bool lastValid_ = true;
};

} // namespace mode
