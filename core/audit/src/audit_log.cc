#include "tearline/audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "tearline/audit/audit_field_bound.h"
#include "tearline/audit/audit_records.h"
#include "tearline/base/file_util.h"

namespace tearline {
namespace {

constexpr std::size_t kMaxRecordBytes = 1 << 20;
// Room on a line for what AppendBuffered adds around the caller's fields (seq, time, type).
constexpr std::size_t kEnvelopeBytes = 256;

Status Errno(const std::string& what) {
  return IoError("AUDIT_IO", what + ": " + std::strerror(errno));
}

Status WriteAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("audit log write");
    }
    off += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

Status TooLargeToShorten(std::string_view type) {
  return InvalidArgument("AUDIT_RECORD_TOO_LARGE", "audit record of type " + std::string(type) +
                                                       " cannot be shortened to 1 MiB");
}

Hash LineHash(std::string_view line) {
  return LeafHash({reinterpret_cast<const std::uint8_t*>(line.data()), line.size()});
}

std::span<const std::uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::filesystem::path& dir,
                                                 std::string origin, const SigningKeyPair* signer,
                                                 std::filesystem::path head_file) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  // Owner-only like the rest of the broker's data: auditors get a copy, not access.
  std::error_code ec;
  for (const char* sub : {"checkpoints", "cosignatures"}) {
    if (Status st = CreatePrivateDirs(dir / sub); !st.ok()) {
      return IoError("AUDIT_IO", dir.string() + ": cannot create audit directory: " + st.message());
    }
  }
  if (signer != nullptr) {
    // The writer removes temporaries a crash left between create and rename (see
    // WriteFileAtomic); readers never touch the directory.
    for (const char* sub : {".", "checkpoints", "cosignatures", "certs"}) {
      std::error_code list_ec;
      for (std::filesystem::directory_iterator it(dir / sub, list_ec), end; !list_ec && it != end;
           it.increment(list_ec)) {
        const std::string name = it->path().filename().string();
        if (name.starts_with('.') && name.find(".tmp") != std::string::npos &&
            it->is_regular_file(list_ec)) {
          std::error_code rm_ec;
          std::filesystem::remove(it->path(), rm_ec);
        }
      }
    }
  }
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->dir_ = dir;
  log->path_ = dir / "log.jsonl";
  log->origin_ = std::move(origin);
  log->signer_ = signer;
  log->head_file_ = std::move(head_file);

  // Rebuild the tree from complete lines; a final line without '\n' is a torn write.
  std::uint64_t good_bytes = 0;
  std::uint64_t total_bytes = 0;
  std::string last_line;
  {
    std::ifstream in(log->path_, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      const std::uint64_t start = total_bytes;
      total_bytes += line.size();
      if (in.eof()) break;  // No newline after this line: torn.
      total_bytes += 1;
      if (line.size() > kMaxRecordBytes) {
        return Status(Code::kInvalidArgument, "AUDIT_CORRUPT",
                      log->path_.string() + ": record " + std::to_string(log->tree_.size() + 1) +
                          " is larger than 1 MiB");
      }
      log->tree_.Append(LineHash(line));
      log->starts_.push_back(start);
      good_bytes = total_bytes;
      last_line.swap(line);
    }
  }
  log->end_offset_ = good_bytes;
  if (!last_line.empty()) {
    // New records must not go back in time even if the clock did since the last run.
    auto last = nlohmann::json::parse(last_line, nullptr, /*allow_exceptions=*/false);
    if (last.is_object() && last.contains("time") && last["time"].is_number()) {
      log->last_time_ = last["time"].get<double>();
    }
  }
  log->next_seq_ = log->tree_.size();
  log->torn_tail_bytes_ = total_bytes - good_bytes;

  // The log must still reproduce the latest checkpoint it signed.
  const auto cp_path = dir / "checkpoint";
  if (std::filesystem::exists(cp_path, ec)) {
    std::ifstream in(cp_path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    log->latest_checkpoint_ = ss.str();
    auto body_end = log->latest_checkpoint_.find("\n\n");
    auto cp = ParseCheckpointBody(
        body_end == std::string::npos
            ? std::string_view(log->latest_checkpoint_)
            : std::string_view(log->latest_checkpoint_).substr(0, body_end + 1));
    if (!cp.ok()) return cp.status().WithContext(cp_path.string());
    if (cp->tree_size > log->tree_.size()) {
      return Status(Code::kInvalidArgument, "AUDIT_CHECKPOINT_MISMATCH",
                    cp_path.string() + " covers " + std::to_string(cp->tree_size) +
                        " records but the log holds only " + std::to_string(log->tree_.size()) +
                        ": records were removed after they were signed");
    }
    auto root = log->tree_.RootAt(cp->tree_size);
    if (!root.ok() || *root != cp->root_hash) {
      return Status(Code::kInvalidArgument, "AUDIT_CHECKPOINT_MISMATCH",
                    "the first " + std::to_string(cp->tree_size) + " records of " +
                        log->path_.string() +
                        " no longer match the signed checkpoint: the log was altered; refusing "
                        "to sign anything inconsistent with it");
    }
    log->checkpoint_size_ = cp->tree_size;
  }
  TEARLINE_RETURN_IF_ERROR(log->CheckHead());

  // O_RDWR rather than O_WRONLY: Record() preads from the same descriptor.
  int fd = ::open(log->path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(log->path_.string());
  if (log->torn_tail_bytes_ > 0 && ::ftruncate(fd, static_cast<off_t>(good_bytes)) != 0) {
    Status s = Errno(log->path_.string() + ": cannot cut torn tail");
    ::close(fd);
    return s;
  }
  // Records a previous process wrote but never synced count as durable from here on.
  if (::fdatasync(fd) != 0) {
    Status s = Errno(log->path_.string() + ": fsync");
    ::close(fd);
    return s;
  }
  log->fd_ = fd;
  log->synced_seq_ = log->next_seq_;

  if (signer != nullptr) {
    auto key = MakeNoteVerifierKey(log->origin_, NoteKeyType::kEd25519, signer->public_key);
    if (!key.ok()) return key.status();
    log->verifier_key_ = FormatNoteVerifierKey(*key);
    const std::string line = log->verifier_key_ + "\n";
    TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(dir / "log.pub", Bytes(line), 0600));
  }
  return log;
}

