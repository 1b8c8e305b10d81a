// DaemonSockets: the node daemon's transport set-up, apart from its logic: the CURVE DEALER to
// the broker (authenticating the broker by the transport key in its certificate, ZeroMQ
// heartbeats every `heartbeat`, lost after kMissedHeartbeatsForLoss), its monitor (attached before
// connecting, so no handshake goes unseen), and the local control ROUTER (DATA_DIR/control.sock,
// owner-only).
//
// Errors: BROKER_CONNECT_FAILED naming the endpoint; CONTROL_BIND_FAILED.
// Ownership: the caller owns the context and sockets it passes in (they are assigned here).
// Thread-safety: the daemon's thread, before its loop starts.
#ifndef TEARLINE_NODE_DAEMON_SOCKETS_H_
#define TEARLINE_NODE_DAEMON_SOCKETS_H_

#include <chrono>

#include "tearline/base/status.h"
#include "tearline/net/socket.h"
#include "tearline/net/socket_monitor.h"
#include "tearline/node/node_config.h"
#include "tearline/node/node_identity.h"

namespace tearline::node {

struct DaemonSocketRefs {
  net::Socket& broker;
  net::SocketMonitor& monitor;
  net::Socket& control;
};

[[nodiscard]] Status OpenDaemonSockets(net::Context& ctx, const DaemonSocketRefs& out,
                                       const NodeConfig& config, const NodeIdentity& identity,
                                       std::chrono::milliseconds heartbeat);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_DAEMON_SOCKETS_H_
