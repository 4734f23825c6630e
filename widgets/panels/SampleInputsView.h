// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What the samples routed to an expert look like, by modality (the routing explorer's "Inputs"
// page): images as a gallery of thumbnails (the highest gate weights first) and the group's mean
// image beside the mean of all; texts as the words most over-represented in the group
// (analysis/SampleProfile); tables as each feature's standardised mean difference against all
// rows, with histograms of the top features. The rows are the run's own prepared test rows.

#include "predict/StoredPrediction.h"

#include <QWidget>

#include <memory>
#include <vector>

class QCustomPlot;
class QLabel;
class QListWidget;
class QStackedWidget;
class QTableWidget;

namespace mode {

class SampleInputsView : public QWidget {
    Q_OBJECT
  public:
    static constexpr int kMaxThumbnails = 120; // the gallery's first rows by gate weight

    explicit SampleInputsView(QWidget* parent = nullptr);

    // A note instead of the inputs (loading, or why they cannot be shown).
    void showNote(const QString& note);
    // The group: indices into `inputs`' rows, in the order to show them.
    void showGroup(const std::shared_ptr<const PredictionInput>& inputs,
                   const std::vector<std::size_t>& group, const QString& groupName);

    QListWidget* gallery() const { return gallery_; }
    QTableWidget* words() const { return words_; }
    QTableWidget* features() const { return features_; }
    QString note() const;
    // A sample's text, its first words (texts only; empty otherwise).
    static QString firstWords(const PredictionInput& inputs, std::size_t row, int words = 10);

  private:
    void showImages(const PredictionInput& in, const std::vector<std::size_t>& group,
                    const QString& groupName);
    void showWords(const PredictionInput& in, const std::vector<std::size_t>& group);
    void showFeatures(const PredictionInput& in, const std::vector<std::size_t>& group,
                      const QString& groupName);

    QLabel* note_;
    QStackedWidget* pages_;
    QListWidget* gallery_;
    QLabel* meanImage_;
    QTableWidget* words_;
    QTableWidget* features_;
    QCustomPlot* histograms_;
};

} // namespace mode
