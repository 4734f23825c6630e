#pragma once
// The runs of the store: a sortable, filterable table (search; dataset, status, tag, alpha
// range, experts), with the last and best values of the main metrics. Name, tags and notes are
// edited in place and written to the store. Double-click (or Enter) opens a run; select two or
// more and Compare puts them side by side.

#include <QList>
#include <QWidget>

class QComboBox;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTableWidgetItem;

namespace mode {

class RunBrowser : public QWidget {
    Q_OBJECT
public:
    explicit RunBrowser(QWidget* parent = nullptr);
    void setStorePath(const QString& path);
    void refresh();
    int runCount() const;
    qint64 runIdAt(int row) const;
    QList<qint64> selectedRunIds() const;
    void selectRuns(const QList<qint64>& ids);
    QTableWidget* table() const { return table_; }

    // Filters, as a user sets them.
    void setSearch(const QString& text);
    void setStatusFilter(const QString& status); // "" for any
    void setTagFilter(const QString& tag);
    void setAlphaRange(const QString& min, const QString& max);
    void setExpertsFilter(int experts);           // 0 for any

    enum Column { Id, Name, Status, Dataset, Experts, Alpha, Distill, Seed, TestAcc, BestVal, Routing, Epochs, Started, Tags, Notes, ColumnCount };

signals:
    void runActivated(qint64 id);
    void compareRequested(const QList<qint64>& ids);
    void storeError(const QString& message);

private:
    void onItemChanged(QTableWidgetItem* item);

    QString path_;
    QLineEdit* search_;
    QComboBox* dataset_;
    QComboBox* status_;
    QLineEdit* tag_;
    QLineEdit* alphaMin_;
    QLineEdit* alphaMax_;
    QSpinBox* experts_;
    QPushButton* compare_;
    QTableWidget* table_;
    bool filling_ = false;
};

} // namespace mode
