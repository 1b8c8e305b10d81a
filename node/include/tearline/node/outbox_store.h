// OutboxStore and SentStore: the sender side's durable state.
//
//   DATA_DIR/outbox/<report-id-hex>.report   a sealed report exactly as first submitted. Written
//                                            (mode 0600, temporary + fsync + rename + directory
//                                            fsync) BEFORE the first Submit and removed only when
//                                            the broker's answer for it is final. Resubmissions
//                                            send these same bytes, so the report id never
//                                            changes and the broker, which stores each id once,
//                                            never routes a report twice.
//   DATA_DIR/sent/<report-id-hex>.json       the final SubmitReply for a report (accepted, with
//                                            per-recipient outcomes and the audit record that
//                                            decided each, or a definitive rejection), for
//                                            `tearline-node track|prove`.
//
// The sent record is written before the outbox copy is removed: after a crash between the two
// the report is resubmitted once more, and the broker answers it as a duplicate.
//
// Durability: each write is fsync'd (file and directory) before returning, unless the store
// was given the daemon's GroupCommit (UseGroupCommit): then writes are made durable by the
// batch's one sync, and the Outbox waits for it (AfterDurable) before the first Submit and
// before removing the outbox copy of a report whose sent record it just wrote.
//
// Ownership: each store holds only its directory path. Thread-safety: not synchronised; the node
// daemon uses them from its single loop thread.
#ifndef TEARLINE_NODE_OUTBOX_STORE_H_
#define TEARLINE_NODE_OUTBOX_STORE_H_

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/node/group_commit.h"
#include "tearline/wire/wire.h"

namespace tearline::node {

class OutboxStore {
 public:
  // Uses DATA_DIR/outbox, creating it (mode 0700) if needed. Errors: OUTBOX_IO.
  static Result<OutboxStore> Open(const std::filesystem::path& data_dir);

  const std::filesystem::path& dir() const { return dir_; }

  // Stores the sealed report durably (replacing a previous copy of the same id).
  // Errors: OUTBOX_BAD_ID, OUTBOX_IO.
  Status Put(std::string_view report_id_hex, std::span<const std::uint8_t> report_bytes);
  // Errors: OUTBOX_BAD_ID, OUTBOX_NOT_FOUND, OUTBOX_IO.
  Result<std::vector<std::uint8_t>> Get(std::string_view report_id_hex) const;
  // Removes the copy (absent is fine) and syncs the directory. Errors: OUTBOX_BAD_ID, OUTBOX_IO.
  Status Remove(std::string_view report_id_hex);
  bool Contains(std::string_view report_id_hex) const;
  // Ids of every stored report, sorted. Files with other names (e.g. temporaries) are ignored.
  Result<std::vector<std::string>> List() const;
  // Writes are left to `commit`'s batch sync from now on (not owned; must outlive the store).
  void UseGroupCommit(GroupCommit* commit) { commit_ = commit; }
  bool batched() const { return commit_ != nullptr; }

 private:
  explicit OutboxStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
  GroupCommit* commit_ = nullptr;
};

// What the broker finally said about one submitted report.
struct SentRecord {
  std::string report_id_hex;
  std::string banner;
  bool accepted = false;
  bool duplicate = false;  // The broker had already stored this id (an idempotent retry).
  std::string error_reason;
  std::string error_message;
  std::int64_t submitted_unix = 0;             // First Submit.
  std::int64_t replied_unix = 0;               // Final reply.
  std::vector<RecipientOutcomeInfo> outcomes;  // 0-based portion indices, with record_seq.
};

nlohmann::json SentRecordToJson(const SentRecord& record);
// Errors: SENT_CORRUPT naming the field. Never throws.
Result<SentRecord> SentRecordFromJson(const nlohmann::json& j);

class SentStore {
 public:
  // Uses DATA_DIR/sent, creating it (mode 0700) if needed. Errors: SENT_IO.
  static Result<SentStore> Open(const std::filesystem::path& data_dir);

  const std::filesystem::path& dir() const { return dir_; }

  // Writes (or replaces) the record durably, mode 0600. Errors: SENT_BAD_ID, SENT_IO.
  Status Put(const SentRecord& record);
  // Errors: SENT_BAD_ID, SENT_NOT_FOUND, SENT_CORRUPT, SENT_IO.
  Result<SentRecord> Get(std::string_view report_id_hex) const;
  bool Contains(std::string_view report_id_hex) const;
  // Ids of every stored record, sorted.
  Result<std::vector<std::string>> List() const;
  // Writes are left to `commit`'s batch sync from now on (not owned; must outlive the store).
  void UseGroupCommit(GroupCommit* commit) { commit_ = commit; }

 private:
  explicit SentStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
  GroupCommit* commit_ = nullptr;
};

// Submit answers after which a report stays in the outbox and is resubmitted: the broker could
// not take it now (RATE_LIMITED, STORAGE_FULL, SENDER_STORE_QUOTA: this node's own unacknowledged
// copies fill its share, STORE_IO, STORE_BUSY, CONNECTION_LIMIT) or the
// session was not established (NOT_WELCOMED, HELLO_REQUIRED, AUTH_*). Every other rejection is
// definitive.
bool IsTransientSubmitFailure(std::string_view reason);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_OUTBOX_STORE_H_
