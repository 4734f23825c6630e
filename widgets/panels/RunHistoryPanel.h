#pragma once
// The runs in the store, newest first; activating one (double-click or Enter) opens it.

#include <QWidget>

class QLineEdit;
class QTableWidget;

namespace mode {

class RunHistoryPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunHistoryPanel(QWidget* parent = nullptr);
    void setStorePath(const QString& path);
    void refresh();
    int runCount() const;
    qint64 runIdAt(int row) const;
    QTableWidget* table() const { return table_; }

signals:
    void runActivated(qint64 id);
    void storeError(const QString& message);

private:
    QString path_;
    QLineEdit* search_;
    QTableWidget* table_;
};

} // namespace mode
