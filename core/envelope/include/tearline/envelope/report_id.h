// Time-ordered report ids: what a Tearline node chooses for the reports it seals.
//
// Layout (16 bytes): bytes 0-5 the Unix time in milliseconds, 48-bit big-endian (as in a UUIDv7);
// bytes 6-15 ten bytes from a RandomSource. Ids made later sort later (bytewise, and so their hex
// spelling too), so the broker's index keyed by report id takes inserts near its right edge: a
// commit group dirties a leaf page or two per sending node instead of one leaf per report, and
// the cost no longer grows with the number of reports stored (PERFORMANCE.md, *Bytes written per
// report*).
//
// Why this is safe: the id is public (in the clear in every header, next to created_unix), so its
// time prefix discloses only the millisecond of sealing. The id is never secret and no key, nonce
// or salt is derived from it: it is only bound into the signature and each portion's associated
// data. Uniqueness rests on the 80 random bits per millisecond (a collision is a rejected
// submission, REPORT_ID_CONFLICT, never a silent replacement). Receivers MUST NOT rely on the
// layout: the broker accepts any 16 bytes (PROTOCOL.md, *Report ids*), and nothing in
// Tearline's correctness depends on ids arriving in order.
//
// Thread-safety: stateless; the RandomSource's own rules apply (OsRandom from any thread).
#ifndef TEARLINE_ENVELOPE_REPORT_ID_H_
#define TEARLINE_ENVELOPE_REPORT_ID_H_

#include <cstdint>

#include "tearline/crypto/random_source.h"
#include "tearline/envelope/envelope.h"

namespace tearline {

// The time prefix's width in bytes.
inline constexpr std::size_t kReportIdTimeBytes = 6;

// A time-ordered id for `unix_millis` (clamped into [0, 2^48), i.e. until the year 10889), its
// last ten bytes drawn from `random` in one Fill.
ReportId TimeOrderedReportId(std::int64_t unix_millis, RandomSource& random);

// The millisecond prefix of an id made by TimeOrderedReportId (any 16 bytes decode to a value).
std::int64_t ReportIdMillis(const ReportId& id);

}  // namespace tearline

#endif  // TEARLINE_ENVELOPE_REPORT_ID_H_
