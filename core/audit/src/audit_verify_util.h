// Helpers shared by the units of audit verification (audit_verify.cc, audit_record_checker.cc,
// audit_signed_files.cc): how a failure is located, and the strict forms of numbers and digests
// the checks accept. Internal to the audit library.
#ifndef TEARLINE_AUDIT_SRC_AUDIT_VERIFY_UTIL_H_
#define TEARLINE_AUDIT_SRC_AUDIT_VERIFY_UTIL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "tearline/audit/audit_verify.h"
#include "tearline/base/status.h"

namespace tearline::audit_detail {

// Size caps for the small files of an audit directory (keys, notes, certificates) and for the
// logged policy.
inline constexpr std::size_t kMaxSmallFile = 4096;
inline constexpr std::size_t kMaxPolicyFile = 1 << 20;

inline AuditFailure LineFailure(std::uint64_t line, std::string reason, std::string message) {
  return AuditFailure{line, line, "", std::move(reason), std::move(message)};
}
inline AuditFailure RangeFailure(std::uint64_t first, std::uint64_t last, std::string file,
                                 std::string reason, std::string message) {
  return AuditFailure{first, last, std::move(file), std::move(reason), std::move(message)};
}
inline AuditFailure FileFailure(std::string file, const Status& st) {
  return AuditFailure{0, 0, std::move(file), st.reason(), st.message()};
}
inline AuditFailure FileFailure(std::string file, std::string reason, std::string message) {
  return AuditFailure{0, 0, std::move(file), std::move(reason), std::move(message)};
}

// ReadSmallFile's checks before it reads (exists, regular, at most `max_size`), with its reasons
// and messages; the file's size. Defined in audit_records.cc.
Result<std::uint64_t> CheckedFileSize(const std::filesystem::path& path, std::size_t max_size,
                                      std::string_view reason_prefix);
// AUDIT_DIR_NOT_FOUND unless `dir` is a directory (ReadAuditLogText's first check).
Status CheckAuditDir(const std::filesystem::path& dir);

inline bool IsCanonicalDecimal(std::string_view s, std::uint64_t& value) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return false;
  value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

inline bool IsLowerHex(const std::string& s, std::size_t size) {
  if (s.size() != size) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

inline std::string ShortHex(const std::string& s) {
  return s.size() > 12 ? s.substr(0, 12) + "…" : s;
}

}  // namespace tearline::audit_detail

#endif  // TEARLINE_AUDIT_SRC_AUDIT_VERIFY_UTIL_H_
