// ReportStore: opening the database, creating or checking its schema, preparing statements.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "report_store_internal.h"

namespace tearline::broker {
namespace {

// The copies table (version 4). A copy is found by report_ref, its report's rowid, which
// increases with every report: each report's copies land at the right edge of the UNIQUE
// index, so a commit group of reports dirties one or two of its pages instead of one page per
// report, as the random report id did before version 4 (issues 12 and 16, docs/PERFORMANCE.md).
// report_id stays as a column (not indexed) for the queries that return it. The only other
// index is copies_pending_by_node (created at Open): every index costs page writes on each
// state change, so none is kept that no query reads. Reports are never VACUUMed (which could
// renumber their rowids); the backup copies pages and keeps them.
std::string CopiesTable() {
  return R"sql(
CREATE TABLE copies (
  report_ref   INTEGER NOT NULL,
  report_id    TEXT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
  node_id      TEXT NOT NULL,
  nation       TEXT NOT NULL,
  state        TEXT NOT NULL
               CHECK (state IN ('queued','delivered','acknowledged','expired','denied','failed')),
  reason       TEXT NOT NULL,
  bytes        BLOB,
  updated_unix INTEGER NOT NULL,
  record_seq   INTEGER NOT NULL,
  UNIQUE (report_ref, node_id, nation)
);
)sql";
}

// Version 2 -> 3: the release desk's requests and the nations portions were released to
// (StoredRelease, ReleasedTo). IF NOT EXISTS: a file marked older than the tables it holds
// migrates all the same.
std::string ReleaseTables() {
  return R"sql(
CREATE TABLE IF NOT EXISTS release_requests (
  request_id        TEXT PRIMARY KEY NOT NULL,
  ord               INTEGER NOT NULL,
  originator        TEXT NOT NULL,
  originator_nation TEXT NOT NULL,
  notice            BLOB NOT NULL,
  status            BLOB NOT NULL,
  originator_told   INTEGER NOT NULL,
  requester_told    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS released_portions (
  report_id TEXT NOT NULL,
  portion   INTEGER NOT NULL,
  nation    TEXT NOT NULL,
  PRIMARY KEY (report_id, portion, nation)
);
)sql";
}

std::string Schema() {
  return R"sql(
CREATE TABLE reports (
  id           TEXT PRIMARY KEY NOT NULL,
  originator   TEXT NOT NULL,
  sha256       TEXT NOT NULL,
  expires_unix INTEGER NOT NULL,
  reply        BLOB NOT NULL
);
CREATE INDEX reports_by_expiry ON reports(expires_unix);
)sql" + CopiesTable();
}

// Versions 1 to 3 -> 4: the copies table is rebuilt inside the caller's transaction, keeping
// rowids (hence queue order), with report_ref filled from the reports' rowids. Version 1 lacked
// the `failed` state in its CHECK constraint, which SQLite cannot change in place; versions 1
// to 3 carried copies_by_node and copies_by_state, which no query read though each state
// change rewrote both, and keyed copies by the random report id. The pending index goes with
// the old table and Open creates it again.
std::string MigrateCopies() {
  return R"sql(
DROP INDEX IF EXISTS copies_by_node;
DROP INDEX IF EXISTS copies_by_state;
DROP INDEX IF EXISTS copies_pending_by_node;
ALTER TABLE copies RENAME TO copies_old;
)sql" + CopiesTable() +
         R"sql(
INSERT INTO copies (rowid, report_ref, report_id, node_id, nation, state, reason, bytes,
                    updated_unix, record_seq)
  SELECT c.rowid, r.rowid, c.report_id, c.node_id, c.nation, c.state, c.reason, c.bytes,
         c.updated_unix, c.record_seq
  FROM copies_old c JOIN reports r ON r.id = c.report_id;
DROP TABLE copies_old;
)sql";
}

