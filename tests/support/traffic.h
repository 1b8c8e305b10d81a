// Traffic helpers for integration tests that drive real node daemons through the tearline-node
// CLI and count what arrived: used by the fault and abuse suites to check "every accepted report
// arrives exactly once" without looking inside the broker or node.
//
// Thread-safety: SendReport and InboxCounts only spawn processes and may be called from several
// threads at once for the same Coalition (they do not start or stop daemons).
#ifndef TEARLINE_TESTS_TRAFFIC_H_
#define TEARLINE_TESTS_TRAFFIC_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "coalition.h"

namespace tearline::testing {

struct SendOutcome {
  int exit_code = -1;     // tearline-node send's exit code (0: every recipient DELIVERED/QUEUED).
  std::string report_id;  // From --json output; empty when the node printed no result.
  std::vector<std::string> states;  // "DELIVERED" / "QUEUED" / "DENIED", one per recipient.
  std::string out;
  std::string err;
  // The broker stored the report for every recipient: the sender may count on its delivery.
  bool stored() const { return exit_code == 0 && !report_id.empty(); }
  // Sealed but not yet confirmed (exit 3): the node keeps it in its outbox and resends it with
  // the same id, so it too must arrive exactly once in the end.
  bool pending() const { return exit_code == 3 && !report_id.empty(); }
};

// `tearline-node send --json --timeout SECONDS --to TO --portion MARKING FILE` as node `from`.
SendOutcome SendReport(Coalition& c, const std::string& from, const std::string& to,
                       const std::string& marking, const std::string& file,
                       double timeout_seconds = 5);

// Report id -> number of times it appears in `id`'s inbox (`tearline-node inbox --json`).
// `ok` (if given) is set to false when the CLI failed (daemon down, paused, ...).
std::map<std::string, int> InboxCounts(Coalition& c, const std::string& id, bool* ok = nullptr);

// Number of audit records (lines of log.jsonl) of `type` whose text also contains `needle`.
std::size_t CountAuditRecords(const std::string& audit_text, const std::string& type,
                              const std::string& needle = "");

// The seed for a randomized test: TEARLINE_TEST_SEED if set, else fresh. Printed by the caller
// (so a failure can be replayed with TEARLINE_TEST_SEED=<seed>).
std::uint64_t TestSeed();

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_TRAFFIC_H_
