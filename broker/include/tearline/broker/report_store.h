// ReportStore: the broker's durable memory of accepted reports and of every recipient's copy,
// kept in one embedded SQLite database (data_dir/reports.db).
//
// What it holds:
// - one row per accepted report: id, originator, SHA-256 of the exact submitted bytes (so an
//   identical resubmission is told apart from a different report reusing the id), expiry, and
//   the SubmitReply that was sent (an encoded Frame, so a retry is answered identically);
// - one row per recipient outcome (node id, nation): the copy bytes while the copy is pending,
//   its state (queued, delivered = sent but not acknowledged, acknowledged, expired, denied,
//   failed = refused by its recipient for a permanent reason), the reason for
//   denied/expired/failed, when it last changed and the audit record that changed it.
//   Acknowledged, expired and failed copies drop their bytes; the status row stays for
//   TrackRequest;
// - the release desk's requests (StoredRelease: undecided, and decided until forgotten) and the
//   nations a portion was released to through an approved request (ReleasedTo), so that a
//   broker restart loses neither (broker/release_desk.h).
//
// Durability: WAL journal with synchronous=FULL, so a write that returns OK outside a group has
// been committed to stable storage; InsertReport writes the report and all of its copies in one
// transaction (all or nothing). Group commit: between BeginGroup() and CommitGroup() every write
// joins one transaction (begun by the first write; each write is a savepoint, so a failed one is
// undone alone), reads see the group's writes, and nothing is durable until CommitGroup()
// returns OK: one WAL sync for the whole group. The schema is versioned with PRAGMA user_version; a
// file with another version, or one that is not a SQLite database, is refused at Open with a clear
// error instead of being modified; an older store is migrated in one transaction: version 1 (no
// `failed` state), version 2 (no release tables) and version 3 (copies keyed by the random
// report id, and two indexes no query read) to version 4, whose copies are keyed by their
// report's rowid, so a group of reports writes a few index pages instead of one per report.
// The WAL is checkpointed every 1,000 pages (SQLite's default): a longer window wrote fewer
// bytes but could fill a small disk before the free-space reserve refused (PERFORMANCE.md).
//
// Errors are Status values, never exceptions. Reasons: STORE_IO (the OS or SQLite failed to read
// or write), STORAGE_FULL (SQLITE_FULL: the disk or the configured size cap is exhausted),
// STORE_CORRUPT (not a SQLite database, or damaged), STORE_VERSION (unknown schema version),
// STORE_BUSY (locked by another process), STORE_DUPLICATE (InsertReport of an existing id),
// STORE_INVALID (bad argument such as an unknown state).
//
// Ownership: owns the sqlite3 connection and its prepared statements (RAII, not copyable).
// Thread-safety: none; one thread at a time. The broker uses it only from its Run() thread.
#ifndef TEARLINE_BROKER_REPORT_STORE_H_
#define TEARLINE_BROKER_REPORT_STORE_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"