// The head is the last checkpoint this writer signed, kept where a restore of the audit
// directory does not reach: a directory that no longer extends it was rolled back.
Status AuditLog::CheckHead() const {
  if (head_file_.empty()) return Status::Ok();
  std::error_code ec;
  if (!std::filesystem::exists(head_file_, ec)) return Status::Ok();  // First start.
  auto note = ReadSmallFile(head_file_, kMaxSignedNoteSize, "AUDIT_HEAD");
  if (!note.ok()) return note.status();
  const std::string& text = *note;
  const auto body_end = text.find("\n\n");
  auto head = ParseCheckpointBody(body_end == std::string::npos
                                      ? std::string_view(text)
                                      : std::string_view(text).substr(0, body_end + 1));
  if (!head.ok() || head->origin != origin_) {
    return InvalidArgument("AUDIT_HEAD_INVALID",
                           head_file_.string() + " is not a checkpoint of " + origin_ +
                               (head.ok() ? "" : ": " + head.status().ToString()));
  }
  const std::string restore_hint =
      ": the audit directory was restored from an older copy, truncated or replaced; refusing "
      "to start. If this is a deliberate restore, move " +
      head_file_.string() + " aside (it is the evidence of what was signed)";
  if (head->tree_size > tree_.size()) {
    return Status(Code::kInvalidArgument, "AUDIT_ROLLBACK",
                  "this broker last signed a checkpoint of " + std::to_string(head->tree_size) +
                      " records but " + path_.string() + " holds " + std::to_string(tree_.size()) +
                      restore_hint);
  }
  auto root = tree_.RootAt(head->tree_size);
  if (!root.ok() || *root != head->root_hash) {
    return Status(Code::kInvalidArgument, "AUDIT_ROLLBACK",
                  "the first " + std::to_string(head->tree_size) + " records of " + path_.string() +
                      " differ from the last checkpoint this broker signed" + restore_hint);
  }
  return Status::Ok();
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
}

