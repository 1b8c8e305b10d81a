#include "tearline/broker/report_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <utility>

#include "tearline/base/unique_handle.h"

namespace tearline::broker {
namespace {

using Db = UniqueHandle<sqlite3, &sqlite3_close_v2>;
using Stmt = UniqueHandle<sqlite3_stmt, &sqlite3_finalize>;

// Makes a prepared statement reusable and releases its bound data.
void Reset(const Stmt& s) {
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

Status StoreError(sqlite3* db, int rc, std::string_view what) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const std::string message = std::string(what) + ": " + detail;
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return Status(Code::kResourceExhausted, "STORAGE_FULL",
                    "the report store is full (disk space or the configured size cap is "
                    "exhausted): " +
                        message);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Status(Code::kInvalidArgument, "STORE_CORRUPT",
                    "the report store is not a valid database: " + message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status(Code::kUnavailable, "STORE_BUSY",
                    "the report store is locked by another process: " + message);
    case SQLITE_CONSTRAINT:
      return Status(Code::kAlreadyExists, "STORE_DUPLICATE", message);
    default:
      return IoError("STORE_IO", message);
  }
}

constexpr const char* kSchema = R"sql(
CREATE TABLE reports (
  id           TEXT PRIMARY KEY NOT NULL,
  originator   TEXT NOT NULL,
  sha256       TEXT NOT NULL,
  expires_unix INTEGER NOT NULL,
  reply        BLOB NOT NULL
);
CREATE TABLE copies (
  report_id    TEXT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
  node_id      TEXT NOT NULL,
  nation       TEXT NOT NULL,
  state        TEXT NOT NULL
               CHECK (state IN ('queued','delivered','acknowledged','expired','denied')),
  reason       TEXT NOT NULL,
  bytes        BLOB,
  updated_unix INTEGER NOT NULL,
  record_seq   INTEGER NOT NULL,
  UNIQUE (report_id, node_id, nation)
);
CREATE INDEX copies_by_node ON copies(node_id, state);
CREATE INDEX copies_by_state ON copies(state);
CREATE INDEX reports_by_expiry ON reports(expires_unix);
)sql";

// A copy is pending while queued or delivered (sent, unacknowledged).
constexpr const char* kPendingSql = "state IN ('queued','delivered')";

}  // namespace

std::string_view CopyStateName(CopyState state) {
  switch (state) {
    case CopyState::kQueued:
      return "queued";
    case CopyState::kDelivered:
      return "delivered";
    case CopyState::kAcknowledged:
      return "acknowledged";
    case CopyState::kExpired:
      return "expired";
    case CopyState::kDenied:
      return "denied";
  }
  return "denied";
}

std::optional<CopyState> ParseCopyState(std::string_view name) {
  for (CopyState s : {CopyState::kQueued, CopyState::kDelivered, CopyState::kAcknowledged,
                      CopyState::kExpired, CopyState::kDenied}) {
    if (CopyStateName(s) == name) return s;
  }
  return std::nullopt;
}

struct ReportStore::Impl {
  Db db;
  // The size cap binds new reports only: state changes (which keep or drop bytes) must always
  // succeed, or a full store could not even record an acknowledgement. So the cap is set around
  // each InsertReport and lifted afterwards.
  std::string cap_sql;  // Empty: no cap.
  Stmt begin, commit, rollback;
  Stmt find_report, insert_report, insert_copy, copies, find_copy, set_state, pending_for,
      pending_count, select_expired;

  sqlite3* h() const { return db.get(); }

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

namespace {

void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  // nullptr destructor = SQLITE_STATIC: the caller's data outlives the step and reset.
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), nullptr);
}
void BindBlob(sqlite3_stmt* s, int i, const std::vector<std::uint8_t>& v) {
  static const std::uint8_t kEmpty = 0;
  sqlite3_bind_blob(s, i, v.empty() ? &kEmpty : v.data(), static_cast<int>(v.size()), nullptr);
}
void BindInt(sqlite3_stmt* s, int i, std::int64_t v) {
  sqlite3_bind_int64(s, i, static_cast<sqlite3_int64>(v));
}
std::string ColText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(t),
                                    static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}
std::vector<std::uint8_t> ColBlob(sqlite3_stmt* s, int i) {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, i));
  const int n = sqlite3_column_bytes(s, i);
  if (p == nullptr || n <= 0) return {};
  return {p, p + n};
}

}  // namespace

