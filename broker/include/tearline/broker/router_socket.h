// RouterSocket: the broker's transport, and the only broker unit that speaks ZeroMQ. Owns the
// context, the ZAP handler (bound before the CURVE socket, or libzmq would accept any client
// key), the CURVE-server ROUTER socket and its monitor, which reports handshakes and
// disconnections for the live-session count.
//
// Ownership: owns every socket and the context; the ZAP handler's worker thread calls
// `authenticate`, which must outlive this object. Thread-safety: all methods belong to one thread
// (the broker's Run() thread), except that `authenticate` runs on the ZAP thread.
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

namespace tearline::broker {

struct RouterOptions {
  std::string endpoint;  // A trailing ":0" binds an ephemeral port.
  std::uint32_t heartbeat_ms = 1000;
  std::size_t max_message_bytes = 0;  // libzmq's hard cap; larger messages drop the peer.
};

// One message from an authenticated peer.
struct Inbound {
  std::string routing_id;
  std::string node_id;                    // The ZAP User-Id (the node whose key authenticated).
  std::span<const std::uint8_t> payload;  // Valid only during the callback.
};

// A monitor event the broker cares about.
enum class ConnectionEvent { kHandshakeSucceeded, kDisconnected };

class RouterSocket {
 public:
  using Authenticate = std::function<Result<std::string>(
      const std::array<std::uint8_t, 32>& client_key, const std::string& peer_address)>;

  // Errors: ZAP_BIND, BROKER_BIND, BROKER_MONITOR.
  static Result<std::unique_ptr<RouterSocket>> Open(const RouterOptions& options,
                                                    const SecretBytes& curve_secret_key,
                                                    Authenticate authenticate);
  ~RouterSocket();
  RouterSocket(const RouterSocket&) = delete;
  RouterSocket& operator=(const RouterSocket&) = delete;

  // The endpoint actually bound (with the real port).
  const std::string& endpoint() const { return endpoint_; }

  struct Ready {
    bool messages = false;
    bool events = false;
    bool terminated = false;  // The context is gone: stop serving.
  };
  Ready Poll(std::chrono::milliseconds timeout);
  // Reads up to 256 pending monitor events.
  void DrainEvents(const std::function<void(ConnectionEvent, std::uint32_t fd)>& on_event);
  // Reads up to `max` pending messages (fewer once `stop` is set); malformed envelopes are
  // dropped with a warning. Returns false when the context is gone.
  bool DrainMessages(int max, const std::atomic<bool>& stop,
                     const std::function<void(const Inbound&)>& on_message);

  enum class SendResult { kSent, kBlocked, kGone };
  // kBlocked: the peer's pipe is full (backpressure); kGone: the connection no longer exists.
  SendResult Send(const std::string& routing_id, const std::vector<std::uint8_t>& frame);

 private:
  struct Impl;
  explicit RouterSocket(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string endpoint_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_ROUTER_SOCKET_H_