std::uint64_t AuditLog::size() const {
  std::lock_guard lock(mu_);
  return next_seq_;
}

std::uint64_t AuditLog::synced_size() const {
  std::lock_guard lock(mu_);
  return synced_seq_;
}

Result<std::uint64_t> AuditLog::Append(std::string_view type, nlohmann::json fields) {
  TEARLINE_ASSIGN_OR_RETURN(std::uint64_t seq, AppendBuffered(type, std::move(fields)));
  TEARLINE_RETURN_IF_ERROR(Sync());
  return seq;
}

Result<std::uint64_t> AuditLog::Append(const AnyAuditRecord& record) {
  return Append(AuditRecordTypeName(record), ToJson(record));
}

Result<std::uint64_t> AuditLog::AppendBuffered(const AnyAuditRecord& record) {
  return AppendBuffered(AuditRecordTypeName(record), ToJson(record));
}

Result<std::uint64_t> AuditLog::AppendBuffered(std::string_view type, nlohmann::json fields) {
  if (!fields.is_object()) fields = nlohmann::json::object();
  // Every record is bounded here, the one place all of them pass: text a node supplied can
  // shorten a record (with a marker) but never make it unwritable.
  BoundAuditFields(fields);
  // Shrinking is a no-op for fields whose JSON fits the cap, and the record's line holds all of
  // them: a line within the cap proves it without serialising the fields a second time. Fields
  // that reuse an envelope key keep the original order of steps (no record type has one).
  const bool shrink_first =
      fields.contains("seq") || fields.contains("time") || fields.contains("type");
  if (shrink_first && !ShrinkAuditFieldsToFit(fields, kMaxRecordBytes - kEnvelopeBytes)) {
    return TooLargeToShorten(type);
  }
  std::lock_guard lock(mu_);
  if (!failed_.ok()) return failed_;
  // The clock is read under the lock and clamped so that `time` never decreases along the log,
  // whatever the thread interleaving or a clock step back (verifiers reject decreasing time).
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  double t =
      static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) /
      1000.0;
  if (t < last_time_) t = last_time_;
  nlohmann::json record = nlohmann::json::object();
  record["seq"] = next_seq_;
  record["time"] = t;
  record["type"] = type;
  for (auto& [k, v] : fields.items()) record[k] = std::move(v);
  // dump() escapes control characters, so one record is always exactly one line.
  std::string line = record.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  if (!shrink_first && line.size() > kMaxRecordBytes - kEnvelopeBytes) {
    // Rare: take the fields back, shorten them as ShrinkAuditFieldsToFit does, and rebuild.
    for (const char* key : {"seq", "time", "type"}) record.erase(key);
    if (!ShrinkAuditFieldsToFit(record, kMaxRecordBytes - kEnvelopeBytes)) {
      return TooLargeToShorten(type);
    }
    record["seq"] = next_seq_;
    record["time"] = t;
    record["type"] = type;
    line = record.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  }
  // Open refuses longer lines, so writing one would make the log unopenable (unreachable after
  // ShrinkAuditFieldsToFit unless `type` itself is huge).
  if (line.size() > kMaxRecordBytes) {
    return InvalidArgument("AUDIT_RECORD_TOO_LARGE", "audit record of type " + std::string(type) +
                                                         " is " + std::to_string(line.size()) +
                                                         " bytes, over the 1 MiB limit");
  }
  line.push_back('\n');
  if (Status w = WriteAll(fd_, line); !w.ok()) {
    // Cut a partial line so the log stays line-aligned; if even that fails the file is in an
    // unknown state and nothing more may be appended.
    if (::ftruncate(fd_, static_cast<off_t>(end_offset_)) != 0) failed_ = w;
    return w;
  }
  tree_.Append(LineHash(std::string_view(line).substr(0, line.size() - 1)));
  starts_.push_back(end_offset_);
  end_offset_ += line.size();
  last_time_ = t;
  return next_seq_++;
}

