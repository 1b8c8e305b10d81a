// tearline-node: the national node daemon and the analyst's client for it.
//
//   tearline-node run    --config FILE [--log-level trace|debug|info|warn|error]
//   tearline-node send   --config FILE --to NAT[,NAT...] --portion MARKING FILE
//                        [--portion MARKING FILE ...] [--timeout SECONDS] [--json]
//   tearline-node inbox  --config FILE [--json]
//   tearline-node read   --config FILE ID [--json]
//   tearline-node status --config FILE [--json]
//   tearline-node track  --config FILE REPORT_ID [--json]
//   tearline-node prove  --config FILE REPORT_ID [--seq N] [--json]
//   tearline-node check-config --config FILE   (validates FILE and the files it names; starts
//                        nothing; see node_config_check.h)
//
// Portion numbers shown to analysts count from 1 (portion 1 is the first --portion), in text
// and in --json output alike; the wire and the control protocol count from 0.
// Recipients are nations (trigraphs) or policy group codes (e.g. FVEY, expanded to members);
// the broker maps a nation to its node(s).
//
// `send` prints one line per recipient node:
//   GBR gbr-1 DELIVERED portions 1
//   JPN jpn-1 DELIVERED portions 2 (withheld: portion 1 NOT_RELEASABLE: ...; portion 3 NOFORN: ...)
//   KOR kor-1 DENIED: portion 1 NOT_RELEASABLE: ...; portion 2 NOFORN: ...
//   AUS aus-1 QUEUED portions 1
//   IND - DENIED: NO_NODE: ...                  (a nation without a node)
// With --json: {"report_id","banner","outcomes":[{"nation","node_id","state","portions",
// "withheld":[{"portion","label","reason","explanation"}],"reason","explanation"}]}.
// Every portion must carry a valid marking; otherwise nothing leaves the node (exit 2) and the
// error names the portion and the fix.
// The daemon keeps every sealed report in DATA_DIR/outbox until the broker's answer is final and
// resubmits it with the same bytes (same report id; the broker stores an id once and never
// routes it twice). When no final answer arrives within --timeout (broker down or slow), or the
// broker refuses it for now (RATE_LIMITED, STORAGE_FULL, ...: the reason is on stderr), `send`
// prints "PENDING report ID is kept in the outbox and will be resent automatically with the same
// id ..." (with --json: {"report_id","banner","pending":true,"detail","outcomes":[]}) and exits
// 3. A reply to a resubmission the broker had already stored is printed like any reply, followed
// by "(already stored by the broker; not routed again)" (--json: "duplicate":true).
//
// `track` asks the broker about a report this node sent; one line per recipient node:
//   gbr-1 GBR acknowledged - 2026-11-30T00:40:00Z record 17
//   kor-1 KOR denied NOT_RELEASABLE 2026-11-30T00:39:58Z record 12
// (node, nation, state: queued|delivered|acknowledged|expired|denied, reason or -, time of the
// last change, audit record of that change).
// `prove` checks, for every audit record the broker's final answer named (DATA_DIR/sent/ID.json)
// or for --seq N, the broker's inclusion proof itself: checkpoint signature by the broker's log
// key, leaf hash of the exact record, RFC 9162 inclusion in the checkpoint's tree, record seq and
// report id; and compares the checkpoint with the one this node witnessed:
//   record 17 (delivered to gbr-1) is in the broker's log: inclusion verified against
//   checkpoint 24 signed by broker (...witness note...)
//   record 18 (acknowledged by gbr-1) NOT PROVEN: PROOF_NOT_INCLUDED: ...
// For a received report the node knows no record number (the broker does not tell recipients):
// `prove` says so and exits 1 unless --seq is given.
//
// Exit codes (tearline/cli/exit_codes.h):
//   0  run: stopped cleanly; send: every recipient got at least one portion (DELIVERED or
//      QUEUED); inbox/read: answered; status: daemon running and connected to the broker.
//   1  send: some recipient got nothing (DENIED), or the report was not sent (BROKER_UNAVAILABLE
//      before sealing, broker rejection); read: no such report; status: daemon running but not
//      connected; track: the broker does not know the report or refuses (TRACK_UNKNOWN_REPORT,
//      TRACK_FORBIDDEN) or is unreachable; prove: a proof failed (the reason is printed) or no
//      record is known.
//   2  invalid input or usage (bad marking, unknown nation, unreadable file, bad configuration,
//      daemon refusing to start), or NODE_NOT_RUNNING (no daemon answers on the control
//      socket; the message names the socket).
//   3  send: sealed but not yet confirmed; the report is kept in the outbox and resent with the
//      same id (see above). Not a failure to retry by hand: sending again would make a second
//      report.
//   run and check-config, for supervisors (tearline/cli/daemon_exit.h): 78 the configuration
//   file is missing or invalid (check-config: or a file it names), 74 `run` ended on a fatal
//   I/O failure, 70 `run` ended on any other failure (instead of 1); any program: 70 on an
//   internal error.
// Errors are one line on stderr: "tearline-node: error: REASON: message".
//
// Thread-safety: `run` installs SIGINT/SIGTERM handlers for its duration; call it from the main
// thread only. Other subcommands are reentrant.
#ifndef TEARLINE_NODE_NODE_COMMAND_H_
#define TEARLINE_NODE_NODE_COMMAND_H_

#include <ostream>

#include "tearline/cli/exit_codes.h"

namespace tearline::node {

using cli::kExitInvalid;
using cli::kExitNegative;
using cli::kExitOk;
using cli::kExitPending;

int RunNodeCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_NODE_COMMAND_H_
