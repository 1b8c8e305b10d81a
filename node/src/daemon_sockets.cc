#include "tearline/node/daemon_sockets.h"

#include "tearline/node/broker_link.h"
#include "tearline/node/control_protocol.h"
#include "tearline/wire/wire.h"

namespace tearline::node {

Status OpenDaemonSockets(net::Context& ctx, const DaemonSocketRefs& out, const NodeConfig& config,
                         const NodeIdentity& identity, std::chrono::milliseconds heartbeat) {
  const auto& keys = identity.keys;
  net::CurveClientOptions o;
  o.endpoint = config.broker_endpoint;
  o.server_key = identity.broker_cert->fields().transport_key;
  o.public_key = keys.transport.public_key;
  o.secret_key = {keys.transport.secret_key.data(), keys.transport.secret_key.size()};
  o.max_message_bytes = static_cast<std::int64_t>(kMaxFrameBytes);
  o.heartbeat = heartbeat;
  o.heartbeat_misses = kMissedHeartbeatsForLoss;
  o.defer_connect = true;
  auto b = net::ConnectCurveDealer(ctx, o);
  if (!b.ok()) {
    return Status(Code::kInvalidArgument, "BROKER_CONNECT_FAILED",
                  "cannot set up the broker connection to " + config.broker_endpoint + ": " +
                      b.status().message());
  }
  out.broker = std::move(b).value();
  // Transport events (connection up or down, CURVE handshake refused) let the session react at
  // once and the operator see why; attached before connecting, so no handshake goes unseen.
  auto m = net::SocketMonitor::Attach(ctx, out.broker, "tearline-node-broker-monitor");
  if (!m.ok()) {
    return Status(Code::kInvalidArgument, "BROKER_CONNECT_FAILED",
                  "cannot monitor the broker connection: " + m.status().message());
  }
  out.monitor = std::move(m).value();
  Status connected = out.broker.Connect(config.broker_endpoint);
  if (!connected.ok()) {
    return Status(
        Code::kInvalidArgument, "BROKER_CONNECT_FAILED",
        "cannot connect to the broker at " + config.broker_endpoint + ": " + connected.message());
  }
  auto c = net::BindLocalRouter(ctx, config.data_dir / "control.sock",
                                static_cast<std::int64_t>(kMaxControlMessageBytes));
  if (!c.ok()) return IoError("CONTROL_BIND_FAILED", c.status().message());
  out.control = std::move(c).value();
  return Status::Ok();
}

}  // namespace tearline::node