ReportStore::ReportStore(std::unique_ptr<Impl> impl, std::filesystem::path path)
    : impl_(std::move(impl)), path_(std::move(path)) {}

ReportStore::~ReportStore() = default;

Result<std::unique_ptr<ReportStore>> ReportStore::Open(const std::filesystem::path& file,
                                                       const ReportStoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  impl->db = Db(raw);
  const std::string where = file.string();
  if (rc != SQLITE_OK) return StoreError(raw, rc, "cannot open " + where);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);

  // The first read of the header tells a foreign or damaged file apart; nothing is written yet.
  auto version = impl->QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status().WithContext(where);
  auto tables = impl->QueryInt("SELECT count(*) FROM sqlite_master");
  if (!tables.ok()) return tables.status().WithContext(where);
  if (*version == 0 && *tables > 0) {
    return InvalidArgument("STORE_CORRUPT", where +
                                                " is a SQLite database but not a Tearline report "
                                                "store (no schema version); refusing to modify it");
  }
  if (*version != 0 && *version != kSchemaVersion) {
    return InvalidArgument("STORE_VERSION", where + " has schema version " +
                                                std::to_string(*version) + "; this broker reads " +
                                                std::to_string(kSchemaVersion));
  }

  auto mode = impl->QueryText("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return mode.status().WithContext(where);
  if (*mode != "wal") {
    return IoError("STORE_IO", where + ": cannot enable write-ahead logging (mode " + *mode + ")");
  }
  // FULL: a commit is on stable storage before the call returns, so the broker never promises
  // (replies, delivers) what a power loss could undo.
  TEARLINE_RETURN_IF_ERROR(impl->Exec("PRAGMA synchronous=FULL", "synchronous"));
  TEARLINE_RETURN_IF_ERROR(impl->Exec("PRAGMA foreign_keys=ON", "foreign_keys"));
  // Keep the WAL from growing without bound after checkpoints (it counts against max_bytes).
  TEARLINE_RETURN_IF_ERROR(impl->Exec("PRAGMA journal_size_limit=4194304", "journal_size_limit"));
  if (options.max_bytes > 0) {
    auto page = impl->QueryInt("PRAGMA page_size");
    if (!page.ok()) return page.status().WithContext(where);
    const std::uint64_t pages =
        std::max<std::uint64_t>(1, options.max_bytes / static_cast<std::uint64_t>(*page));
    impl->cap_sql = "PRAGMA max_page_count=" + std::to_string(pages);
  }
  if (*version == 0) {
    TEARLINE_RETURN_IF_ERROR(impl->Exec("BEGIN IMMEDIATE", "begin"));
    Status st = impl->Exec(kSchema, "create schema");
    if (st.ok()) {
      const std::string v = "PRAGMA user_version=" + std::to_string(kSchemaVersion);
      st = impl->Exec(v.c_str(), "set schema version");
    }
    if (st.ok()) st = impl->Exec("COMMIT", "commit schema");
    if (!st.ok()) {
      (void)impl->Exec("ROLLBACK", "rollback");
      return st.WithContext(where);
    }
  }

  const std::string pending(kPendingSql);
  for (auto [stmt, sql] : std::initializer_list<std::pair<Stmt*, std::string>>{
           {&impl->begin, "BEGIN IMMEDIATE"},
           {&impl->commit, "COMMIT"},
           {&impl->rollback, "ROLLBACK"},
           {&impl->find_report,
            "SELECT originator, sha256, expires_unix, reply FROM reports WHERE id = ?1"},
           {&impl->insert_report,
            "INSERT INTO reports (id, originator, sha256, expires_unix, reply) "
            "VALUES (?1, ?2, ?3, ?4, ?5)"},
           {&impl->insert_copy,
            "INSERT INTO copies (report_id, node_id, nation, state, reason, bytes, updated_unix, "
            "record_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
           {&impl->copies,
            "SELECT node_id, nation, state, reason, updated_unix, record_seq FROM copies "
            "WHERE report_id = ?1 ORDER BY rowid"},
           {&impl->find_copy,
            "SELECT node_id, nation, state, reason, updated_unix, record_seq, bytes FROM copies "
            "WHERE report_id = ?1 AND node_id = ?2 ORDER BY rowid LIMIT 1"},
           {&impl->set_state,
            "UPDATE copies SET state = ?3, reason = ?4, updated_unix = ?5, record_seq = ?6, "
            "bytes = CASE WHEN ?3 IN ('queued','delivered') THEN bytes ELSE NULL END "
            "WHERE report_id = ?1 AND node_id = ?2"},
           {&impl->pending_for,
            "SELECT report_id, nation, state, bytes FROM copies WHERE node_id = ?1 AND " + pending +
                " ORDER BY rowid LIMIT ?2"},
           {&impl->pending_count, "SELECT count(*) FROM copies WHERE node_id = ?1 AND " + pending},
           {&impl->select_expired,
            "SELECT c.report_id, r.originator, c.node_id, c.nation FROM copies c "
            "JOIN reports r ON r.id = c.report_id WHERE c." +
                pending + " AND r.expires_unix <= ?1 ORDER BY r.expires_unix, c.rowid LIMIT ?2"},
       }) {
    Status st = impl->Prepare(*stmt, sql);
    if (!st.ok()) return st.WithContext(where);
  }
  return std::unique_ptr<ReportStore>(new ReportStore(std::move(impl), file));
}

Result<std::optional<StoredReport>> ReportStore::FindReport(std::string_view report_id) {
  Stmt& s = impl_->find_report;
  ResetOnExit reset(s);
  BindText(s.get(), 1, report_id);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return std::optional<StoredReport>();
  if (rc != SQLITE_ROW) return StoreError(impl_->h(), rc, "find report");
  StoredReport r;
  r.report_id = std::string(report_id);
  r.originator = ColText(s.get(), 0);
  r.sha256 = ColText(s.get(), 1);
  r.expires_unix = sqlite3_column_int64(s.get(), 2);
  r.reply = ColBlob(s.get(), 3);
  return std::optional<StoredReport>(std::move(r));
}

Status ReportStore::InsertReport(const StoredReport& report,
                                 const std::vector<StoredCopy>& copies) {
  for (const StoredCopy& c : copies) {
    if (IsPending(c.state) && c.bytes.empty()) {
      return InvalidArgument("STORE_INVALID", "a pending copy for " + c.node_id + " has no bytes");
    }
  }
  if (!impl_->cap_sql.empty()) {
    TEARLINE_RETURN_IF_ERROR(impl_->Exec(impl_->cap_sql.c_str(), "set size cap"));
  }
  struct LiftCap {
    Impl& impl;
    ~LiftCap() {
      if (!impl.cap_sql.empty()) (void)impl.Exec("PRAGMA max_page_count=4294967294", "lift cap");
    }
  } lift{*impl_};
  TEARLINE_RETURN_IF_ERROR(impl_->Run(impl_->begin, "begin"));
  auto body = [&]() -> Status {
    {
      Stmt& s = impl_->insert_report;
      BindText(s.get(), 1, report.report_id);
      BindText(s.get(), 2, report.originator);
      BindText(s.get(), 3, report.sha256);
      BindInt(s.get(), 4, report.expires_unix);
      BindBlob(s.get(), 5, report.reply);
      Status st = impl_->Run(s, "insert report");
      if (!st.ok()) {
        if (st.reason() == "STORE_DUPLICATE") {
          return Status(Code::kAlreadyExists, "STORE_DUPLICATE",
                        "report " + report.report_id + " is already stored");
        }
        return st;
      }
    }
    for (const StoredCopy& c : copies) {
      Stmt& s = impl_->insert_copy;
      BindText(s.get(), 1, report.report_id);
      BindText(s.get(), 2, c.node_id);
      BindText(s.get(), 3, c.nation);
      BindText(s.get(), 4, CopyStateName(c.state));
      BindText(s.get(), 5, c.reason);
      if (IsPending(c.state)) {
        BindBlob(s.get(), 6, c.bytes);
      } else {
        sqlite3_bind_null(s.get(), 6);
      }
      BindInt(s.get(), 7, c.updated_unix);
      BindInt(s.get(), 8, static_cast<std::int64_t>(c.record_seq));
      TEARLINE_RETURN_IF_ERROR(impl_->Run(s, "insert copy for " + c.node_id));
    }
    return impl_->Run(impl_->commit, "commit");
  };
  Status st = body();
  if (!st.ok() && !sqlite3_get_autocommit(impl_->h())) {
    (void)impl_->Run(impl_->rollback, "rollback");
  }
  return st;
}

Result<std::vector<StoredCopy>> ReportStore::Copies(std::string_view report_id) {
  Stmt& s = impl_->copies;
  ResetOnExit reset(s);
  BindText(s.get(), 1, report_id);
  std::vector<StoredCopy> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    StoredCopy c;
    c.node_id = ColText(s.get(), 0);
    c.nation = ColText(s.get(), 1);
    c.state = ParseCopyState(ColText(s.get(), 2)).value_or(CopyState::kDenied);
    c.reason = ColText(s.get(), 3);
    c.updated_unix = sqlite3_column_int64(s.get(), 4);
    c.record_seq = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 5));
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return StoreError(impl_->h(), rc, "list copies");
  return out;
}

