#include "tearline/node/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

namespace tearline::node {

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

DataDirLock::DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Result<DataDirLock> DataDirLock::Acquire(const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return IoError("NODE_DATA_DIR",
                   "cannot create data_dir " + data_dir.string() + ": " + ec.message());
  }
  std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) {
    return IoError("NODE_DATA_DIR",
                   "cannot chmod 700 data_dir " + data_dir.string() + ": " + ec.message());
  }
  const auto lock_path = data_dir / "node.lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return IoError("NODE_DATA_DIR",
                   "cannot open " + lock_path.string() + ": " + std::strerror(errno));
  }
  DataDirLock lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return Status(Code::kAlreadyExists, "NODE_ALREADY_RUNNING",
                  "another tearline-node daemon is running with data_dir " + data_dir.string());
  }
  return lock;
}

}  // namespace tearline::node
