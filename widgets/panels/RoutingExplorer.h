// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What each expert is given, sample by sample. For an epoch whose test rows' routing was kept
// (or a file a stored run predicted on), pick an expert and a class, or click a cell of the
// routing heatmap, and see:
//  - the rows routed there, sorted by gate weight, with labels, the mixture's and the expert's
//    own predictions (right or wrong; the error for regression) and, for texts, their words;
//  - their inputs (SampleInputsView: thumbnails and mean image, over-represented words, or
//    standardised mean differences);
//  - the expert's confusion matrix on them (the probing view, class by class);
//  - the experts' similarity matrix at the epoch (the report's homogenisation measure);
//  - routing over training: the expert's share of each class against epoch.
// The epoch list drives all of it. Stored runs are read in the background (the store and the
// data file); a live run's kept epochs arrive with its epochs, and a followed stored run's as
// they are written.

#include "config/ExperimentConfig.h"
#include "predict/StoredPrediction.h"
#include "train/TrainingEvents.h"

#include <QFutureWatcher>
#include <QWidget>

#include <map>
#include <memory>
#include <optional>

class QComboBox;
class QCustomPlot;
class QLabel;
class QSlider;
class QTabWidget;
class QTableView;
class QTableWidget;

namespace mode {

class SampleInputsView;
class SampleTableModel;

class RoutingExplorer : public QWidget {
    Q_OBJECT
  public:
    explicit RoutingExplorer(QWidget* parent = nullptr);
    ~RoutingExplorer() override;

    // A stored run: its kept epochs, the last one shown (shown() when it is). The routing over
    // training comes from addEpoch, called after this for every epoch of the run.
    void showRun(const QString& storePath, qint64 run, const std::vector<std::string>& classNames);
    // A run about to train here: its inputs are read when first needed, from the store's record
    // of the run where it has one (runId > 0), else from `config`.
    void showLiveRun(const ExperimentConfig& config, const RunStart& start,
                     const QString& storePath = {}, qint64 runId = 0);
    // An epoch of the run on show: its routing by class, and its samples where kept (a stored
    // run's kept epochs are looked up in the store).
    void addEpoch(const EpochMetrics& epoch, const std::vector<std::string>& classNames);
    // Fixed rows: a prediction on a file, its inputs at hand.
    void showSamples(const SampleRouting& samples, std::shared_ptr<const PredictionInput> inputs,
                     const QString& title);
    void clear();

    void setExpert(int expert);    // -1: every expert
    void setClass(int classIndex); // -1: every class
    void setEpochIndex(int index); // into the kept epochs
    void showPage(const QString& objectName);
    int shownEpoch() const; // 0: none (or fixed rows)
    int epochCount() const;
    QTableView* samplesTable() const { return samples_; }
    QTableWidget* confusionTable() const { return confusion_; }
    QTableWidget* similarityTable() const { return similarity_; }
    QCustomPlot* overTrainingPlot() const { return overTraining_; }
    SampleInputsView* inputsView() const { return inputs_; }
    QString summary() const;
    bool isReady() const { return ready_; } // what was asked for is on show
    bool inputsReady() const { return inputsState_ == InputsState::Ready; }

    int expert() const;     // the expert chosen (-1: every expert)
    int classIndex() const; // the class chosen (-1: every class)
    QString page() const;   // the object name of the page on show

  signals:
    void shown();
    // The expert or the class was chosen (by the user or by setExpert/setClass), or the page.
    void filterChanged(int expert, int classIndex);
    void pageChanged(const QString& objectName);
    void inputsShown();

  protected:
    void showEvent(QShowEvent* event) override;

  private:
    enum class Source { None, Stored, Live, Fixed };
    enum class InputsState { NotAsked, Loading, Ready, Failed };
    const SampleRouting* shownSamples() const;
    void fill();
    void loadEpoch(int epoch);
    void refreshEpochList();
    void addKeptEpochs(const std::vector<int>& epochs);
    void loadInputs();
    void showInputs();
    void fillConfusion(const SampleRouting& s);
    void fillSimilarity(const SampleRouting& s);
    void fillOverTraining();
    QString groupName() const;

    QComboBox* epoch_;
    QSlider* slider_;
    QComboBox* expert_;
    QComboBox* class_;
    QLabel* summary_;
    QTableView* samples_;
    SampleTableModel* model_;
    QTabWidget* pages_;
    SampleInputsView* inputs_;
    QTableWidget* confusion_;
    QTableWidget* similarity_;
    QCustomPlot* overTraining_;

    Source source_ = Source::None;
    QString path_;
    qint64 run_ = -1;
    ExperimentConfig liveConfig_;
    RunStart liveStart_;
    std::vector<std::string> classes_;
    std::map<int, std::shared_ptr<const SampleRouting>> epochs_; // read so far (stored: on demand)
    std::shared_ptr<const SampleRouting> fixed_;
    std::map<int, RoutingMatrix> routing_; // by class, every epoch seen
    std::vector<std::size_t> rows_;        // the rows on show, by gate weight
    std::shared_ptr<const PredictionInput> inputRows_;
    InputsState inputsState_ = InputsState::NotAsked;
    QString inputsProblem_;
    int generation_ = 0, inputsGeneration_ = 0, shownRun_ = 0;
    bool ready_ = false, listing_ = false;
    std::optional<int> wantedExpert_, wantedClass_; // asked for before the rows were on show
    std::unique_ptr<QFutureWatcher<std::shared_ptr<const SampleRouting>>> watcher_;
};

} // namespace mode
