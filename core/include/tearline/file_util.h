// Durable file writes: write to a temporary file in the same directory, fsync it, rename it over
// the destination, then fsync the directory, so a crash leaves either the old or the new file,
// never a torn one. Thread-safety: safe for distinct paths.
#ifndef TEARLINE_FILE_UTIL_H_
#define TEARLINE_FILE_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <span>

#include "tearline/status.h"

namespace tearline {

// Errors: FILE_WRITE (Code::kIoError) naming the path and the system error.
Status WriteFileAtomic(const std::filesystem::path& path, std::span<const std::uint8_t> data,
                       mode_t mode = 0640);

// Appends one line durably (O_APPEND, then fdatasync). Errors: FILE_WRITE.
Status AppendLineDurable(const std::filesystem::path& path, std::string_view line);

}  // namespace tearline

#endif  // TEARLINE_FILE_UTIL_H_
