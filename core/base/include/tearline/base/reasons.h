// The registry of reason codes: every stable machine-readable reason Tearline can emit, in a
// Status, on the wire, in an audit record, in a `DENY <CODE>` line or in a log event.
//
// A reason never changes meaning once published; this table is where that meaning is written
// down. Each entry gives the Code a Status carrying the reason normally has (reasons carried
// outside a Status, such as audit verification failures, release denials and whole-recipient
// routing denials, get the Code that a Status with that meaning would have) and one sentence.
// docs/PROTOCOL.md and docs/AUDIT.md list the same reasons in their reason tables; the
// `reasons_test` unit test keeps the sources, this table and those documents in agreement, so a
// new reason must be added here and documented before it can be emitted.
//
// Reasons built from a prefix (`<PREFIX>_NOT_FOUND`, `<PREFIX>_READ`, `<PREFIX>_TOO_LARGE` of
// ReadFileCapped and ReadSmallFile) are registered in full, one entry per reason that can occur.
//
// Thread-safety: the table is immutable static data; all functions are safe to call concurrently.
#ifndef TEARLINE_BASE_REASONS_H_
#define TEARLINE_BASE_REASONS_H_

#include <span>
#include <string_view>

#include "tearline/base/status.h"

namespace tearline {

struct ReasonInfo {
  std::string_view code;     // e.g. "LABEL_UNKNOWN_CODE".
  Code status_class;         // The Code that accompanies the reason.
  std::string_view meaning;  // One line, for operators and documentation.
};

// The entry for `code`, or nullptr when `code` is not a registered reason. The pointer refers to
// static storage and stays valid for the life of the program.
const ReasonInfo* FindReason(std::string_view code);

// Every registered reason, each code once, in no particular order (grouped by area).
std::span<const ReasonInfo> AllReasons();

}  // namespace tearline

#endif  // TEARLINE_BASE_REASONS_H_
