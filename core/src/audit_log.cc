#include "tearline/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "tearline/file_util.h"

namespace tearline {
namespace {

constexpr std::size_t kMaxRecordBytes = 1 << 20;

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

Hash LineHash(std::string_view line) {
  return LeafHash({reinterpret_cast<const std::uint8_t*>(line.data()), line.size()});
}

std::span<const std::uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::filesystem::path& dir,
                                                 std::string origin, const SigningKeyPair* signer) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  std::error_code ec;
  std::filesystem::create_directories(dir / "checkpoints", ec);
  if (!ec) std::filesystem::create_directories(dir / "cosignatures", ec);
  if (ec) {
    return IoError("AUDIT_IO", dir.string() + ": cannot create audit directory: " + ec.message());
  }
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->dir_ = dir;
  log->path_ = dir / "log.jsonl";
  log->origin_ = std::move(origin);
  log->signer_ = signer;

  // Rebuild the tree from complete lines; a final line without '\n' is a torn write.
  std::uint64_t good_bytes = 0;
  std::uint64_t total_bytes = 0;
  {
    std::ifstream in(log->path_, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      total_bytes += line.size();
      if (in.eof()) break;  // No newline after this line: torn.
      total_bytes += 1;
      if (line.size() > kMaxRecordBytes) {
        return Status(Code::kInvalidArgument, "AUDIT_CORRUPT",
                      log->path_.string() + ": record " + std::to_string(log->tree_.size() + 1) +
                          " is larger than 1 MiB");
      }
      log->tree_.Append(LineHash(line));
      good_bytes = total_bytes;
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

  int fd = ::open(log->path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return Errno(log->path_.string());
  if (log->torn_tail_bytes_ > 0 && ::ftruncate(fd, static_cast<off_t>(good_bytes)) != 0) {
    Status s = Errno(log->path_.string() + ": cannot cut torn tail");
    ::close(fd);
    return s;
  }
  log->fd_ = fd;

  if (signer != nullptr) {
    auto key = MakeNoteVerifierKey(log->origin_, NoteKeyType::kEd25519, signer->public_key);
    if (!key.ok()) return key.status();
    log->verifier_key_ = FormatNoteVerifierKey(*key);
    const std::string line = log->verifier_key_ + "\n";
    TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(dir / "log.pub", Bytes(line), 0644));
  }
  return log;
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

Result<std::uint64_t> AuditLog::Append(std::string_view type, nlohmann::json fields) {
  if (!fields.is_object()) fields = nlohmann::json::object();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const double t =
      static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) /
      1000.0;
  std::lock_guard lock(mu_);
  nlohmann::json record = nlohmann::json::object();
  record["seq"] = next_seq_;
  record["time"] = t;
  record["type"] = type;
  for (auto& [k, v] : fields.items()) record[k] = v;
  // dump() escapes control characters, so one record is always exactly one line.
  std::string line = record.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  TEARLINE_RETURN_IF_ERROR(WriteAll(fd_, line + "\n"));
  if (::fdatasync(fd_) != 0) return Errno("audit log fsync");
  tree_.Append(LineHash(line));
  return next_seq_++;
}

Result<std::uint64_t> AuditLog::Checkpoint() {
  std::lock_guard lock(mu_);
  if (signer_ == nullptr) return Internal("AUDIT_NO_SIGNER", "this audit log cannot sign");
  const std::uint64_t size = tree_.size();
  if (size == checkpoint_size_ && !latest_checkpoint_.empty()) return size;
  tearline::Checkpoint cp;
  cp.origin = origin_;
  cp.tree_size = size;
  cp.root_hash = tree_.Root();
  auto note = SignCheckpoint(cp, origin_, *signer_);
  if (!note.ok()) return note.status();
  TEARLINE_RETURN_IF_ERROR(
      WriteFileAtomic(dir_ / "checkpoints" / std::to_string(size), Bytes(*note), 0644));
  TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(dir_ / "checkpoint", Bytes(*note), 0644));
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
