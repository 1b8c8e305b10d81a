// Internals of ReportStore shared by its two source files: report_store_schema.cc (opening,
// schema creation and version checks, statement preparation) and report_store.cc (the queries).
// Not part of the broker's public interface.
//
// Ownership: Db owns a sqlite3 connection, Stmt a prepared statement (UniqueHandle, move-only).
// Thread-safety: none, like ReportStore.
#ifndef TEARLINE_BROKER_SRC_REPORT_STORE_INTERNAL_H_
#define TEARLINE_BROKER_SRC_REPORT_STORE_INTERNAL_H_

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/base/unique_handle.h"
#include "tearline/broker/report_store.h"

namespace tearline::broker {

using Db = UniqueHandle<sqlite3, &sqlite3_close_v2>;
using Stmt = UniqueHandle<sqlite3_stmt, &sqlite3_finalize>;

// Makes a prepared statement reusable and releases its bound data.
inline void Reset(const Stmt& s) {
  sqlite3_reset(s.get());
  sqlite3_clear_bindings(s.get());
}

// Resets a statement when the scope ends, whatever path it takes.
class ResetOnExit {
 public:
  explicit ResetOnExit(Stmt& s) : s_(s) {}
  ~ResetOnExit() { Reset(s_); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Stmt& s_;
};

// Maps a SQLite result code to the store's reasons (STORAGE_FULL, STORE_CORRUPT, STORE_BUSY,
// STORE_DUPLICATE, STORE_IO); `what` names the failed operation.
Status StoreError(sqlite3* db, int rc, std::string_view what);

// SQLite checkpoints its write-ahead log once it holds this many frames (its own default,
// kept: docs/PERFORMANCE.md, "Bytes written per report"). Tearline's WalHook runs that checkpoint
// itself, since installing a WAL hook replaces SQLite's.
inline constexpr int kWalCheckpointFrames = 1000;
// The size the write-ahead log file is cut back to after a checkpoint (journal_size_limit).
inline constexpr std::uint64_t kWalSizeLimitBytes = std::uint64_t{4} << 20;

// The write-ahead log, for PendingGrowthBytes (report_store.h): the frames it holds after the
// last commit and how many of them the last checkpoint copied into the database file. Kept by
// the WAL hook (report_store_schema.cc), which SQLite calls after every commit.
struct WalState {
  int frames = 0;
  int checkpointed = 0;
  std::uint64_t page_size = 4096;
};

// A copy is pending while queued or delivered (sent, unacknowledged).
inline constexpr const char* kPendingSql = "state IN ('queued','delivered')";

struct ReportStore::Impl {
  Db db;
  // The size cap binds new reports only: state changes (which keep or drop bytes) must always
  // succeed, or a full store could not even record an acknowledgement. So the cap is set around
  // each InsertReport and lifted afterwards.
  std::string cap_sql;  // Empty: no cap.
  std::uint64_t cap_bytes = 0;
  Stmt begin, commit, rollback, savepoint, release, rollback_to;
  Stmt find_report, insert_report, insert_copy, copies, find_copy, find_copy_state, set_state,
      pending_for, pending_ids_for, select_expired, copy_sender;

  // Group commit (BeginGroup .. CommitGroup): the writes share one transaction, begun by the
  // first write, and each InsertReport is a savepoint inside it.
  bool group = false;
  bool in_transaction = false;
  bool group_lost = false;
  // Every report expiring at or before this has no pending copy left (the expiry sweep's
  // floor): each sweep looks only at reports that expired since, not at all of history.
  std::int64_t expiry_floor = 0;

  // Each originator's pending copies: bytes, and count per recipient. Admission reads them for
  // every Submit, so they are kept here rather than summed over the pending copies each time;
  // loaded at Open, changed only by InsertReport and SetState (every write of copies), after
  // their commit.
  struct SenderUsage {
    std::uint64_t bytes = 0;
    std::map<std::string, std::uint64_t, std::less<>> copies_per_recipient;
  };
  std::map<std::string, SenderUsage, std::less<>> senders;
  WalState wal;

  // Pending copies per recipient (its queue length), for the same reason.
  std::map<std::string, std::uint64_t, std::less<>> queued;

