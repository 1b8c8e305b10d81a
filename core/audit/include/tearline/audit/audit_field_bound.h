// AuditFieldBound: the bound every audit record passes before it is written, so no text a node
// supplies (an Error frame's message, an explanation quoting input, an id) can make a record
// unwritable or unreadable. AuditLog::AppendBuffered applies it to every record, typed or not,
// so no caller can forget it.
//
// Two steps, both deterministic (the same fields always give the same line):
//  - every string, at any depth, is sanitised (C0 control characters but tab and newline, which
//    JSON escapes, C1 control characters, DEL and the Unicode
//    bidirectional and line/paragraph separators become U+FFFD, so a record shows a reader
//    exactly what was logged; invalid UTF-8 becomes U+FFFD too) and cut to `max_string_bytes`
//    at a character boundary, ending with the marker "...[truncated N bytes]";
//  - when the record is still larger than the line cap, ShrinkToFit cuts strings further and
//    shortens the longest arrays, and sets the top-level field "truncated": true.
// A record is therefore written truncated with a marker, never refused for its size.
//
// Thread-safety: pure functions over values. nlohmann/json stays a forward declaration.
#ifndef TEARLINE_AUDIT_AUDIT_FIELD_BOUND_H_
#define TEARLINE_AUDIT_AUDIT_FIELD_BOUND_H_

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace tearline {

// The longest string an audit record holds (bytes, marker included).
inline constexpr std::size_t kMaxAuditStringBytes = 1024;
// The key set on a record that ShrinkToFit had to shorten beyond the per-string bound.
inline constexpr std::string_view kAuditTruncatedKey = "truncated";

// `text` made safe to show: sanitised as described above and at most `max_bytes` long
// (`max_bytes` >= 64, so the marker always fits).
std::string BoundAuditText(std::string_view text, std::size_t max_bytes = kMaxAuditStringBytes);

// Applies BoundAuditText to every string in `fields` (object keys included), in place.
void BoundAuditFields(nlohmann::json& fields, std::size_t max_bytes = kMaxAuditStringBytes);

// Shortens `fields` (a record's fields, an object) until its compact JSON is at most `max_bytes`
// long: strings to 64 bytes, then the longest array halved until it fits (or every array is
// empty). Marks the object with kAuditTruncatedKey: true. Returns false only if even that does
// not fit (an object with more keys than `max_bytes` allows, which no record type has).
bool ShrinkAuditFieldsToFit(nlohmann::json& fields, std::size_t max_bytes);

}  // namespace tearline

#endif  // TEARLINE_AUDIT_AUDIT_FIELD_BOUND_H_
