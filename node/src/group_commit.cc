#include "tearline/node/group_commit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <utility>

namespace tearline::node {
namespace {

Status SyncFailure(const std::string& reason, const std::string& what,
                   const std::filesystem::path& path, int err) {
  return IoError(reason, what + " " + path.string() + ": " + std::strerror(err));
}

}  // namespace

Result<GroupCommit> GroupCommit::Open(const std::vector<std::filesystem::path>& dirs) {
  GroupCommit g;
  std::vector<dev_t> devices;
  for (const auto& dir : dirs) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return SyncFailure("NODE_SYNC_IO", "cannot open directory", dir, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0 ||
        std::find(devices.begin(), devices.end(), st.st_dev) != devices.end()) {
      ::close(fd);
      continue;
    }
    devices.push_back(st.st_dev);
    g.fds_.push_back(fd);
  }
  return g;
}

GroupCommit::GroupCommit(SyncFn sync) : sync_(std::move(sync)) {}

GroupCommit::~GroupCommit() { CloseFds(); }

GroupCommit::GroupCommit(GroupCommit&& other) noexcept { *this = std::move(other); }

GroupCommit& GroupCommit::operator=(GroupCommit&& other) noexcept {
  if (this != &other) {
    CloseFds();
    sync_ = std::move(other.sync_);
    fds_ = std::exchange(other.fds_, {});
    written_ = std::exchange(other.written_, false);
    files_ = std::exchange(other.files_, {});
    dirs_ = std::exchange(other.dirs_, {});
    dir_fds_ = std::exchange(other.dir_fds_, {});
    work_ = std::move(other.work_);
    syncs_ = other.syncs_;
    filesystem_syncs_ = other.filesystem_syncs_;
  }
  return *this;
}

void GroupCommit::CloseFiles() {
  for (int fd : files_) ::close(fd);
  files_.clear();
}

void GroupCommit::CloseFds() {
  CloseFiles();
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  for (const auto& [dir, fd] : dir_fds_) ::close(fd);
  dir_fds_.clear();
}

void GroupCommit::AddFile(int fd) {
  // Held until the sync that covers it either way: its close is the sign that it is durable.
  files_.push_back(fd);
  if (written_ || files_.size() > kMaxTargetedFiles) {
    // A large batch: one syncfs covers every file and directory of it.
    dirs_.clear();
    written_ = true;
  }
  if (files_.size() < kMaxHeldFiles) return;
  // Too many descriptors held: sync now (the next Flush syncs again for what follows). A failed
  // sync keeps them, so none is closed before it is durable; Flush reports the failure.
  if ((sync_ ? sync_() : SyncPending()).ok()) {
    ++syncs_;
    CloseFiles();
  }
}

void GroupCommit::AddDirectory(const std::filesystem::path& dir) {
  if (written_) return;  // The syncfs covers it.
  std::string name = dir.string();
  if (std::find(dirs_.begin(), dirs_.end(), name) == dirs_.end()) dirs_.push_back(std::move(name));
}

void GroupCommit::AfterDurable(std::function<void()> work) { work_.push_back(std::move(work)); }

Status GroupCommit::SyncPending() {
  if (written_) {  // Every file and directory of the batch is on these filesystems.
    for (int fd : fds_) {
      if (::syncfs(fd) != 0) {
        return IoError(
            "NODE_SYNC_IO",
            std::string("cannot sync the data directory's filesystem: ") + std::strerror(errno));
      }
    }
    ++filesystem_syncs_;
    return Status::Ok();
  }
  // Files first, then the directories naming them (the order WriteReplacing uses alone).
  for (int fd : files_) {
    if (::fsync(fd) != 0) {
      return IoError("NODE_SYNC_IO", std::string("cannot sync a file written in this batch: ") +
                                         std::strerror(errno));
    }
  }
  for (const std::string& dir : dirs_) {
    auto it = std::find_if(dir_fds_.begin(), dir_fds_.end(),
                           [&dir](const auto& entry) { return entry.first == dir; });
    if (it == dir_fds_.end()) {
      const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) return SyncFailure("NODE_SYNC_IO", "cannot open directory", dir, errno);
      dir_fds_.emplace_back(dir, fd);
      it = std::prev(dir_fds_.end());
    }
    if (::fsync(it->second) != 0) {
      return SyncFailure("NODE_SYNC_IO", "cannot fsync directory", dir, errno);
    }
  }
  return Status::Ok();
}

Status GroupCommit::Flush() {
  if (pending()) {
    TEARLINE_RETURN_IF_ERROR(sync_ ? sync_() : SyncPending());
    ++syncs_;
    written_ = false;
    CloseFiles();
    dirs_.clear();
  }
  // Work may write and register more (e.g. a Submit answered at once): that goes to the next
  // batch, so take the list first.
  std::vector<std::function<void()>> ready;
  ready.swap(work_);
  for (auto& w : ready) w();
  return Status::Ok();
}

Status WriteReplacing(const std::filesystem::path& target, std::span<const std::uint8_t> bytes,
                      mode_t mode, GroupCommit* commit, const std::string& reason) {
  std::string tmpl =
      (target.parent_path() / ("." + target.filename().string() + ".XXXXXX")).string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) return SyncFailure(reason, "cannot create temporary file for", target, errno);
  const std::string tmp(name.data());
  auto fail = [&](const std::string& what) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return SyncFailure(reason, what, target, e);
  };
  if (::fchmod(fd, mode) != 0) return fail("cannot chmod temporary for");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  // In a batch a read-only descriptor is kept for the batch's fsync; the written one is closed
  // before the rename as without a batch, so a watcher of the directory sees the same events
  // (the target only appears by the rename, never closed after writing).
  int sync_fd = -1;
  if (commit != nullptr) {
    sync_fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    if (sync_fd < 0) return fail("cannot reopen for the batch sync");
  } else if (::fsync(fd) != 0) {
    return fail("cannot fsync");
  }
  if (::close(fd) != 0) {
    const int e = errno;
    if (sync_fd >= 0) ::close(sync_fd);
    ::unlink(tmp.c_str());
    return SyncFailure(reason, "cannot close", target, e);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int e = errno;
    if (sync_fd >= 0) ::close(sync_fd);
    ::unlink(tmp.c_str());
    return SyncFailure(reason, "cannot rename into", target, e);
  }
  if (commit != nullptr) commit->AddFile(sync_fd);
  return SyncDirectoryOrBatch(target.parent_path(), commit, reason);
}

Status SyncDirectoryOrBatch(const std::filesystem::path& dir, GroupCommit* commit,
                            const std::string& reason) {
  if (commit != nullptr) {
    commit->AddDirectory(dir);
    return Status::Ok();
  }
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return SyncFailure(reason, "cannot open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (rc != 0) return SyncFailure(reason, "cannot fsync directory", dir, e);
  return Status::Ok();
}

}  // namespace tearline::node
