// DataDirLock: a node daemon's exclusive hold on its data directory.
//
// Acquire creates the directory if needed, makes it owner-only (0700) and takes an exclusive
// flock on DATA_DIR/node.lock. A second daemon on the same directory is refused
// (NODE_ALREADY_RUNNING) instead of silently taking the control socket file over from the one
// that runs. Other failures: NODE_DATA_DIR naming the path and the system error.
//
// Ownership: owns the lock file descriptor; the lock is released when the object is destroyed
// (or the process exits). Move-only. Thread-safety: none needed (acquired once at start-up).
#ifndef TEARLINE_NODE_DATA_DIR_LOCK_H_
#define TEARLINE_NODE_DATA_DIR_LOCK_H_

#include <filesystem>

#include "tearline/base/status.h"

namespace tearline::node {

class DataDirLock {
 public:
  DataDirLock() = default;
  ~DataDirLock();
  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  [[nodiscard]] static Result<DataDirLock> Acquire(const std::filesystem::path& data_dir);

  bool held() const { return fd_ >= 0; }

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_DATA_DIR_LOCK_H_
