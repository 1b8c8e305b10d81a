// Durable file writes: write to a temporary file in the same directory, fsync it, rename it over
// the destination, then fsync the directory, so a crash leaves either the old or the new file,
// never a torn one. Thread-safety: safe for distinct paths.
#ifndef TEARLINE_FILE_UTIL_H_
#define TEARLINE_FILE_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <span>

#include "tearline/base/status.h"

namespace tearline {

enum class WriteMode {
  kReplace,    // Rename over any existing file.
  kCreateNew,  // Fail with FILE_EXISTS if the destination exists, also if it appears while
               // writing: the final step is link(), which refuses atomically.
};

// The temporary is created O_EXCL|O_NOFOLLOW and given exactly `mode` (fchmod, so the umask
// cannot widen or narrow it) before any byte is written. `data` is not copied, so callers may
// pass secrets held in protected memory.
// Errors: FILE_WRITE (Code::kIoError) naming the path and the system error; FILE_EXISTS
// (Code::kAlreadyExists) for WriteMode::kCreateNew.
Status WriteFileAtomic(const std::filesystem::path& path, std::span<const std::uint8_t> data,
                       mode_t mode = 0640, WriteMode write_mode = WriteMode::kReplace);

// Creates `dir` and any missing parents, each new one with mode 0700 (owner only); existing
// directories are left as they are. Errors: FILE_WRITE.
Status CreatePrivateDirs(const std::filesystem::path& dir);

// Creates `dir` if missing, then makes it and everything under it owner-only: directories 0700
// and group and other permission bits cleared on every other file (so 0600 for data files).
// Symbolic links are neither followed nor changed. For a daemon's data directory at start, so
// files an older version or an operator left readable are fixed. Errors: FILE_WRITE.
Status MakeTreePrivate(const std::filesystem::path& dir);

// Appends one line durably (O_APPEND, then fdatasync). Errors: FILE_WRITE.
Status AppendLineDurable(const std::filesystem::path& path, std::string_view line);

}  // namespace tearline

#endif  // TEARLINE_FILE_UTIL_H_
