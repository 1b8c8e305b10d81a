#include "tearline/audit/audit_verify.h"

#include <chrono>
#include <span>
#include <utility>

#include "audit_verify_util.h"
#include "tearline/audit/audit_log_file.h"
#include "tearline/audit/audit_record_checker.h"
#include "tearline/audit/audit_signed_files.h"
#include "tearline/tlog/prefix_roots.h"

namespace tearline {

using audit_detail::kMaxSmallFile;
using audit_detail::LineFailure;

namespace {

// The failure to report: smallest line first (ties: exact before ranges), then file failures in
// the order found.
// A root mismatch only says "somewhere in lines a-b"; an exact failure inside that range names
// the record itself, so it wins over the range even when the range starts earlier.
std::optional<AuditFailure> First(const std::vector<AuditFailure>& failures) {
  const auto narrower = [](const AuditFailure& a, const AuditFailure& b) {
    return a.last_line - a.line < b.last_line - b.line;
  };
  const AuditFailure* best = nullptr;
  for (const AuditFailure& f : failures) {
    if (f.line == 0) continue;
    if (best == nullptr) {
      best = &f;
      continue;
    }
    const bool f_inside_best = f.line >= best->line && f.last_line <= best->last_line;
    const bool best_inside_f = best->line >= f.line && best->last_line <= f.last_line;
    if (f_inside_best && narrower(f, *best)) {
      best = &f;
    } else if (best_inside_f) {
      continue;
    } else if (f.line < best->line) {
      best = &f;
    }
  }
  if (best != nullptr) return *best;
  if (!failures.empty()) return failures.front();
  return std::nullopt;
}

}  // namespace

std::string AuditFailure::ToString() const {
  std::string where;
  if (line != 0 && last_line > line) {
    where = "lines " + std::to_string(line) + "-" + std::to_string(last_line);
  } else if (line != 0) {
    where = "line " + std::to_string(line);
  }
  if (!file.empty()) where += where.empty() ? file : " (" + file + ")";
  return where + ": " + reason + ": " + message;
}

Result<NoteVerifierKey> LoadAuditLogKey(const std::filesystem::path& dir) {
  auto text = ReadSmallFile(dir / "log.pub", kMaxSmallFile, "LOG_KEY");
  if (!text.ok()) return text.status();
  std::string_view line = *text;
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  auto key = ParseNoteVerifierKey(line);
  if (!key.ok()) {
    return InvalidArgument("LOG_KEY_INVALID", "log.pub: " + key.status().ToString());
  }
  if (key->type != NoteKeyType::kEd25519 || !key->name.starts_with(kAuditOriginPrefix)) {
    return InvalidArgument("LOG_KEY_INVALID",
                           "log.pub must be an Ed25519 note key named tearline/audit/<broker-id>");
  }
  return key;
}

Result<Checkpoint> LoadLatestAuditCheckpoint(const std::filesystem::path& dir,
                                             const NoteVerifierKey& log_key) {
  auto note = ReadSmallFile(dir / "checkpoint", kMaxSignedNoteSize, "CHECKPOINT");
  if (!note.ok()) return note.status();
  auto opened = OpenCheckpoint(*note, log_key.name, log_key);
  if (!opened.ok()) return opened.status();
  return opened->checkpoint;
}

std::string AuditVerdict(const AuditVerifyResult& result) {
  if (!result.ok()) return "FAIL";
  if (result.unwitnessed()) return "PASS (unwitnessed)";
  return "PASS";
}

AuditVerifyResult VerifyAuditDirectory(const AuditVerifyOptions& options) {
  AuditVerifyResult result;
  result.root_pinned = options.ca_dir.has_value();
  std::vector<AuditFailure> failures;
  const auto load_failure = [&](const AuditLoadError& error) {
    AuditFailure f = LineFailure(error.line, error.status.reason(), error.status.message());
    if (f.line == 0) f.file = "log.jsonl";
    failures.push_back(std::move(f));
  };
  // A log that cannot be read is that failure alone, whatever its lines hold.
  const auto read_failure = [&](const Status& status) {
    AuditVerifyResult failed;
    failed.root_pinned = result.root_pinned;
    failures.clear();
    load_failure(AuditLoadError{0, status});
    failed.failure = First(failures);
    return failed;
  };
  auto file = AuditLogFile::Open(options.dir);
  if (!file.ok()) return read_failure(file.status());
  // One pass, one record at a time: read a block, parse, check, hash the leaf. Only the leaf
  // hashes are kept (32 bytes per record); after a failed check the rest is still parsed and
  // hashed, so that a malformed later line is reported as before and the roots cover every
  // record.
  AuditRecordChecker records_checker(options.dir, result);
  std::optional<AuditFailure> check_failure;
  std::vector<Hash> leaves;
  AuditLogReader reader(**file);
  AuditRecord record;
  double log_time = 0;
  while (reader.Next(record)) {
    leaves.push_back(LeafHash(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(record.bytes.data()), record.bytes.size())));
    if (!check_failure) check_failure = records_checker.CheckNext(record, leaves.size() - 1);
    log_time = record.time;
  }
  // The reader stops at a bad line; the bytes after it are still read, so that a file that
  // cannot be read whole is reported as such, as when the log was read before any line.
  if (reader.error() && reader.error()->line == 0) return read_failure(reader.error()->status);
  if (reader.error() && !(*file)->Drain()) return read_failure((*file)->error());
  result.records = leaves.size();
  if (reader.error()) load_failure(*reader.error());
  if (check_failure) failures.push_back(std::move(*check_failure));
  if (!reader.error()) {
    if (leaves.empty()) {
      log_time = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
    }
    PrefixRoots roots(leaves);
    for (AuditFailure& f :
         CheckAuditSignedFiles(options, roots, log_time, records_checker.decisions(), result)) {
      failures.push_back(std::move(f));
    }
  }
  result.failure = First(failures);
  return result;
}

}  // namespace tearline