Result<std::optional<StoredCopy>> ReportStore::FindCopy(std::string_view report_id,
                                                        std::string_view node_id) {
  Stmt& s = impl_->find_copy;
  ResetOnExit reset(s);
  BindText(s.get(), 1, report_id);
  BindText(s.get(), 2, node_id);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return std::optional<StoredCopy>();
  if (rc != SQLITE_ROW) return StoreError(impl_->h(), rc, "find copy");
  StoredCopy c;
  c.node_id = ColText(s.get(), 0);
  c.nation = ColText(s.get(), 1);
  c.state = ParseCopyState(ColText(s.get(), 2)).value_or(CopyState::kDenied);
  c.reason = ColText(s.get(), 3);
  c.updated_unix = sqlite3_column_int64(s.get(), 4);
  c.record_seq = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 5));
  c.bytes = ColBlob(s.get(), 6);
  return std::optional<StoredCopy>(std::move(c));
}

Result<bool> ReportStore::SetState(std::string_view report_id, std::string_view node_id,
                                   CopyState state, std::string_view reason, std::int64_t now_unix,
                                   std::uint64_t record_seq) {
  Stmt& s = impl_->set_state;
  BindText(s.get(), 1, report_id);
  BindText(s.get(), 2, node_id);
  BindText(s.get(), 3, CopyStateName(state));
  BindText(s.get(), 4, reason);
  BindInt(s.get(), 5, now_unix);
  BindInt(s.get(), 6, static_cast<std::int64_t>(record_seq));
  TEARLINE_RETURN_IF_ERROR(impl_->Run(s, "update copy state"));
  return sqlite3_changes(impl_->h()) > 0;
}

