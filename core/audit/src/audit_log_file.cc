#include "tearline/audit/audit_log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "audit_verify_util.h"
#include "tearline/audit/audit_records.h"

namespace tearline {

Result<std::unique_ptr<AuditLogFile>> AuditLogFile::Open(const std::filesystem::path& dir) {
  if (Status st = audit_detail::CheckAuditDir(dir); !st.ok()) return st;
  const std::filesystem::path path = dir / "log.jsonl";
  auto size = audit_detail::CheckedFileSize(path, kMaxAuditLogBytes, "AUDIT_LOG");
  if (!size.ok()) return size.status();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("AUDIT_LOG_READ", path.string() + ": " + std::strerror(errno));
  return std::unique_ptr<AuditLogFile>(new AuditLogFile(fd, path.string(), *size));
}

AuditLogFile::AuditLogFile(int fd, std::string path, std::uint64_t size)
    : fd_(fd), path_(std::move(path)), unread_(size) {}

AuditLogFile::~AuditLogFile() { ::close(fd_); }

bool AuditLogFile::Fill() {
  if (end_ == capacity_) {
    // The pending line fills the buffer: double it (only a line longer than a block does this).
    const std::size_t capacity = std::max(kBlockBytes, 2 * capacity_);
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    if (end_ > 0) std::memcpy(grown.get(), buffer_.get(), end_);
    buffer_ = std::move(grown);
    capacity_ = capacity;
  }
  const std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(unread_, capacity_ - end_));
  const std::size_t want_now = std::min(want, kBlockBytes);
  ssize_t got = 0;
  do {
    got = ::read(fd_, buffer_.get() + end_, want_now);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    error_ = IoError("AUDIT_LOG_READ", path_ + ": " + std::strerror(errno));
    return false;
  }
  if (got == 0) {  // The file shrank after Open measured it.
    error_ = IoError("AUDIT_LOG_READ", path_ + ": short read");
    return false;
  }
  end_ += static_cast<std::size_t>(got);
  unread_ -= static_cast<std::uint64_t>(got);
  return true;
}

bool AuditLogFile::NextBlock(std::string_view& block) {
  if (done_ || !error_.ok()) return false;
  // The bytes before begin_ were given in the last block: keep only the pending partial line,
  // moved to the front so that the buffer does not grow while lines are short.
  if (begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (unread_ > 0) {
    const std::size_t searched = end_;  // The pending bytes hold no '\n'.
    if (!Fill()) return false;
    const void* nl = ::memrchr(buffer_.get() + searched, '\n', end_ - searched);
    if (nl != nullptr) {
      const std::size_t lines_end =
          static_cast<std::size_t>(static_cast<const char*>(nl) - buffer_.get()) + 1;
      block = std::string_view(buffer_.get(), lines_end);
      begin_ = lines_end;
      return true;
    }
  }
  // Every byte is read: what is left follows the last '\n' (empty unless the tail is torn).
  done_ = true;
  block = std::string_view(buffer_.get(), end_);
  begin_ = end_;
  return true;
}

bool AuditLogFile::Drain() {
  if (!error_.ok()) return false;
  while (unread_ > 0) {
    begin_ = end_ = 0;  // Nothing kept: only the count matters.
    if (!Fill()) return false;
  }
  done_ = true;
  return true;
}

}  // namespace tearline
