// RouterSocket: the broker's transport over the network layer (tearline::net): the ZAP handler
// (started before the CURVE socket, or libzmq would accept any client key), the CURVE-server
// ROUTER and its monitor, which reports handshakes and disconnections for the live-session
// count. It turns received messages into Inbound values (routing id, the ZAP-authenticated node
// id, payload) and dispatches them from an EventLoop.
//
// Ownership: owns the network context, the ZAP handler, the socket and its monitor; the ZAP
// handler's worker thread calls `authenticate`, which must stay valid until this object is
// destroyed. Thread-safety: all methods belong to one thread (the broker's Run() thread), except
// that `authenticate` runs on the ZAP thread.
#ifndef TEARLINE_BROKER_ROUTER_SOCKET_H_
#define TEARLINE_BROKER_ROUTER_SOCKET_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/net/event_loop.h"

namespace tearline::broker {

struct RouterOptions {
  std::string endpoint;  // A trailing ":0" binds an ephemeral port.
  std::uint32_t heartbeat_ms = 1000;
  std::int64_t max_message_bytes = -1;  // libzmq's hard cap; larger messages drop the peer.
  int send_hwm = 1000;                  // Frames queued per peer before a send is refused.
};

// One message from an authenticated peer.
struct Inbound {
  std::string routing_id;
  std::string node_id;                    // The ZAP User-Id (the node whose key authenticated).
  std::span<const std::uint8_t> payload;  // Valid only during the callback.
  // The connection's file descriptor (Part::source_fd), -1 when unknown: with the fd of the
  // kAccepted/kDisconnected events it tells which connection a message came over.
  int fd = -1;
};

// A monitor event the broker counts sessions by. kHandshakeSucceeded carries fd 0 with libzmq
// 4.3 (see SessionSlots); kAccepted and kDisconnected carry the connection's descriptor.
enum class ConnectionEvent { kHandshakeSucceeded, kDisconnected, kAccepted };

class RouterSocket {
 public:
  using Authenticate = std::function<Result<std::string>(
      const std::array<std::uint8_t, 32>& client_key, const std::string& peer_address)>;
  using OnEvent = std::function<void(ConnectionEvent, std::uint32_t fd)>;
  using OnMessage = std::function<void(const Inbound&)>;

  // Errors: NET_ZAP_BIND, BROKER_BIND (the endpoint cannot be bound), NET_MONITOR.
  static Result<std::unique_ptr<RouterSocket>> Open(const RouterOptions& options,
                                                    const SecretBytes& curve_secret_key,
                                                    Authenticate authenticate);
  ~RouterSocket();
  RouterSocket(const RouterSocket&) = delete;
  RouterSocket& operator=(const RouterSocket&) = delete;

  // The endpoint actually bound (with the real port).
  const std::string& endpoint() const;

  // Registers the monitor (first, so session accounting precedes the next message) and the
  // socket with `loop`. On each wake-up at most `batch` messages are read (fewer once `stop` is
  // set), then `after_batch` runs. A message of other than two parts is passed on with an empty
  // payload (the broker refuses it like any malformed frame, within the node's budget); one
  // without a ZAP User-Id is dropped with a warning.
  void Serve(net::EventLoop& loop, const std::atomic<bool>& stop, int batch, OnEvent on_event,
             OnMessage on_message, std::function<void()> after_batch);
  // Stops serving: removes the sockets from `loop`.
  void Unserve(net::EventLoop& loop);

  enum class SendResult { kSent, kBlocked, kGone };
  // kBlocked: the peer's pipe is full (backpressure) or the send failed; kGone: the connection
  // no longer exists.
  SendResult Send(const std::string& routing_id, const std::vector<std::uint8_t>& frame);

 private:
  struct Impl;
  explicit RouterSocket(std::unique_ptr<Impl> impl);
  void DrainEvents(const OnEvent& on_event);
  void DrainMessages(int batch, const std::atomic<bool>& stop, const OnMessage& on_message);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_ROUTER_SOCKET_H_
