// AuditLogFile: an audit directory's log.jsonl read in blocks of whole lines through one reused
// buffer, for the verifier's single pass (AuditLogReader over a file, audit_records.h).
//
// Why not read the file whole (ReadAuditLogText): a fresh buffer the size of the log is
// zero-filled, then faulted in page by page by the kernel's copy, and by the time a line is
// parsed and hashed its bytes have left the caches. A buffer of kBlockBytes, reused, stays in
// the cache from the read to the hash.
//
// Contract: Open applies ReadAuditLogText's checks with the same reasons and messages (the
// directory and file exist, the file is regular and at most kMaxAuditLogBytes); the file's size
// is fixed at Open, and exactly that many bytes are read (bytes appended later are not part of
// this reading; a file that shrank is a short read, AUDIT_LOG_READ). The blocks, concatenated,
// are those bytes in order. Every block but the last ends with '\n'; the last holds what follows
// the final '\n' (a torn tail), and may be empty. A line longer than the buffer grows it, so a
// line is always whole in one block (hostile sizes are bounded by the file cap, as with
// ReadAuditLogText; the line cap is the reader's).
//
// Ownership: owns the descriptor and the buffer; a block is a view valid until the next call.
// Thread-safety: one thread.
#ifndef TEARLINE_AUDIT_AUDIT_LOG_FILE_H_
#define TEARLINE_AUDIT_AUDIT_LOG_FILE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "tearline/base/status.h"

namespace tearline {

class AuditLogFile {
 public:
  // Bytes read per call to the kernel, and the buffer's size until a longer line needs more.
  static constexpr std::size_t kBlockBytes = 128 << 10;

  // Opens DIR/log.jsonl. Reasons as ReadAuditLogText: AUDIT_DIR_NOT_FOUND, AUDIT_LOG_NOT_FOUND,
  // AUDIT_LOG_TOO_LARGE, AUDIT_LOG_READ.
  [[nodiscard]] static Result<std::unique_ptr<AuditLogFile>> Open(const std::filesystem::path& dir);

  ~AuditLogFile();
  AuditLogFile(const AuditLogFile&) = delete;
  AuditLogFile& operator=(const AuditLogFile&) = delete;

  // The next block (see above). False at the end (every byte was given) or on a read error,
  // which error() then holds (AUDIT_LOG_READ, as ReadAuditLogText words it).
  [[nodiscard]] bool NextBlock(std::string_view& block);
  const Status& error() const { return error_; }

  // Reads the bytes not yet given without keeping them, so that a caller that stops early
  // still learns of a short read (error()). False on a read error.
  [[nodiscard]] bool Drain();

 private:
  AuditLogFile(int fd, std::string path, std::uint64_t size);
  // Appends up to kBlockBytes of the file to the buffer (growing it when full). False on a read
  // error or a short read.
  bool Fill();

  int fd_;
  std::string path_;  // For messages.
  std::uint64_t unread_;
  std::unique_ptr<char[]> buffer_;  // Not zero-filled: only bytes read are ever looked at.
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;  // Start of the bytes not yet given in a block.
  std::size_t end_ = 0;    // End of the bytes read into the buffer.
  bool done_ = false;
  Status error_;
};

}  // namespace tearline

#endif  // TEARLINE_AUDIT_AUDIT_LOG_FILE_H_
