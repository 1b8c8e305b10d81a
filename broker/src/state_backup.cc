#include "tearline/broker/state_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <memory>
#include <string_view>
#include <vector>

#include "tearline/audit/audit_log.h"
#include "tearline/audit/audit_records.h"
#include "tearline/audit/audit_verify.h"
#include "tearline/base/file_util.h"
#include "tearline/broker/broker_config.h"
#include "tearline/tlog/checkpoint.h"

namespace tearline::broker {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kStoreFile = "reports.db";
constexpr std::string_view kAuditDir = "audit";
constexpr std::string_view kLogFile = "log.jsonl";
constexpr std::string_view kManifest = "BACKUP.txt";

Status TargetExists(const fs::path& dir) {
  return Status(Code::kAlreadyExists, "BACKUP_TARGET_EXISTS",
                dir.string() +
                    " exists and is not empty; name a new directory or move it aside "
                    "(nothing is overwritten)");
}

// Creates `dir` owner-only, refusing one that holds anything.
Status EmptyTarget(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) return TargetExists(dir);
  return CreatePrivateDirs(dir);
}

Status WriteError(const fs::path& path, const std::error_code& ec) {
  return IoError("FILE_WRITE", path.string() + ": " + ec.message());
}

Status CopyPrivate(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, ec);
  return ec ? WriteError(to, ec) : Status::Ok();
}

// The N of "N" or "N.<witness>" (checkpoints/, cosignatures/), or nullopt.
std::optional<std::uint64_t> LeadingSize(std::string_view name) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec != std::errc() || end == name.data()) return std::nullopt;
  if (end != name.data() + name.size() && *end != '.') return std::nullopt;
  return n;
}

