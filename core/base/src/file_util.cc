#include "tearline/base/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

namespace tearline {
namespace {

Status Fail(const std::filesystem::path& path, const char* what) {
  return IoError("FILE_WRITE", path.string() + ": " + what + ": " + std::strerror(errno));
}

Status WriteAllFd(int fd, const std::uint8_t* data, std::size_t size,
                  const std::filesystem::path& path) {
  std::size_t off = 0;
  while (off < size) {
    ssize_t n = ::write(fd, data + off, size - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(path, "write failed");
    }
    off += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomic(const std::filesystem::path& path, std::span<const std::uint8_t> data,
                       mode_t mode, WriteMode write_mode) {
  std::random_device rd;
  const std::filesystem::path tmp =
      path.parent_path() / ("." + path.filename().string() + ".tmp" + std::to_string(rd()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Fail(tmp, "cannot create");
  Status st = ::fchmod(fd, mode) == 0 ? Status::Ok() : Fail(tmp, "cannot set mode");
  if (st.ok()) st = WriteAllFd(fd, data.data(), data.size(), tmp);
  if (st.ok() && ::fsync(fd) != 0) st = Fail(tmp, "fsync failed");
  if (::close(fd) != 0 && st.ok()) st = Fail(tmp, "close failed");
  if (st.ok()) {
    if (write_mode == WriteMode::kCreateNew) {
      if (::link(tmp.c_str(), path.c_str()) != 0) {
        st = errno == EEXIST ? Status(Code::kAlreadyExists, "FILE_EXISTS",
                                      path.string() + " already exists and will not be overwritten")
                             : Fail(path, "cannot create");
      }
      ::unlink(tmp.c_str());
    } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
      st = Fail(path, "rename failed");
    }
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  const int dfd = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Status AppendLineDurable(const std::filesystem::path& path, std::string_view line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return Fail(path, "cannot open");
  std::string data(line);
  data.push_back('\n');
  Status st = WriteAllFd(fd, reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), path);
  if (st.ok() && ::fdatasync(fd) != 0) st = Fail(path, "fdatasync failed");
  ::close(fd);
  return st;
}

Status CreatePrivateDirs(const std::filesystem::path& dir) {
  std::filesystem::path path;
  for (const auto& part : dir) {
    path /= part;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return Fail(path, "cannot create directory");
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return Fail(dir, "not a directory");
  }
  return Status::Ok();
}

Status MakeTreePrivate(const std::filesystem::path& dir) {
  TEARLINE_RETURN_IF_ERROR(CreatePrivateDirs(dir));
  namespace fs = std::filesystem;
  const auto restrict = [](const fs::path& p, const fs::file_status& status) -> Status {
    const fs::perms want = status.type() == fs::file_type::directory
                               ? fs::perms::owner_all
                               : status.permissions() & fs::perms::owner_all;
    if (status.permissions() == want) return Status::Ok();
    std::error_code ec;
    fs::permissions(p, want, fs::perm_options::replace, ec);
    if (ec) {
      return IoError("FILE_WRITE", p.string() + ": cannot restrict permissions: " + ec.message());
    }
    return Status::Ok();
  };
  std::error_code ec;
  TEARLINE_RETURN_IF_ERROR(restrict(dir, fs::status(dir, ec)));
  fs::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::file_status status = it->symlink_status(ec);
    if (ec) break;
    if (status.type() == fs::file_type::symlink) continue;
    TEARLINE_RETURN_IF_ERROR(restrict(it->path(), status));
  }
  if (ec) return IoError("FILE_WRITE", dir.string() + ": cannot walk: " + ec.message());
  return Status::Ok();
}

}  // namespace tearline
