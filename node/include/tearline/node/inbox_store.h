// InboxStore: the node's durable inbox of received reports, one pair of files per report:
//
//   DATA_DIR/inbox/<report-id-hex>.report   the report copy exactly as delivered (still
//                                           encrypted; only the daemon's keys open it)
//   DATA_DIR/inbox/<report-id-hex>.json     metadata (banner as this nation sees it, originator,
//                                           times, received portions and their labels)
//
// Both files are written to a fresh temporary in the same directory and renamed; the .report
// file first, the .json last. A report whose .json exists is "in the inbox"; Store() of the same
// id again changes nothing (duplicate suppression by report id) unless asked to replace it.
// Durability: without a GroupCommit each file and the directory are fsync'd before Store()
// returns; with one (the daemon's, UseGroupCommit) the batch's single sync makes them durable and
// the caller defers its Ack until then (GroupCommit::AfterDurable). A crash before that sync may
// leave a .json whose .report is incomplete: nothing was acknowledged for it, the broker
// delivers it again, and StoredCopyMatches() tells the receiver to store that copy again.
//
// Index: List() answers from an in-memory index of parsed metadata (filled by Store() and by the
// first listing that reads a file), checked against the directory's names only, so a listing
// costs one directory read plus constant work per returned entry instead of reading and parsing
// every metadata file; reports an operator removed or added are still seen. reports() is the
// maintained count (no directory read).
//
// Metadata never contains content, only what a banner line already shows.
//
// Quota: the inbox holds at most InboxLimits::max_reports reports and max_bytes bytes (report
// and metadata files together), so no originator, nor a broker, can fill the node's disk. A
// Store() beyond either is refused with INBOX_FULL (nothing written; the receiver sends that
// reason to the broker and does not acknowledge). Usage is counted once at Open and kept up to
// date by Store(); when a Store() would exceed it the directory is counted again first, so
// reports an operator moved away make room without a restart.
//
// Ownership: the store holds only its directory path. Thread-safety: not synchronised; the node
// daemon uses it from its single loop thread (the CLI never touches the files directly).
#ifndef TEARLINE_NODE_INBOX_STORE_H_
#define TEARLINE_NODE_INBOX_STORE_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/node/group_commit.h"

namespace tearline::node {

// Received portion as recorded in the metadata: 0-based index (wire numbering) and label.
struct InboxPortion {
  std::uint32_t index = 0;
  std::string label;
};

struct InboxEntry {
  std::string report_id_hex;  // 32 lower-case hex characters.
  std::string banner;         // Roll-up of the portions this node received.
  std::string originator;     // Originating node id.
  std::string originator_nation;
  std::int64_t created_unix = 0;
  std::int64_t expires_unix = 0;
  std::int64_t received_unix = 0;
  std::uint32_t portion_count = 0;     // Portions in the original report.
  std::vector<InboxPortion> portions;  // Portions opened by this node, increasing index.
  // Ed25519 key (hex) of the originator certificate that verified the report on receipt, so the
  // report can be re-opened later even if that certificate has since expired.
  std::string originator_signing_key_hex;
  std::string originator_cert_fingerprint_hex;
  // Set when the copy arrived as a forward (then report_id_hex is the forward id): the chain
  // originator -> forwarder, both signatures verified on receipt.
  std::string forwarder;  // Forwarding node id; empty for a copy from the originator.
  std::string forwarder_nation;
  std::string forwarded_report_id_hex;  // The originator's report id.
  std::string forwarder_signing_key_hex;
};

struct InboxLimits {
  std::uint64_t max_reports = 100000;
  std::uint64_t max_bytes = std::uint64_t{8} << 30;
};

class InboxStore {
 public:
  // Uses DATA_DIR/inbox, creating it (mode 0700) if needed, and counts what it holds.
  // Errors: INBOX_IO.
  static Result<InboxStore> Open(const std::filesystem::path& data_dir, InboxLimits limits = {});

  const std::filesystem::path& dir() const { return dir_; }

  // True when a report with this id is already stored.
  bool Contains(std::string_view report_id_hex) const;

  enum class StoreMode { kIfAbsent, kReplace };
  // Stores a report (durably, or for the group commit's next sync). Returns true when stored now,
  // false when the id was already in the inbox and `mode` is kIfAbsent (nothing is written then;
  // also when the inbox is full). kReplace rewrites both files (repair of a copy a crash left
  // incomplete). Errors: INBOX_BAD_ID (id not 32 hex chars), INBOX_FULL (the report would
  // exceed the limits), INBOX_IO.
  Result<bool> Store(const InboxEntry& entry, std::span<const std::uint8_t> report_bytes,
                     StoreMode mode = StoreMode::kIfAbsent);

  // True when the stored .report of this id is exactly `report_bytes` (false when absent).
  // Errors: INBOX_BAD_ID, INBOX_CORRUPT, INBOX_IO.
  Result<bool> StoredCopyMatches(std::string_view report_id_hex,
                                 std::span<const std::uint8_t> report_bytes) const;

  // From now on, writes are left to `commit`'s batch sync (not owned; must outlive the store).
  void UseGroupCommit(GroupCommit* commit) { commit_ = commit; }

  // Reports counted in the inbox: at Open, plus each Store(), recounted when the inbox is full.
  std::uint64_t reports() const { return usage_.reports; }

  // Every entry, oldest received first (ties by id). Unreadable metadata files are skipped and
  // counted in `skipped` when non-null.
  Result<std::vector<InboxEntry>> List(std::size_t* skipped = nullptr) const;

  // Metadata of one report. `id_or_prefix` may be a unique prefix (at least 4 hex characters)
  // of the id. Errors: INBOX_NOT_FOUND, INBOX_AMBIGUOUS_ID, INBOX_BAD_ID, INBOX_CORRUPT, INBOX_IO.
  Result<InboxEntry> Find(std::string_view id_or_prefix) const;

  // The stored report bytes of a full id. Errors: INBOX_NOT_FOUND, INBOX_IO.
  Result<std::vector<std::uint8_t>> ReadReport(std::string_view report_id_hex) const;

 private:
  struct Usage {
    std::uint64_t reports = 0;
    std::uint64_t bytes = 0;
  };
  InboxStore(std::filesystem::path dir, InboxLimits limits)
      : dir_(std::move(dir)), limits_(limits) {}
  // Counts the stored reports (metadata files) and the bytes of report and metadata files.
  Result<Usage> Count() const;
  bool Fits(std::uint64_t bytes) const {
    return usage_.reports + 1 <= limits_.max_reports && usage_.bytes + bytes <= limits_.max_bytes;
  }
  std::filesystem::path dir_;
  InboxLimits limits_;
  Usage usage_;
  GroupCommit* commit_ = nullptr;
  // Parsed metadata by id; a cache of the .json files (never the only copy).
  mutable std::map<std::string, InboxEntry, std::less<>> index_;
};

// JSON form of the metadata (the .json file's content; also what `inbox --json` prints).
nlohmann::json InboxEntryToJson(const InboxEntry& entry);
// Errors: INBOX_CORRUPT naming the missing or ill-typed field. Never throws.
Result<InboxEntry> InboxEntryFromJson(const nlohmann::json& j);

// True when `s` is exactly 32 lower-case hex characters.
bool IsReportIdHex(std::string_view s);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_INBOX_STORE_H_
