// ReportStore: the release desk's requests and the nations portions were released to through
// them (schema version 3). Release writes are rare (one per request, decision or first send of
// an owed frame), so their statements are prepared per call; each is one write like the others
// (BeginWrite/EndWrite: its own transaction, or a savepoint of the open group).
#include <utility>

#include "report_store_internal.h"

namespace tearline::broker {
namespace {

// A statement prepared for one call.
Result<Stmt> PrepareOnce(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  Stmt s(raw);
  if (rc != SQLITE_OK) return StoreError(db, rc, "prepare release statement");
  return s;
}

Status StepDone(sqlite3* db, Stmt& s, std::string_view what) {  // Rows, if any, are ignored.
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return StoreError(db, rc, what);
  return Status::Ok();
}

}  // namespace

Status ReportStore::PutRelease(const StoredRelease& r) {
  TEARLINE_ASSIGN_OR_RETURN(
      Stmt s, PrepareOnce(impl_->h(),
                          "INSERT OR REPLACE INTO release_requests (request_id, ord, originator, "
                          "originator_nation, notice, status, originator_told, requester_told) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  BindText(s.get(), 1, r.request_id);
  BindInt(s.get(), 2, r.order);
  BindText(s.get(), 3, r.originator);
  BindText(s.get(), 4, r.originator_nation);
  BindBlob(s.get(), 5, r.notice);
  BindBlob(s.get(), 6, r.status);
  BindInt(s.get(), 7, r.originator_told ? 1 : 0);
  BindInt(s.get(), 8, r.requester_told ? 1 : 0);
  TEARLINE_RETURN_IF_ERROR(impl_->BeginWrite());
  return impl_->EndWrite(StepDone(impl_->h(), s, "store release request " + r.request_id));
}

Status ReportStore::DeleteRelease(std::string_view request_id) {
  TEARLINE_ASSIGN_OR_RETURN(
      Stmt s, PrepareOnce(impl_->h(), "DELETE FROM release_requests WHERE request_id = ?1"));
  BindText(s.get(), 1, request_id);
  TEARLINE_RETURN_IF_ERROR(impl_->BeginWrite());
  return impl_->EndWrite(StepDone(impl_->h(), s, "delete release request"));
}

Result<std::vector<StoredRelease>> ReportStore::Releases() {
  TEARLINE_ASSIGN_OR_RETURN(
      Stmt s, PrepareOnce(impl_->h(),
                          "SELECT request_id, ord, originator, originator_nation, notice, status, "
                          "originator_told, requester_told FROM release_requests ORDER BY ord"));
  std::vector<StoredRelease> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    StoredRelease r;
    r.request_id = ColText(s.get(), 0);
    r.order = sqlite3_column_int64(s.get(), 1);
    r.originator = ColText(s.get(), 2);
    r.originator_nation = ColText(s.get(), 3);
    r.notice = ColBlob(s.get(), 4);
    r.status = ColBlob(s.get(), 5);
    r.originator_told = sqlite3_column_int64(s.get(), 6) != 0;
    r.requester_told = sqlite3_column_int64(s.get(), 7) != 0;
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return StoreError(impl_->h(), rc, "list release requests");
  return out;
}

Status ReportStore::AddReleased(const ReleasedTo& p) {
  TEARLINE_ASSIGN_OR_RETURN(
      Stmt s, PrepareOnce(impl_->h(),
                          "INSERT OR IGNORE INTO released_portions (report_id, portion, nation) "
                          "VALUES (?1, ?2, ?3)"));
  BindText(s.get(), 1, p.report_id);
  BindInt(s.get(), 2, p.portion);
  BindText(s.get(), 3, p.nation);
  TEARLINE_RETURN_IF_ERROR(impl_->BeginWrite());
  return impl_->EndWrite(StepDone(impl_->h(), s, "store released portion"));
}

Result<std::vector<ReleasedTo>> ReportStore::ReleasedPortions() {
  TEARLINE_ASSIGN_OR_RETURN(Stmt s,
                            PrepareOnce(impl_->h(),
                                        "SELECT report_id, portion, nation FROM released_portions "
                                        "ORDER BY report_id, portion, nation"));
  std::vector<ReleasedTo> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    out.push_back({ColText(s.get(), 0),
                   static_cast<std::uint32_t>(sqlite3_column_int64(s.get(), 1)),
                   ColText(s.get(), 2)});
  }
  if (rc != SQLITE_DONE) return StoreError(impl_->h(), rc, "list released portions");
  return out;
}

}  // namespace tearline::broker