  void AddPending(const std::string& originator, const std::string& node_id, std::uint64_t bytes) {
    ++queued[node_id];
    SenderUsage& u = senders[originator];
    u.bytes += bytes;
    ++u.copies_per_recipient[node_id];
  }
  void RemovePending(const std::string& originator, const std::string& node_id,
                     std::uint64_t bytes) {
    if (auto q = queued.find(node_id); q != queued.end() && --q->second == 0) queued.erase(q);
    auto it = senders.find(originator);
    if (it == senders.end()) return;
    SenderUsage& u = it->second;
    u.bytes -= std::min(u.bytes, bytes);
    auto c = u.copies_per_recipient.find(node_id);
    if (c != u.copies_per_recipient.end() && --c->second == 0) u.copies_per_recipient.erase(c);
    if (u.bytes == 0 && u.copies_per_recipient.empty()) senders.erase(it);
  }

  sqlite3* h() const { return db.get(); }

  // Starts one write: its own transaction, or a savepoint inside the group's transaction.
  Status BeginWrite() {
    if (!group) return Run(begin, "begin");
    if (!in_transaction) {
      TEARLINE_RETURN_IF_ERROR(Run(begin, "begin group"));
      in_transaction = true;
    }
    return Run(savepoint, "savepoint");
  }
  // Ends the write begun by BeginWrite: committed (durable) alone, or kept in the group's
  // transaction; `st` not OK undoes only this write.
  Status EndWrite(Status st) {
    if (group) {
      if (st.ok()) return Run(release, "release savepoint");
      if (sqlite3_get_autocommit(h())) {
        // SQLite rolled the whole transaction back (SQLITE_FULL, IOERR): the group is lost and
        // CommitGroup must fail.
        in_transaction = false;
        group_lost = true;
        return st;
      }
      (void)Run(rollback_to, "rollback to savepoint");
      (void)Run(release, "release savepoint");
      return st;
    }
    if (st.ok()) st = Run(commit, "commit");
    if (!st.ok() && !sqlite3_get_autocommit(h())) (void)Run(rollback, "rollback");
    return st;
  }

  Status Prepare(Stmt& out, const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(h(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) return StoreError(h(), rc, "prepare");
    out = Stmt(s);
    return Status::Ok();
  }

  Status Exec(const char* sql, std::string_view what) {
    char* err = nullptr;
    const int rc = sqlite3_exec(h(), sql, nullptr, nullptr, &err);
    if (err != nullptr) sqlite3_free(err);
    if (rc != SQLITE_OK) return StoreError(h(), rc, what);
    return Status::Ok();
  }

  // Runs a statement that returns no rows (or whose rows are ignored).
  Status Run(Stmt& s, std::string_view what) {
    ResetOnExit reset(s);
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return StoreError(h(), rc, what);
    return Status::Ok();
  }

  Result<std::int64_t> QueryInt(const char* sql) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(h(), sql, -1, &raw, nullptr);
    Stmt s(raw);
    if (rc != SQLITE_OK) return StoreError(h(), rc, sql);
    rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return StoreError(h(), rc, sql);
    return static_cast<std::int64_t>(sqlite3_column_int64(s.get(), 0));
  }

  Result<std::string> QueryText(const char* sql) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(h(), sql, -1, &raw, nullptr);
    Stmt s(raw);
    if (rc != SQLITE_OK) return StoreError(h(), rc, sql);
    rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return StoreError(h(), rc, sql);
    const unsigned char* t = sqlite3_column_text(s.get(), 0);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  }
};

inline void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  // nullptr destructor = SQLITE_STATIC: the caller's data outlives the step and reset.
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), nullptr);
}
inline void BindBlob(sqlite3_stmt* s, int i, const std::vector<std::uint8_t>& v) {
  static const std::uint8_t kEmpty = 0;
  sqlite3_bind_blob(s, i, v.empty() ? &kEmpty : v.data(), static_cast<int>(v.size()), nullptr);
}
inline void BindInt(sqlite3_stmt* s, int i, std::int64_t v) {
  sqlite3_bind_int64(s, i, static_cast<sqlite3_int64>(v));
}
inline std::string ColText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(t),
                                    static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}
inline std::vector<std::uint8_t> ColBlob(sqlite3_stmt* s, int i) {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, i));
  const int n = sqlite3_column_bytes(s, i);
  if (p == nullptr || n <= 0) return {};
  return {p, p + n};
}

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_SRC_REPORT_STORE_INTERNAL_H_
