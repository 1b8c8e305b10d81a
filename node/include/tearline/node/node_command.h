// tearline-node: the national node daemon and the analyst's client for it.
//
//   tearline-node run    --config FILE [--log-level trace|debug|info|warn|error]
//   tearline-node send   --config FILE --to NAT[,NAT...] --portion MARKING FILE
//                        [--portion MARKING FILE ...] [--timeout SECONDS] [--json]
//   tearline-node inbox  --config FILE [--json]
//   tearline-node read   --config FILE ID [--json]
//   tearline-node status --config FILE [--json]
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
//
// Exit codes:
//   0  run: stopped cleanly; send: every recipient got at least one portion (DELIVERED or
//      QUEUED); inbox/read: answered; status: daemon running and connected to the broker.
//   1  send: some recipient got nothing (DENIED), or the report was not sent / not confirmed
//      (BROKER_UNAVAILABLE, BROKER_NO_REPLY, broker rejection); read: no such report;
//      status: daemon running but not connected; run: the loop failed after start-up.
//   2  invalid input or usage (bad marking, unknown nation, unreadable file, bad configuration,
//      daemon refusing to start), or NODE_NOT_RUNNING (no daemon answers on the control
//      socket; the message names the socket).
// Errors are one line on stderr: "tearline-node: error: REASON: message".
//
// Thread-safety: `run` installs SIGINT/SIGTERM handlers for its duration; call it from the main
// thread only. Other subcommands are reentrant.
#ifndef TEARLINE_NODE_NODE_COMMAND_H_
#define TEARLINE_NODE_NODE_COMMAND_H_

#include <ostream>

namespace tearline::node {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNegative = 1;
inline constexpr int kExitInvalid = 2;

int RunNodeCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_NODE_COMMAND_H_