// Called by SQLite after each commit with the number of frames in the write-ahead log. Does what
// SQLite's own hook does (a passive checkpoint at kWalCheckpointFrames) and also records how far
// that checkpoint got, which PendingGrowthBytes needs. A checkpoint that cannot finish now is not
// an error: the next commit tries again.
int WalHook(void* arg, sqlite3* db, const char* /*schema*/, int frames) {
  auto* wal = static_cast<WalState*>(arg);
  // Fewer frames than before: the log was restarted from its beginning after a full checkpoint.
  if (frames < wal->frames) wal->checkpointed = 0;
  wal->frames = frames;
  if (frames >= kWalCheckpointFrames) {
    int log = 0;
    int done = 0;
    if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done) ==
            SQLITE_OK &&
        done >= 0) {
      wal->checkpointed = done;
    }
  }
  return SQLITE_OK;
}

}  // namespace

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

ReportStore::ReportStore(std::unique_ptr<Impl> impl, std::filesystem::path path)
    : impl_(std::move(impl)), path_(std::move(path)) {}

ReportStore::~ReportStore() = default;

Result<std::unique_ptr<ReportStore>> ReportStore::Open(const std::filesystem::path& file,
                                                       const ReportStoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  // Created owner-only before SQLite sees it (SQLite would use 0644); its -wal and -shm files
  // take the database file's mode.
  if (const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      fd >= 0) {
    ::close(fd);
  }
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
  if (*version < 0 || *version > kSchemaVersion) {
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
  // SQLite's checkpoint every 1,000 pages stays: a 4,000-page window wrote about 1.5 fewer
  // bytes per report byte (docs/PERFORMANCE.md) but let the WAL fill a small disk before the
  // free-space reserve could refuse new reports.
  const std::string size_limit = "PRAGMA journal_size_limit=" + std::to_string(kWalSizeLimitBytes);
  TEARLINE_RETURN_IF_ERROR(impl->Exec(size_limit.c_str(), "journal_size_limit"));
  {
    auto page = impl->QueryInt("PRAGMA page_size");
    if (!page.ok()) return page.status().WithContext(where);
    impl->wal.page_size = static_cast<std::uint64_t>(*page);
    // Frames a previous run left in the log (it stopped without its final checkpoint) count as
    // not yet copied until the first checkpoint says otherwise.
    std::error_code ec;
    const auto wal = std::filesystem::file_size(file.string() + "-wal", ec);
    if (!ec && wal > 32) {
      impl->wal.frames = static_cast<int>((wal - 32) / (impl->wal.page_size + 24));
    }
    sqlite3_wal_hook(raw, &WalHook, &impl->wal);
  }
  if (options.max_bytes > 0) {
    const std::uint64_t pages = std::max<std::uint64_t>(1, options.max_bytes / impl->wal.page_size);
    impl->cap_sql = "PRAGMA max_page_count=" + std::to_string(pages);
    impl->cap_bytes = pages * impl->wal.page_size;
  }
  if (*version < kSchemaVersion) {
    TEARLINE_RETURN_IF_ERROR(impl->Exec("BEGIN IMMEDIATE", "begin"));
    // ReleaseTables before the copies: a version 1 store gains them too.
    const std::string sql =
        *version == 0 ? Schema() + ReleaseTables() : ReleaseTables() + MigrateCopies();
    Status st = impl->Exec(sql.c_str(), *version == 0 ? "create schema" : "migrate schema");
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

  // Added without a version change (an index changes no row): the pending copies of one
  // recipient in queue order, so paging through a queue reads only the page it returns.
  TEARLINE_RETURN_IF_ERROR(
      impl->Exec("CREATE INDEX IF NOT EXISTS copies_pending_by_node ON "
                 "copies(node_id) WHERE state IN ('queued','delivered')",
                 "create pending index"));
  const std::string pending(kPendingSql);
  for (auto [stmt, sql] : std::initializer_list<std::pair<Stmt*, std::string>>{
           {&impl->begin, "BEGIN IMMEDIATE"},
           {&impl->commit, "COMMIT"},
           {&impl->rollback, "ROLLBACK"},
           {&impl->savepoint, "SAVEPOINT write"},
           {&impl->release, "RELEASE write"},
           {&impl->rollback_to, "ROLLBACK TO write"},
           {&impl->find_report,
            "SELECT originator, sha256, expires_unix, reply FROM reports WHERE id = ?1"},
           {&impl->insert_report,
            "INSERT INTO reports (id, originator, sha256, expires_unix, reply) "
            "VALUES (?1, ?2, ?3, ?4, ?5)"},
           {&impl->insert_copy,
            "INSERT INTO copies (report_id, node_id, nation, state, reason, bytes, updated_unix, "
            "record_seq, report_ref) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
           {&impl->copies,
            "SELECT node_id, nation, state, reason, updated_unix, record_seq FROM copies "
            "WHERE report_ref = (SELECT rowid FROM reports WHERE id = ?1) ORDER BY rowid"},
           {&impl->find_copy,
            "SELECT node_id, nation, state, reason, updated_unix, record_seq, bytes FROM copies "
            "WHERE report_ref = (SELECT rowid FROM reports WHERE id = ?1) AND node_id = ?2 "
            "ORDER BY rowid LIMIT 1"},
           {&impl->find_copy_state,
            "SELECT node_id, nation, state, reason, updated_unix, record_seq FROM copies "
            "WHERE report_ref = (SELECT rowid FROM reports WHERE id = ?1) AND node_id = ?2 "
            "ORDER BY rowid LIMIT 1"},
           {&impl->set_state,
            "UPDATE copies SET state = ?3, reason = ?4, updated_unix = ?5, record_seq = ?6, "
            "bytes = CASE WHEN ?3 IN ('queued','delivered') THEN bytes ELSE NULL END "
            "WHERE report_ref = (SELECT rowid FROM reports WHERE id = ?1) AND node_id = ?2"},
           {&impl->pending_for,
            "SELECT report_id, nation, state, bytes FROM copies WHERE node_id = ?1 AND " + pending +
                " ORDER BY rowid LIMIT ?2"},
           {&impl->pending_ids_for,
            "SELECT rowid, report_id, state, length(bytes) FROM copies INDEXED BY "
            "copies_pending_by_node WHERE node_id = ?1 AND " +
                pending + " AND rowid > ?2 ORDER BY rowid LIMIT ?3"},
           {&impl->copy_sender,
            "SELECT c.state, length(c.bytes), r.originator FROM copies c "
            "JOIN reports r ON r.rowid = c.report_ref WHERE r.id = ?1 AND c.node_id = ?2"},
           {&impl->select_expired,
            "SELECT c.report_id, r.originator, c.node_id, c.nation FROM reports r "
            "INDEXED BY reports_by_expiry JOIN copies c ON c.report_ref = r.rowid WHERE "
            "r.expires_unix "
            "> ?3 AND r.expires_unix <= ?1 AND c." +
                pending + " ORDER BY r.expires_unix, c.rowid LIMIT ?2"},
       }) {
    Status st = impl->Prepare(*stmt, sql);
    if (!st.ok()) return st.WithContext(where);
  }
  // One pass over the pending copies, at start only (see Impl::senders).
  {
    const std::string usage_sql =
        "SELECT r.originator, c.node_id, count(*), coalesce(sum(length(c.bytes)), 0) "
        "FROM copies c JOIN reports r ON r.rowid = c.report_ref WHERE c." +
        pending + " GROUP BY r.originator, c.node_id";
    Stmt usage;
    Status st = impl->Prepare(usage, usage_sql);
    if (!st.ok()) return st.WithContext(where);
    int step;
    while ((step = sqlite3_step(usage.get())) == SQLITE_ROW) {
      Impl::SenderUsage& u = impl->senders[ColText(usage.get(), 0)];
      u.copies_per_recipient[ColText(usage.get(), 1)] =
          static_cast<std::uint64_t>(sqlite3_column_int64(usage.get(), 2));
      u.bytes += static_cast<std::uint64_t>(sqlite3_column_int64(usage.get(), 3));
      impl->queued[ColText(usage.get(), 1)] +=
          static_cast<std::uint64_t>(sqlite3_column_int64(usage.get(), 2));
    }
    if (step != SQLITE_DONE) return StoreError(impl->h(), step, "count pending copies per sender");
  }
  return std::unique_ptr<ReportStore>(new ReportStore(std::move(impl), file));
}

}  // namespace tearline::broker
