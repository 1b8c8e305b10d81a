// ReportStore: the queries and updates on reports and their copies.
#include "tearline/broker/report_store.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "report_store_internal.h"

namespace tearline::broker {

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
    case CopyState::kFailed:
      return "failed";
  }
  return "denied";
}

std::optional<CopyState> ParseCopyState(std::string_view name) {
  for (CopyState s : {CopyState::kQueued, CopyState::kDelivered, CopyState::kAcknowledged,
                      CopyState::kExpired, CopyState::kDenied, CopyState::kFailed}) {
    if (CopyStateName(s) == name) return s;
  }
  return std::nullopt;
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
    // Refused before writing: SQLite answers a cap reached mid-transaction by rolling back the
    // whole transaction, which would take a commit group's other writes with it.
    std::uint64_t adding = report.reply.size() + 512;
    for (const StoredCopy& c : copies) adding += c.bytes.size() + 256;
    auto pages = impl_->QueryInt("PRAGMA page_count");
    auto page_size = impl_->QueryInt("PRAGMA page_size");
    if (pages.ok() && page_size.ok() &&
        static_cast<std::uint64_t>(*pages * *page_size) + adding > impl_->cap_bytes) {
      return Status(Code::kResourceExhausted, "STORAGE_FULL",
                    "the report store is full: this report needs " + std::to_string(adding) +
                        " bytes beyond the configured size cap");
    }
    TEARLINE_RETURN_IF_ERROR(impl_->Exec(impl_->cap_sql.c_str(), "set size cap"));
  }
  struct LiftCap {
    Impl& impl;
    ~LiftCap() {
      if (!impl.cap_sql.empty()) (void)impl.Exec("PRAGMA max_page_count=4294967294", "lift cap");
    }
  } lift{*impl_};
  TEARLINE_RETURN_IF_ERROR(impl_->BeginWrite());
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
    // The copies' key (see CopiesTable in report_store_schema.cc).
    const std::int64_t report_ref = sqlite3_last_insert_rowid(impl_->h());
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
      BindInt(s.get(), 9, report_ref);
      TEARLINE_RETURN_IF_ERROR(impl_->Run(s, "insert copy for " + c.node_id));
    }
    return Status::Ok();
  };
  Status st = impl_->EndWrite(body());
  if (st.ok()) {
    // A report is never admitted already expired, but a wall clock stepped back could make
    // its expiry fall below the floor: the sweep must still find it.
    impl_->expiry_floor = std::min(impl_->expiry_floor, report.expires_unix - 1);
    for (const StoredCopy& c : copies) {
      if (IsPending(c.state)) impl_->AddPending(report.originator, c.node_id, c.bytes.size());
    }
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
                                                        std::string_view node_id, bool with_bytes) {
  Stmt& s = with_bytes ? impl_->find_copy : impl_->find_copy_state;
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
  if (with_bytes) c.bytes = ColBlob(s.get(), 6);
  return std::optional<StoredCopy>(std::move(c));
}

Result<bool> ReportStore::SetState(std::string_view report_id, std::string_view node_id,
                                   CopyState state, std::string_view reason, std::int64_t now_unix,
                                   std::uint64_t record_seq) {
  // What leaves the pending states, for the per-sender usage once the update is committed.
  struct Leaving {
    std::string originator, node_id;
    std::uint64_t bytes;
  };
  std::vector<Leaving> leaving;
  TEARLINE_RETURN_IF_ERROR(impl_->BeginWrite());
  auto body = [&]() -> Status {
    if (IsPending(state)) return Status::Ok();
    Stmt& q = impl_->copy_sender;
    ResetOnExit reset(q);
    BindText(q.get(), 1, report_id);
    BindText(q.get(), 2, node_id);
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      const auto old_state = ParseCopyState(ColText(q.get(), 0));
      if (old_state && IsPending(*old_state)) {
        leaving.push_back({ColText(q.get(), 2), std::string(node_id),
                           static_cast<std::uint64_t>(sqlite3_column_int64(q.get(), 1))});
      }
    }
    if (rc != SQLITE_DONE) return StoreError(impl_->h(), rc, "read copy before update");
    return Status::Ok();
  };
  bool changed = false;
  auto update = [&]() -> Status {
    TEARLINE_RETURN_IF_ERROR(body());
    Stmt& s = impl_->set_state;
    BindText(s.get(), 1, report_id);
    BindText(s.get(), 2, node_id);
    BindText(s.get(), 3, CopyStateName(state));
    BindText(s.get(), 4, reason);
    BindInt(s.get(), 5, now_unix);
    BindInt(s.get(), 6, static_cast<std::int64_t>(record_seq));
    TEARLINE_RETURN_IF_ERROR(impl_->Run(s, "update copy state"));
    changed = sqlite3_changes(impl_->h()) > 0;
    return Status::Ok();
  };
  TEARLINE_RETURN_IF_ERROR(impl_->EndWrite(update()));
  for (const Leaving& l : leaving) impl_->RemovePending(l.originator, l.node_id, l.bytes);
  return changed;
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