Result<std::vector<PendingCopy>> ReportStore::PendingFor(std::string_view node_id,
                                                         std::size_t limit) {
  Stmt& s = impl_->pending_for;
  ResetOnExit reset(s);
  BindText(s.get(), 1, node_id);
  BindInt(s.get(), 2, static_cast<std::int64_t>(limit));
  std::vector<PendingCopy> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    PendingCopy p;
    p.report_id = ColText(s.get(), 0);
    p.node_id = std::string(node_id);
    p.nation = ColText(s.get(), 1);
    p.state = ParseCopyState(ColText(s.get(), 2)).value_or(CopyState::kQueued);
    p.bytes = ColBlob(s.get(), 3);
    out.push_back(std::move(p));
  }
  if (rc != SQLITE_DONE) return StoreError(impl_->h(), rc, "list pending copies");
  return out;
}

Result<std::uint64_t> ReportStore::PendingCount(std::string_view node_id) {
  Stmt& s = impl_->pending_count;
  ResetOnExit reset(s);
  BindText(s.get(), 1, node_id);
  const int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return StoreError(impl_->h(), rc, "count pending copies");
  return static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 0));
}

Result<std::vector<ExpiredCopy>> ReportStore::SelectExpired(std::int64_t now_unix,
                                                            std::size_t limit) {
  Stmt& s = impl_->select_expired;
  ResetOnExit reset(s);
  BindInt(s.get(), 1, now_unix);
  BindInt(s.get(), 2, static_cast<std::int64_t>(limit));
  std::vector<ExpiredCopy> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    out.push_back(
        {ColText(s.get(), 0), ColText(s.get(), 1), ColText(s.get(), 2), ColText(s.get(), 3)});
  }
  if (rc != SQLITE_DONE) return StoreError(impl_->h(), rc, "select expired copies");
  return out;
}

std::uint64_t ReportStore::DiskBytes() const {
  std::uint64_t total = 0;
  for (const auto& p : {path_, std::filesystem::path(path_.string() + "-wal")}) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(p, ec);
    if (!ec) total += n;
  }
  return total;
}

}  // namespace tearline::broker
