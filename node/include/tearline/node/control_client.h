// The analyst side of the control socket: one request, one response, bounded in time.
//
// Ownership: each call creates and closes its own ZeroMQ context and DEALER socket (linger 0),
// so nothing outlives the call. Thread-safety: calls are independent and may run concurrently.
#ifndef TEARLINE_NODE_CONTROL_CLIENT_H_
#define TEARLINE_NODE_CONTROL_CLIENT_H_

#include <chrono>
#include <string>

#include "tearline/base/status.h"
#include "tearline/node/node_config.h"

namespace tearline::node {

// Sends `request` to the daemon of `config` and returns its response text.
// Errors (Code::kUnavailable):
//   NODE_NOT_RUNNING  no control socket, or nothing accepts on it within about a second;
//   NODE_NO_RESPONSE  the daemon took the request but did not answer within `timeout`.
// CONTROL_TOO_LARGE when the request exceeds kMaxControlMessageBytes.
Result<std::string> CallControl(const NodeConfig& config, const std::string& request,
                                std::chrono::milliseconds timeout);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_CONTROL_CLIENT_H_