Result<std::vector<PendingId>> ReportStore::PendingIdsFor(std::string_view node_id,
                                                          std::int64_t after, std::size_t limit) {
  Stmt& s = impl_->pending_ids_for;
  ResetOnExit reset(s);
  BindText(s.get(), 1, node_id);
  BindInt(s.get(), 2, after);
  BindInt(s.get(), 3, static_cast<std::int64_t>(limit));
  std::vector<PendingId> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    PendingId p;
    p.position = sqlite3_column_int64(s.get(), 0);
    p.report_id = ColText(s.get(), 1);
    p.state = ParseCopyState(ColText(s.get(), 2)).value_or(CopyState::kQueued);
    p.size = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 3));
    out.push_back(std::move(p));
  }
  if (rc != SQLITE_DONE) return StoreError(impl_->h(), rc, "list pending copy ids");
  return out;
}

Result<std::uint64_t> ReportStore::PendingCount(std::string_view node_id) {
  auto q = impl_->queued.find(node_id);
  return q == impl_->queued.end() ? std::uint64_t{0} : q->second;
}

Result<std::uint64_t> ReportStore::PendingCountFor(std::string_view node_id,
                                                   std::string_view originator) {
  auto u = impl_->senders.find(originator);
  if (u == impl_->senders.end()) return std::uint64_t{0};
  auto c = u->second.copies_per_recipient.find(node_id);
  return c == u->second.copies_per_recipient.end() ? std::uint64_t{0} : c->second;
}

Result<std::uint64_t> ReportStore::PendingBytesFrom(std::string_view originator) {
  auto u = impl_->senders.find(originator);
  return u == impl_->senders.end() ? std::uint64_t{0} : u->second.bytes;
}

Result<std::vector<ExpiredCopy>> ReportStore::SelectExpired(std::int64_t now_unix,
                                                            std::size_t limit) {
  Stmt& s = impl_->select_expired;
  ResetOnExit reset(s);
  BindInt(s.get(), 1, now_unix);
  BindInt(s.get(), 2, static_cast<std::int64_t>(limit));
  BindInt(s.get(), 3, impl_->expiry_floor);
  std::vector<ExpiredCopy> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    out.push_back(
        {ColText(s.get(), 0), ColText(s.get(), 1), ColText(s.get(), 2), ColText(s.get(), 3)});
  }
  if (rc != SQLITE_DONE) return StoreError(impl_->h(), rc, "select expired copies");
  // Nothing pending expired up to now: the next sweep starts here. Otherwise the floor stays
  // until the caller has settled what it was given.
  if (out.empty()) impl_->expiry_floor = std::max(impl_->expiry_floor, now_unix);
  return out;
}

void ReportStore::BeginGroup() { impl_->group = true; }

bool ReportStore::in_group() const { return impl_->group; }

Status ReportStore::CommitGroup() {
  impl_->group = false;
  if (impl_->group_lost) {
    impl_->group_lost = false;
    return IoError("STORE_IO", "SQLite rolled back the group's transaction after a failed write");
  }
  if (!impl_->in_transaction) return Status::Ok();
  impl_->in_transaction = false;
  Status st = impl_->Run(impl_->commit, "commit group");
  if (!st.ok() && !sqlite3_get_autocommit(impl_->h()))
    (void)impl_->Run(impl_->rollback, "rollback");
  return st;
}

void ReportStore::AbortGroup() {
  impl_->group = false;
  if (!impl_->in_transaction) return;
  impl_->in_transaction = false;
  (void)impl_->Run(impl_->rollback, "rollback group");
}

namespace {
// Size of `file` now; 0 when it does not exist (a store without a write-ahead log yet).
std::uint64_t FileBytes(const std::filesystem::path& file) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(file, ec);
  return ec ? 0 : static_cast<std::uint64_t>(n);
}
}  // namespace

ReportStore::StorageUse ReportStore::Usage() const {
  const std::uint64_t wal_bytes = FileBytes(path_.string() + "-wal");
  const WalState& w = impl_->wal;
  const int uncopied = std::max(0, w.frames - w.checkpointed);
  const std::uint64_t pending = static_cast<std::uint64_t>(uncopied) * w.page_size;
  // A log of kWalCheckpointFrames frames: 32 bytes of header, 24 per frame before its page.
  const std::uint64_t due = std::max<std::uint64_t>(
      kWalSizeLimitBytes, 32 + std::uint64_t{kWalCheckpointFrames} * (w.page_size + 24));
  return {FileBytes(path_) + wal_bytes, pending + (due > wal_bytes ? due - wal_bytes : 0)};
}

}  // namespace tearline::broker
