// AuditStats: the figures `tearline-audit report` shows, computed once from the typed records
// of a log (tearline/audit/audit_record_types.h): who shared with whom, denials, restrictive
// markings, submission-to-delivery turnaround overall and per nation pair, release requests per
// nation pair with their request-to-decision turnaround, forwards per nation pair, and derived
// portions per originator nation (contributors kept, overrides and their reasons).
//
// A record that does not decode (malformed, or a type this version does not know) is counted by
// type only: the verifier already names a malformed one. Turnarounds are seconds between the
// records' `time` fields; percentiles are nearest-rank over the observed values.
//
// Thread-safety: pure functions over their arguments.
#ifndef TEARLINE_TOOLS_AUDIT_STATS_H_
#define TEARLINE_TOOLS_AUDIT_STATS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tearline {
struct AuditRecord;  // tearline/audit/audit_records.h
class Policy;        // tearline/labels/policy.h
}  // namespace tearline

namespace tearline::tools {

// Nearest-rank p50 and p90 and the maximum of a set of durations (seconds); all 0 when empty.
struct Turnaround {
  std::size_t count = 0;
  double p50 = 0, p90 = 0, max = 0;
};
Turnaround SummariseTurnaround(std::vector<double> seconds);

// Release requests from one originator nation for one nation asked for.
struct ReleasePairStats {
  std::uint64_t requested = 0, approved = 0, denied = 0, automatic = 0, sanitised = 0;
  std::vector<double> turnaround;  // Seconds from request to decision, in log order.
};

// Forwards by nodes of one nation to one target nation.
struct ForwardPairStats {
  std::uint64_t forwarded = 0, refused = 0;
  std::map<std::string, std::uint64_t> refused_by_reason;
};

// Derived portions (signed provenance on `accepted`) written by one originator nation.
// `contributors_kept`: contributions (portion x contributing nation) the portion's label still
// releases to; `contributors_excluded`: those it does not (possible only with an override); both
// need the policy, else every contribution of a portion without an override counts as kept (the
// broker refuses an exclusion without one) and those with one as excluded.
struct ProvenanceStats {
  std::uint64_t derived_portions = 0, contributors_kept = 0, contributors_excluded = 0;
  std::uint64_t overrides = 0;
  std::map<std::string, std::uint64_t> override_reasons;
};

struct AuditStats {
  // Pairs are named "FROM -> TO" (PairName); "?" stands for a nation the log does not give.
  std::map<std::string, ReleasePairStats> releases;      // Originator nation -> nation asked for.
  std::map<std::string, std::uint64_t> release_denials;  // The originators' reasons.
  std::map<std::string, std::map<std::string, std::uint64_t>> matrix;  // from -> to -> reports.
  std::set<std::string> from_nations, to_nations;
  std::map<std::string, std::uint64_t> denied_by_reason, denied_by_nation;
  std::uint64_t accepted = 0, noforn_banner = 0, unmarked_portion = 0, either = 0;
  bool rollup_available = true;
  // Seconds from the accepted (or forwarded) record to the first delivery to each recipient,
  // sorted; and the same per originator nation -> recipient nation, in log order.
  std::vector<double> latencies;
  std::map<std::string, std::vector<double>> delivery_by_pair;
  std::map<std::string, ForwardPairStats> forwards;  // Forwarder nation -> target nation.
  std::map<std::string, ProvenanceStats> provenance;  // Originator nation -> its derived portions.
  std::map<std::string, std::uint64_t> types;
};

std::string PairName(std::string_view from, std::string_view to);

// `policy` may be null (policy.toml unavailable): markings are then not rolled up.
AuditStats ComputeAuditStats(const std::vector<AuditRecord>& records, const Policy* policy);

}  // namespace tearline::tools

#endif  // TEARLINE_TOOLS_AUDIT_STATS_H_
