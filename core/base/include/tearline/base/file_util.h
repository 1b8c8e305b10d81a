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

// Appends one line durably (O_APPEND, then fdatasync). Errors: FILE_WRITE.
Status AppendLineDurable(const std::filesystem::path& path, std::string_view line);

}  // namespace tearline

#endif  // TEARLINE_FILE_UTIL_H_
