// StateBackup: an online backup of a broker's state, and its restore.
//
// A backup is a directory holding what the broker needs to start again where the backup was
// taken: reports.db (the report store, copied with SQLite's online backup API, so the copy is a
// consistent snapshot even while the broker writes), audit/ (the audit directory), the
// revocation floor, and BACKUP.txt (what was copied, for the operator). It is taken while the
// broker runs, as the broker's user, and never blocks it (the store is copied in one read
// transaction, which in WAL mode does not hold up the broker's commits; the audit log is only
// read).
//
// Consistency. The broker writes "audit record durable -> store commit", so the store is copied
// FIRST and the audit directory after it: every row of the copied store has its records in the
// copied log; the log may hold the `accepted` records of reports committed after the store was
// copied, which the broker recovers at start as it recovers from a crash between the two steps
// (orphaned accepts, broker.h). The audit log is append-only: it is copied up to its last
// complete line, then the signed checkpoints (checkpoints/N) and cosignatures with N no larger
// than the copied log, and the largest of those checkpoints becomes the copy's `checkpoint`. The
// copy is then verified as an auditor would (VerifyAuditDirectory) before the backup is
// reported good.
//
// Restore copies a verified backup into a data directory that does not exist or is empty (an
// operator moves the damaged one aside; nothing is ever deleted). The broker's head file (the
// last checkpoint it signed, outside the data directory: BrokerConfig::HeadFile) tells whether
// the restore rolls back signed records: when the head is larger than the backup's log, or
// disagrees with it, the restore is refused (RESTORE_ROLLBACK) unless the operator accepts the
// rollback; the head file is then renamed, not removed (FILE.rolled-back-N, N its size, plus
// -2, -3, ... if that name is taken: the
// signed evidence of what the restore removed), so the broker starts. Witness nodes that
// cosigned a checkpoint beyond the backup raise event=audit_log_inconsistent when they next
// talk to the restored broker: a rollback cannot go unnoticed.
//
// Thread-safety: plain functions; run as separate processes (tearline-admin backup / restore).
#ifndef TEARLINE_BROKER_STATE_BACKUP_H_
#define TEARLINE_BROKER_STATE_BACKUP_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "tearline/base/status.h"

namespace tearline::broker {

struct BackupSummary {
  std::uint64_t audit_records = 0;    // Records in the copied log.
  std::uint64_t checkpoint_size = 0;  // Records the copy's latest signed checkpoint covers.
  std::uint64_t store_bytes = 0;      // Size of the copied reports.db.
};

// Backs up the broker state in `data_dir` into `out`, which must not exist or be empty.
// Errors: BACKUP_TARGET_EXISTS, BACKUP_INVALID (data_dir holds no broker state, or the audit
// copy does not verify: the message names the failure), BACKUP_STORE (the SQLite backup failed),
// FILE_WRITE and AUDIT_* file errors.
Result<BackupSummary> BackupBrokerState(const std::filesystem::path& data_dir,
                                        const std::filesystem::path& out);

struct RestoreOptions {
  std::filesystem::path backup;
  std::filesystem::path data_dir;
  std::filesystem::path head_file;  // Empty: the broker's default, "<data_dir>.head".
  bool accept_rollback = false;
};

struct RestoreSummary {
  BackupSummary restored;
  // Set when the restore rolled back signed records: the head's size, and where it was kept.
  std::optional<std::uint64_t> rolled_back_from;
  std::filesystem::path head_kept_as;
};

// Restores `options.backup` into `options.data_dir`. Errors: BACKUP_INVALID (not a backup, or
// it does not verify), BACKUP_TARGET_EXISTS (data_dir is not empty), RESTORE_ROLLBACK (the head
// file is ahead of or disagrees with the backup and accept_rollback is false; nothing written),
// AUDIT_HEAD_* (the head file is unreadable or not this log's), FILE_WRITE.
Result<RestoreSummary> RestoreBrokerState(const RestoreOptions& options);

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_STATE_BACKUP_H_