// SQLite's online backup: one read transaction over a consistent snapshot; in WAL mode it does
// not block the broker's commits.
Status BackupStore(const fs::path& from, const fs::path& to) {
  auto fail = [&](sqlite3* db, const std::string& what) {
    return IoError("BACKUP_STORE", what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
  };
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(from.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, Closer> src(raw);
  if (rc != SQLITE_OK) return fail(raw, "cannot open " + from.string());
  sqlite3_busy_timeout(src.get(), 10000);
  // Owner-only before SQLite creates it (it would use 0644).
  if (const int fd = ::open(to.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0) {
    ::close(fd);
  }
  raw = nullptr;
  rc = sqlite3_open_v2(to.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::unique_ptr<sqlite3, Closer> dst(raw);
  if (rc != SQLITE_OK) return fail(raw, "cannot create " + to.string());
  sqlite3_backup* backup = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
  if (backup == nullptr) return fail(dst.get(), "cannot start the backup of " + from.string());
  do {
    rc = sqlite3_backup_step(backup, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return fail(dst.get(), "backup of " + from.string() + " failed");
  return Status::Ok();
}

// Copies the log up to its last complete line; returns the number of records copied.
Result<std::uint64_t> CopyLogPrefix(const fs::path& from, const fs::path& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return InvalidArgument("BACKUP_INVALID", from.string() + " cannot be read");
  const int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return WriteError(to, std::error_code(errno, std::generic_category()));
  std::vector<char> buf(1 << 20);
  std::uint64_t written = 0, complete = 0, records = 0;
  bool ok = true;
  while (ok && in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    for (std::size_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        ++records;
        complete = written + i + 1;
      }
    }
    for (std::size_t done = 0; ok && done < n;) {
      const ssize_t w = ::write(fd, buf.data() + done, n - done);
      ok = w > 0;
      if (ok) done += static_cast<std::size_t>(w);
    }
    written += n;
  }
  // A record being appended while we read is left out: it belongs to a later backup.
  ok = ok && ::ftruncate(fd, static_cast<off_t>(complete)) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) return WriteError(to, std::error_code(errno, std::generic_category()));
  return records;
}

// The audit directory: the log first, then what the copied log can back up.
Result<std::uint64_t> CopyAuditDir(const fs::path& from, const fs::path& to) {
  TEARLINE_RETURN_IF_ERROR(CreatePrivateDirs(to));
  auto records = CopyLogPrefix(from / kLogFile, to / kLogFile);
  if (!records.ok()) return records.status();
  std::optional<std::uint64_t> latest;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path rel = fs::relative(it->path(), from, ec);
    const std::string name = it->path().filename().string();
    if (ec) break;
    if (it->is_directory(ec)) {
      TEARLINE_RETURN_IF_ERROR(CreatePrivateDirs(to / rel));
      continue;
    }
    // Temporaries of an interrupted write, the log (copied) and the latest checkpoint (chosen
    // below among the copied ones) are skipped.
    if (!it->is_regular_file(ec) || name.starts_with('.') || rel == kLogFile ||
        rel == "checkpoint") {
      continue;
    }
    const std::string parent = rel.parent_path().string();
    if (parent == "checkpoints" || parent == "cosignatures") {
      const auto size = LeadingSize(name);
      if (!size || *size > *records) continue;  // Signed after the copied log ends.
      if (parent == "checkpoints" && (!latest || *size > *latest)) latest = size;
    }
    TEARLINE_RETURN_IF_ERROR(CopyPrivate(it->path(), to / rel));
  }
  if (ec) return IoError("AUDIT_IO", from.string() + ": " + ec.message());
  if (!latest) {
    return InvalidArgument("BACKUP_INVALID",
                           from.string() + " holds no signed checkpoint of its log to back up");
  }
  TEARLINE_RETURN_IF_ERROR(
      CopyPrivate(to / "checkpoints" / std::to_string(*latest), to / "checkpoint"));
  return *records;
}

// The audit copy as an auditor checks it.
Result<AuditVerifyResult> VerifyCopy(const fs::path& audit_dir) {
  AuditVerifyOptions options;
  options.dir = audit_dir;
  AuditVerifyResult result = VerifyAuditDirectory(options);
  if (!result.ok()) {
    return InvalidArgument("BACKUP_INVALID", audit_dir.string() +
                                                 " does not verify: " + result.failure->reason +
                                                 ": " + result.failure->message);
  }
  return result;
}

BackupSummary SummaryOf(const AuditVerifyResult& verified, const fs::path& store) {
  BackupSummary s;
  s.audit_records = verified.records;
  s.checkpoint_size = verified.latest ? verified.latest->tree_size : 0;
  std::error_code ec;
  const auto bytes = fs::file_size(store, ec);
  s.store_bytes = ec ? 0 : bytes;
  return s;
}

Status CopyTree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path rel = fs::relative(it->path(), from, ec);
    if (ec) break;
    if (it->is_directory(ec)) {
      TEARLINE_RETURN_IF_ERROR(CreatePrivateDirs(to / rel));
    } else if (it->is_regular_file(ec) && rel != kManifest) {
      TEARLINE_RETURN_IF_ERROR(CopyPrivate(it->path(), to / rel));
    }
  }
  return ec ? WriteError(from, ec) : Status::Ok();
}

}  // namespace

Result<BackupSummary> BackupBrokerState(const fs::path& data_dir, const fs::path& out) {
  std::error_code ec;
  if (!fs::exists(data_dir / kStoreFile, ec) || !fs::exists(data_dir / kAuditDir / kLogFile, ec)) {
    return InvalidArgument("BACKUP_INVALID", data_dir.string() +
                                                 " holds no broker state (reports.db and "
                                                 "audit/log.jsonl)");
  }
  TEARLINE_RETURN_IF_ERROR(EmptyTarget(out));
  // Store first, then the log: see the header.
  TEARLINE_RETURN_IF_ERROR(BackupStore(data_dir / kStoreFile, out / kStoreFile));
  auto records = CopyAuditDir(data_dir / kAuditDir, out / kAuditDir);
  if (!records.ok()) return records.status();
  // Other state files the broker keeps (the revocation floor), but not what it recreates.
  for (fs::directory_iterator it(data_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!it->is_regular_file(ec) || name.starts_with('.') || name.starts_with(kStoreFile) ||
        name == "endpoint") {
      continue;
    }
    TEARLINE_RETURN_IF_ERROR(CopyPrivate(it->path(), out / name));
  }
  auto verified = VerifyCopy(out / kAuditDir);
  if (!verified.ok()) return verified.status();
  const BackupSummary summary = SummaryOf(*verified, out / kStoreFile);
  const std::string manifest = "Tearline broker backup of " + fs::absolute(data_dir, ec).string() +
                               "\naudit_records=" + std::to_string(summary.audit_records) +
                               "\ncheckpoint_size=" + std::to_string(summary.checkpoint_size) +
                               "\nstore_bytes=" + std::to_string(summary.store_bytes) + "\n";
  TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(
      out / kManifest, {reinterpret_cast<const std::uint8_t*>(manifest.data()), manifest.size()},
      0600));
  return summary;
}