namespace tearline::broker {

enum class CopyState { kQueued, kDelivered, kAcknowledged, kExpired, kDenied, kFailed };

// "queued", "delivered", "acknowledged", "expired", "denied", "failed" (the TrackReply spelling).
std::string_view CopyStateName(CopyState state);
std::optional<CopyState> ParseCopyState(std::string_view name);
// Queued and delivered copies are pending: they still hold bytes and wait for an Ack.
inline bool IsPending(CopyState s) { return s == CopyState::kQueued || s == CopyState::kDelivered; }

struct StoredCopy {
  std::string node_id;  // "" for whole-nation denials (NO_NODE, UNKNOWN_NATION).
  std::string nation;
  CopyState state = CopyState::kDenied;
  std::string reason;               // Reason code for denied/expired/failed, else "".
  std::vector<std::uint8_t> bytes;  // The copy; empty unless pending (and when not requested).
  std::int64_t updated_unix = 0;
  std::uint64_t record_seq = 0;  // Audit record that last changed the state.
};

struct StoredReport {
  std::string report_id;  // 32 lower-case hex digits.
  std::string originator;
  std::string sha256;  // Lower-case hex SHA-256 of the exact submitted bytes.
  std::int64_t expires_unix = 0;
  std::vector<std::uint8_t> reply;  // Encoded SubmitReply frame as first sent.
};

// A pending copy ready to be (re)sent.
struct PendingCopy {
  std::string report_id;
  std::string node_id;
  std::string nation;
  CopyState state = CopyState::kQueued;
  std::vector<std::uint8_t> bytes;
};

// Where a pending copy sits in its recipient's queue, without its bytes (see PendingIdsFor).
struct PendingId {
  std::int64_t position = 0;  // Increases with insertion order; a cursor for the next page.
  std::string report_id;
  CopyState state = CopyState::kQueued;
  std::uint64_t size = 0;  // Bytes of the copy.
};

// A pending copy whose report has expired (selected by the expiry sweep).
struct ExpiredCopy {
  std::string report_id;
  std::string originator;
  std::string node_id;
  std::string nation;
};

// A release request as the release desk keeps it. `notice` and `status` are the encoded
// ReleaseNotice and ReleaseStatus frames (the store does not read them).
struct StoredRelease {
  std::string request_id;  // 32 lower-case hex digits.
  std::int64_t order = 0;  // The desk's arrival order.
  std::string originator;
  std::string originator_nation;
  std::vector<std::uint8_t> notice;
  std::vector<std::uint8_t> status;
  bool originator_told = false;  // The notice reached the originator.
  bool requester_told = false;   // The decided status reached the requester.
};

// A nation a portion was released to through an approved release request.
struct ReleasedTo {
  std::string report_id;
  std::uint32_t portion = 0;
  std::string nation;
};

struct ReportStoreOptions {
  // Hard cap on the database's logical size (SQLite max_page_count); a write that would exceed
  // it fails with STORAGE_FULL and is rolled back. 0: no cap.
  std::uint64_t max_bytes = 0;
  // How long to wait for a lock held by another connection before STORE_BUSY.
  int busy_timeout_ms = 5000;
};

class ReportStore {
 public:
  // Opens or creates the database at `file` (its directory must exist) and prepares every
  // statement. Errors: STORE_IO, STORE_CORRUPT, STORE_VERSION, STORE_BUSY.
  static Result<std::unique_ptr<ReportStore>> Open(const std::filesystem::path& file,
                                                   const ReportStoreOptions& options = {});
  ~ReportStore();
  ReportStore(const ReportStore&) = delete;
  ReportStore& operator=(const ReportStore&) = delete;

  // The stored report (without its copies), or nullopt when the id is unknown.
  Result<std::optional<StoredReport>> FindReport(std::string_view report_id);

  // Stores the report and all of its copies in one durable transaction. Copies in a pending
  // state must carry bytes; others are stored without. Errors: STORE_DUPLICATE (id exists;
  // nothing written), STORAGE_FULL, STORE_IO.
  Status InsertReport(const StoredReport& report, const std::vector<StoredCopy>& copies);

  // Every copy row of a report in insertion order, without bytes (empty when the id is unknown).
  Result<std::vector<StoredCopy>> Copies(std::string_view report_id);

  // One copy (with bytes when pending and `with_bytes`), or nullopt. Without bytes the copy's
  // blob is not read, so a state check costs the same for a 1 KiB and a 16 MiB copy.
  Result<std::optional<StoredCopy>> FindCopy(std::string_view report_id, std::string_view node_id,
                                             bool with_bytes = true);

  // Moves a copy to `state`; acknowledged/expired/denied/failed drop the bytes. Returns false when
  // no such copy exists. Durable when it returns.
  Result<bool> SetState(std::string_view report_id, std::string_view node_id, CopyState state,
                        std::string_view reason, std::int64_t now_unix, std::uint64_t record_seq);