Status AuditLog::Sync() {
  std::lock_guard lock(mu_);
  return SyncLocked();
}

Status AuditLog::SyncLocked() {
  if (!failed_.ok()) return failed_;
  if (synced_seq_ == next_seq_) return Status::Ok();
  if (::fdatasync(fd_) != 0) {
    // After a failed fdatasync the kernel may have dropped the dirty pages: retrying could
    // report success for records that never reached the disk.
    failed_ = Errno("audit log fsync");
    return failed_;
  }
  synced_seq_ = next_seq_;
  return Status::Ok();
}

Result<std::string> AuditLog::Record(std::uint64_t seq) const {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  {
    std::lock_guard lock(mu_);
    if (seq >= next_seq_) {
      return NotFound("AUDIT_NO_RECORD", "the audit log has " + std::to_string(next_seq_) +
                                             " records; there is no record " + std::to_string(seq));
    }
    const auto i = static_cast<std::size_t>(seq);
    begin = starts_[i];
    end = (i + 1 < starts_.size() ? starts_[i + 1] : end_offset_) - 1;  // Without '\n'.
  }
  // Lines below end_offset_ are never rewritten, so the read needs no lock.
  std::string out(static_cast<std::size_t>(end - begin), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(begin + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("audit log read");
    }
    if (n == 0) {
      return IoError("AUDIT_IO",
                     path_.string() + ": record " + std::to_string(seq) + " is cut short on disk");
    }
    done += static_cast<std::size_t>(n);
  }
  return out;
}

Result<std::uint64_t> AuditLog::Checkpoint() {
  std::lock_guard lock(mu_);
  if (signer_ == nullptr) return Internal("AUDIT_NO_SIGNER", "this audit log cannot sign");
  TEARLINE_RETURN_IF_ERROR(SyncLocked());
  const std::uint64_t size = tree_.size();
  if (size == checkpoint_size_ && !latest_checkpoint_.empty()) return size;
  tearline::Checkpoint cp;
  cp.origin = origin_;
  cp.tree_size = size;
  cp.root_hash = tree_.Root();
  auto note = SignCheckpoint(cp, origin_, *signer_);
  if (!note.ok()) return note.status();
  TEARLINE_RETURN_IF_ERROR(
      WriteFileAtomic(dir_ / "checkpoints" / std::to_string(size), Bytes(*note), 0600));
  TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(dir_ / "checkpoint", Bytes(*note), 0600));
  // Last: a crash before this leaves the head older than the directory, which Open accepts.
  if (!head_file_.empty()) {
    TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(head_file_, Bytes(*note), 0600));
  }
  latest_checkpoint_ = *note;
  checkpoint_size_ = size;
  return size;
}

std::string AuditLog::LatestCheckpoint() const {
  std::lock_guard lock(mu_);
  return latest_checkpoint_;
}

std::uint64_t AuditLog::checkpoint_size() const {
  std::lock_guard lock(mu_);
  return checkpoint_size_;
}

Result<std::vector<Hash>> AuditLog::ConsistencyProof(std::uint64_t old_size,
                                                     std::uint64_t new_size) const {
  std::lock_guard lock(mu_);
  return tree_.ConsistencyProof(old_size, new_size);
}

Result<std::vector<Hash>> AuditLog::InclusionProof(std::uint64_t index,
                                                   std::uint64_t tree_size) const {
  std::lock_guard lock(mu_);
  return tree_.InclusionProof(index, tree_size);
}

}  // namespace tearline
