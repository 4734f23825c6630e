// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// "Which alpha?" as one dialog: the current experiment as the base, alpha on a log grid with 0
// (and any other setting as a list), the seeds (a count, or added until the 95% CI of the paired
// difference against alpha = 0 is narrower than W, up to a maximum), how many runs at once. It
// shows the number of runs and an estimate from a short timing (one epoch of the first point,
// in the background), and writes the sweep file mode-sweep reads.

#include "config/ExperimentConfig.h"
#include "sweep/Sweep.h"

#include <QDialog>

#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProcess;
class QSpinBox;

namespace mode {

// What the sweep view runs: the sweep file and how.
struct SweepPlanChoice {
    QString file; // the sweep file written
    int jobs = 1; // runs at once, one LibTorch thread each
    bool adaptive = false;
    double width = 0.01; // adaptive: the CI width to reach
    int maxSeeds = 10;   // adaptive: at most this many seeds
};

class SweepDialog : public QDialog {
    Q_OBJECT
  public:
    SweepDialog(const ExperimentConfig& base, const QString& sweepsFolder,
                QWidget* parent = nullptr);
    ~SweepDialog() override;

    // The sweep as set (throws ConfigError for a bad value list or an invalid point).
    Sweep sweep() const;
    SweepPlanChoice plan() const;
    int runCount() const;
    QString summary() const;
    // Writes the sweep file; false (with a message in the summary) where it cannot.
    bool writeFile();

    // For tests and scripts: the fields as a person would type them.
    void setName(const QString& name);
    void setAlphas(const QString& list);
    void setOtherField(const QString& key, const QString& values);
    void setSeeds(int count);
    void setAdaptive(bool on, double width, int maxSeeds);
    void setJobs(int jobs);

  private:
    void update();
    void timeFirstRun();

    ExperimentConfig base_;
    QString folder_;
    QLineEdit* name_;
    QLineEdit* alphas_;
    QComboBox* otherKey_;
    QLineEdit* otherValues_;
    QSpinBox* seeds_;
    QCheckBox* adaptive_;
    QDoubleSpinBox* width_;
    QSpinBox* maxSeeds_;
    QSpinBox* jobs_;
    QLineEdit* file_;
    QLabel* summary_;
    QProcess* timing_ = nullptr;
    std::optional<double> epochSeconds_; // one epoch of the first point, measured
    double startSeconds_ = 0;            // and the rest of that process (start, data)
};

} // namespace mode