Result<RestoreSummary> RestoreBrokerState(const RestoreOptions& options) {
  std::error_code ec;
  if (!fs::exists(options.backup / kStoreFile, ec) ||
      !fs::exists(options.backup / kAuditDir / kLogFile, ec)) {
    return InvalidArgument("BACKUP_INVALID", options.backup.string() +
                                                 " is not a broker backup (reports.db and "
                                                 "audit/log.jsonl)");
  }
  auto verified = VerifyCopy(options.backup / kAuditDir);
  if (!verified.ok()) return verified.status();
  if (fs::exists(options.data_dir, ec) && !fs::is_empty(options.data_dir, ec)) {
    return TargetExists(options.data_dir);
  }
  BrokerConfig config;
  config.data_dir = options.data_dir;
  config.head_file = options.head_file;
  const fs::path head = config.HeadFile();

  RestoreSummary summary;
  summary.restored = SummaryOf(*verified, options.backup / kStoreFile);
  if (fs::exists(head, ec)) {
    // The broker's own start-up check, over the backup: does its log extend the head?
    auto opened = AuditLog::Open(options.backup / kAuditDir, verified->origin, nullptr, head);
    if (!opened.ok() && opened.status().reason() != "AUDIT_ROLLBACK") return opened.status();
    if (!opened.ok()) {
      auto note = ReadSmallFile(head, 64 << 10, "AUDIT_HEAD");
      if (!note.ok()) return note.status();
      auto parsed = ParseCheckpointBody(note->substr(0, note->find("\n\n") + 1));
      const std::uint64_t size = parsed.ok() ? parsed->tree_size : 0;
      if (!options.accept_rollback) {
        return InvalidArgument(
            "RESTORE_ROLLBACK",
            "the broker signed a checkpoint of " + std::to_string(size) + " records (" +
                head.string() + ") that the backup of " +
                std::to_string(summary.restored.audit_records) +
                " records does not extend: restoring it removes signed records, and every "
                "witness that cosigned them will report the rollback. To restore anyway, "
                "accept the rollback (the head file is kept as the evidence)");
      }
      summary.rolled_back_from = size;
      summary.head_kept_as = head.string() + ".rolled-back-" + std::to_string(size);
      for (int i = 2; fs::exists(summary.head_kept_as, ec); ++i) {
        summary.head_kept_as =
            head.string() + ".rolled-back-" + std::to_string(size) + "-" + std::to_string(i);
      }
    }
  }
  TEARLINE_RETURN_IF_ERROR(CreatePrivateDirs(options.data_dir));
  TEARLINE_RETURN_IF_ERROR(CopyTree(options.backup, options.data_dir));
  TEARLINE_RETURN_IF_ERROR(MakeTreePrivate(options.data_dir));
  if (summary.rolled_back_from) {
    // Kept, never removed: it is the signed evidence of what the restore took back.
    fs::rename(head, summary.head_kept_as, ec);
    if (ec) return WriteError(summary.head_kept_as, ec);
  }
  return summary;
}

}  // namespace tearline::broker
