#include "tearline/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>

namespace tearline {
namespace {

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

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return IoError("AUDIT_IO", dir.string() + ": cannot create audit directory: " + ec.message());
  auto path = dir / "log.jsonl";

  // Count complete records and find a torn tail before appending.
  std::uint64_t records = 0;
  std::uint64_t good_bytes = 0;
  std::uint64_t total_bytes = 0;
  {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    char c;
    while (in.get(c)) {
      ++total_bytes;
      if (c == '\n') {
        ++records;
        good_bytes = total_bytes;
      }
    }
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return Errno(path.string());
  const std::uint64_t torn = total_bytes - good_bytes;
  if (torn > 0 && ::ftruncate(fd, static_cast<off_t>(good_bytes)) != 0) {
    Status s = Errno(path.string() + ": cannot cut torn tail");
    ::close(fd);
    return s;
  }
  return std::unique_ptr<AuditLog>(new AuditLog(path, fd, records, torn));
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
  std::string line = record.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) + "\n";
  TEARLINE_RETURN_IF_ERROR(WriteAll(fd_, line));
  if (::fdatasync(fd_) != 0) return Errno("audit log fsync");
  return next_seq_++;
}

}  // namespace tearline
