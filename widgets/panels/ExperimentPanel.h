#pragma once
// The experiment form: dataset (built-in or the user's file, with a preview), the model, the
// loss and the training knobs. Every knob has a tooltip; a setting that cannot work shows why
// next to its field, and the panel reports itself invalid (Start stays disabled).

#include "config/ExperimentConfig.h"

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
    void addRow(const QString& label, QWidget* field, const QString& errorKey, const QString& tip);
    void onDatasetChosen(int index);
    QString openTextFile(const QString& path);
    void refresh();
    void syncAlphaSlider(double alpha);
    std::vector<int> hiddenSizes(QString* error) const;

    QFormLayout* form_;
    QComboBox* dataset_;
    QComboBox* target_;
    QComboBox* subtask_;
    QLabel* preview_;
    QSpinBox* experts_;
    QDoubleSpinBox* alpha_;
    QSlider* alphaSlider_;
    QComboBox* distill_;
    QDoubleSpinBox* temperature_;
    QCheckBox* detach_;
    QDoubleSpinBox* balance_;
    QComboBox* gate_;
    QComboBox* backbone_;
    QSpinBox* topK_;
    QLineEdit* hidden_;
    QSpinBox* epochs_;
    QSpinBox* batch_;
    QDoubleSpinBox* lr_;
    QComboBox* optimizer_;
    QSpinBox* seed_;
    QComboBox* device_;
    QLineEdit* name_;
    QMap<QString, QLabel*> errors_;
    QString fileError_; // why the last file chosen was refused
    ExperimentConfig base_; // knobs without a widget keep their values
    int lastDatasetIndex_ = 0;
    bool updating_ = false;
    bool lastValid_ = true;
};

} // namespace mode
