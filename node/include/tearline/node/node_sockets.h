// NodeSockets: the node daemon's three sockets, set up and torn down in one place:
//   broker   CURVE DEALER to the broker (the node's transport keys, the broker's certified
//            transport key, frames capped at kMaxFrameBytes, ZeroMQ heartbeats every
//            `heartbeat`, loss after kMissedHeartbeatsForLoss misses), connected after its
//            monitor is attached so no handshake event goes unseen;
//   monitor  the broker socket's transport events (up, down, CURVE refusal);
//   control  ROUTER on DATA_DIR/control.sock (owner only), requests capped at
//            kMaxControlMessageBytes.
// Errors of Open: BROKER_CONNECT_FAILED (naming the endpoint), CONTROL_BIND_FAILED.
//
// Ownership: owns the ZeroMQ context and the sockets; Close() (also run by the destructor of
// the sockets) removes the control socket file. Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_NODE_SOCKETS_H_
#define TEARLINE_NODE_NODE_SOCKETS_H_

#include <chrono>
#include <filesystem>
#include <span>

#include "tearline/base/status.h"
#include "tearline/net/socket.h"
#include "tearline/net/socket_monitor.h"
#include "tearline/node/node_config.h"
#include "tearline/node/node_identity.h"

namespace tearline::node {

struct NodeSockets {
  [[nodiscard]] Status Open(const NodeConfig& config, const NodeIdentity& identity,
                            std::chrono::milliseconds heartbeat);
  void Close(const std::filesystem::path& data_dir);
  // False when there is no connection or the frame could not be queued.
  bool SendToBroker(std::span<const std::uint8_t> frame);

  net::Context ctx;
  net::Socket broker;
  net::Socket control;
  net::SocketMonitor monitor;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_NODE_SOCKETS_H_
