// The network layer's sockets: the only place in Tearline that talks to ZeroMQ (cppzmq stays in
// core/net/src). Daemons and tools see a Context, Sockets that send and receive whole messages
// without throwing, and factory functions that set a socket up the one way Tearline uses it:
//   - BindCurveRouter:   the broker's CURVE server (ZAP-authenticated ROUTER);
//   - ConnectCurveDealer: a node's or tool's CURVE client to the broker;
//   - BindLocalRouter / ConnectLocalDealer: a node's local control socket (ipc, mode 0600).
// Nothing here knows Tearline's frames; the wire codec (core/wire) does.
//
// Ownership: a Context owns the ZeroMQ context and must outlive every Socket made from it. A
// Socket owns its ZeroMQ socket; it is move-only and closed by its destructor (linger 0: unsent
// frames are dropped, Tearline's durability never depends on them).
// Thread-safety: a Socket must be used by one thread at a time (ZeroMQ sockets are not
// thread-safe); Tearline gives each socket one owning thread. A Context may be shared.
#ifndef TEARLINE_NET_SOCKET_H_
#define TEARLINE_NET_SOCKET_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"

namespace tearline::net {

// The ZAP domain the broker's CURVE server announces and its ZAP handler serves.
inline constexpr const char* kZapDomain = "tearline";

class Socket;

class Context {
 public:
  Context();
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Opaque handle for the network layer's own units (ZAP handler, monitor).
  void* native();

 private:
  friend struct SocketAccess;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One received message part. Owns its bytes (no copy is made on receipt).
class Part {
 public:
  Part();
  ~Part();
  Part(Part&&) noexcept;
  Part& operator=(Part&&) noexcept;

  std::span<const std::uint8_t> bytes() const;
  std::string str() const {
    return {reinterpret_cast<const char*>(bytes().data()), bytes().size()};
  }
  // The User-Id the ZAP handler attached to the connection this part came from (the
  // authenticated node id on the broker's CURVE server); nullopt when there is none.
  std::optional<std::string> user_id() const;
  // The file descriptor of the TCP connection this part came from (libzmq's ZMQ_SRCFD), or -1
  // (inproc, or not known). The same number is what the socket monitor's ACCEPTED and
  // DISCONNECTED events carry, so it identifies a live connection; the kernel reuses it later.
  int source_fd() const;

 private:
  friend class Socket;
  friend struct SocketAccess;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class SendResult {
  kSent,
  kWouldBlock,  // The peer's pipe is full, or (immediate) no connection is up: try later.
  kUnroutable,  // ROUTER: no peer with that routing id is connected.
  kFailed,      // Any other error; logged once by the layer.
};

class Socket {
 public:
  Socket();  // An empty socket: valid() is false.
  ~Socket();
  Socket(Socket&&) noexcept;
  Socket& operator=(Socket&&) noexcept;

  bool valid() const;

  // Sends one single-part message without waiting.
  SendResult Send(std::span<const std::uint8_t> bytes);
  SendResult Send(std::string_view text);
  // Sends one single-part message, waiting up to the socket's send timeout (see
  // ConnectLocalDealer) for a connection to take it: a fresh connection is set up asynchronously.
  SendResult SendWaiting(std::string_view text);
  // ROUTER: sends [routing_id, bytes] without waiting.
  SendResult SendTo(std::string_view routing_id, std::span<const std::uint8_t> bytes);
  SendResult SendTo(std::string_view routing_id, std::string_view text);

  // Receives one whole multipart message if one is ready; nullopt when none is (or the socket
  // is closing). Never blocks.
  std::optional<std::vector<Part>> TryReceive();

  // Waits at most `timeout` for a message to be readable. False on timeout or interruption.
  bool WaitReadable(std::chrono::milliseconds timeout);

  // The endpoint the socket is bound to (with the port the system chose for ":0"/":*").
  const std::string& endpoint() const;

  // Starts connecting to `endpoint` (asynchronously; reconnects on its own). Errors:
  // NET_CONNECT.
  Status Connect(const std::string& endpoint);

  // Closes now (idempotent).
  void Close();

  // Opaque handle for the network layer's own units (poll loop, monitor).
  void* native() const;

 private:
  friend struct SocketAccess;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct CurveServerOptions {
  std::string endpoint;                      // e.g. "tcp://127.0.0.1:0" (port 0: ephemeral).
  std::span<const std::uint8_t> secret_key;  // The server's 32-byte transport secret key.
  int send_hwm = 1000;
  int receive_hwm = 1000;
  std::int64_t max_message_bytes = -1;     // libzmq drops a peer sending more; -1: no cap.
  std::chrono::milliseconds heartbeat{0};  // ZMTP heartbeat interval; 0: none.
  int heartbeat_misses = 3;                // Timeout and TTL are this many intervals.
};

// A CURVE ROUTER served through the ZAP handler of `ctx` (start net::ZapHandler FIRST: libzmq
// accepts any client key when no handler is bound). Unroutable sends fail instead of vanishing
// (ROUTER_MANDATORY). Errors: NET_BIND (Code::kUnavailable) naming the endpoint.
Result<Socket> BindCurveRouter(Context& ctx, const CurveServerOptions& options);

struct CurveClientOptions {
  std::string endpoint;
  std::span<const std::uint8_t> server_key;  // The broker's transport public key.
  std::span<const std::uint8_t> public_key;  // Own transport key pair.
  std::span<const std::uint8_t> secret_key;
  std::int64_t max_message_bytes = -1;
  std::chrono::milliseconds heartbeat{0};
  int heartbeat_misses = 3;
  // Queue only on completed connections, so a send with no broker fails at once (kWouldBlock)
  // instead of piling up in a pipe that may never connect.
  bool immediate = true;
  std::chrono::milliseconds reconnect{100};
  std::chrono::milliseconds reconnect_max{5000};
  // How long SendWaiting may wait for a connection to take a message (-1: forever). Bounded by
  // default: a handshake the server refuses may leave no connection to wait for.
  std::chrono::milliseconds send_timeout{5000};
  // Messages held for the application before ZeroMQ stops reading the connection, and the
  // kernel receive buffer (-1: the OS default). Small values let a test play a slow reader.
  int receive_hwm = 1000;
  int receive_buffer_bytes = -1;
  // Set up the socket but do not connect yet: attach a SocketMonitor first, then Connect(), so
  // no transport event (a fast handshake, a refusal) can happen before anyone listens.
  bool defer_connect = false;
};

// A CURVE DEALER connecting (asynchronously) to a CURVE server.
// Errors: NET_CONNECT (Code::kInvalidArgument) naming the endpoint.
Result<Socket> ConnectCurveDealer(Context& ctx, const CurveClientOptions& options);

// A ROUTER on an ipc socket file that only the owner may use: bound under umask 077, then
// chmod 0600 (the directory holding it should be 0700 as well). Errors: NET_LOCAL_BIND.
Result<Socket> BindLocalRouter(Context& ctx, const std::filesystem::path& socket_file,
                               std::int64_t max_message_bytes);

// A DEALER to a local ipc socket; `immediate`, with sends waiting at most `send_timeout`.
// Errors: NET_LOCAL_CONNECT.
Result<Socket> ConnectLocalDealer(Context& ctx, const std::filesystem::path& socket_file,
                                  std::int64_t max_message_bytes,
                                  std::chrono::milliseconds send_timeout);

}  // namespace tearline::net

#endif  // TEARLINE_NET_SOCKET_H_