  // Pending copies for `node_id` in the order they were stored, with bytes; at most `limit`.
  Result<std::vector<PendingCopy>> PendingFor(std::string_view node_id, std::size_t limit);
  // Pending copies for `node_id` stored after position `after` (0: from the start), in order,
  // without bytes; at most `limit`. Lets a caller page through a long queue and fetch only the
  // bytes it sends (FindCopy).
  Result<std::vector<PendingId>> PendingIdsFor(std::string_view node_id, std::int64_t after,
                                               std::size_t limit);
  // Number of pending copies for `node_id` (for the per-node queue cap); kept in memory like
  // the per-sender counts below, so it costs no query.
  Result<std::uint64_t> PendingCount(std::string_view node_id);
  // Pending copies for `node_id` of reports by `originator` (a sender's share of that queue),
  // and the bytes of every pending copy of reports by `originator` (its share of the store).
  // Counted once at Open and kept in memory by InsertReport and SetState (the only writers of
  // copies), so admission pays no query per Submit.
  Result<std::uint64_t> PendingCountFor(std::string_view node_id, std::string_view originator);
  Result<std::uint64_t> PendingBytesFrom(std::string_view originator);
  // Pending copies whose report expired at or before `now_unix`, oldest expiry first. Reads only
  // reports that expired since the last call that found nothing (an expiry index and a floor
  // kept in memory), so a sweep costs O(log n + what expired), not a pass over every copy.
  Result<std::vector<ExpiredCopy>> SelectExpired(std::int64_t now_unix, std::size_t limit);

  // Group commit (see Durability above). BeginGroup() while a group is open is a no-op.
  // CommitGroup() ends the group; on error the whole group is rolled back (STORE_IO,
  // STORAGE_FULL) and the in-memory counts no longer match the file: the caller must stop using
  // the store (the broker stops; a restart recounts). AbortGroup() rolls the group back.
  void BeginGroup();
  [[nodiscard]] Status CommitGroup();
  void AbortGroup();
  bool in_group() const;

  // Release requests (report_store_releases.cc). Each write is one write like the others (its
  // own transaction, or part of the open group); not bound by the size cap (the desk bounds how
  // many it keeps). PutRelease inserts or replaces by request_id; AddReleased ignores a row it
  // already holds. Errors: STORE_IO, STORAGE_FULL.
  Status PutRelease(const StoredRelease& release);
  Status DeleteRelease(std::string_view request_id);
  Result<std::vector<StoredRelease>> Releases();  // In `order`.
  Status AddReleased(const ReleasedTo& released);
  Result<std::vector<ReleasedTo>> ReleasedPortions();

  // Bytes the store occupies on disk now: the database file plus its write-ahead log.
  std::uint64_t DiskBytes() const { return Usage().disk_bytes; }
  // Bytes the store may still claim on its disk without storing anything new, which a
  // free-space check must hold back (SubmitPipeline's min_free_bytes):
  //  - the pages its write-ahead log holds that no checkpoint has copied yet: the checkpoint
  //    writes them into the database file, which grows by up to that much;
  //  - the log file's own growth, from its size now to where a checkpoint is due
  //    (kWalCheckpointFrames frames, at least its journal_size_limit of 4 MiB).
  // Without the first, a disk filled while the reports sat in the log was full the moment the
  // checkpoint ran, and an acknowledgement then failed to commit, which stops the broker.
  // An upper bound (a checkpoint also rewrites pages the file already has).
  std::uint64_t PendingGrowthBytes() const { return Usage().pending_growth_bytes; }
  // Both at once, for the free-space check of every submission. Cost: one stat of each file.
  struct StorageUse {
    std::uint64_t disk_bytes = 0;
    std::uint64_t pending_growth_bytes = 0;
  };
  StorageUse Usage() const;
  const std::filesystem::path& path() const { return path_; }

  // Schema version this code reads and writes (PRAGMA user_version). Versions 1 (no `failed`
  // state), 2 (no release tables) and 3 (copies keyed by report id) are migrated at Open.
  static constexpr int kSchemaVersion = 4;

 private:
  struct Impl;
  explicit ReportStore(std::unique_ptr<Impl> impl, std::filesystem::path path);
  std::unique_ptr<Impl> impl_;
  std::filesystem::path path_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_REPORT_STORE_H_
