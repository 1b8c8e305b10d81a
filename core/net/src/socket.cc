#include "tearline/net/socket.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "zmq_internal.h"

namespace tearline::net {

Context::Context() : impl_(std::make_unique<Impl>()) {}
Context::~Context() {
  if (impl_) impl_->ctx.close();
}
void* Context::native() { return impl_->ctx.handle(); }

Part::Part() : impl_(std::make_unique<Impl>()) {}
Part::~Part() = default;
Part::Part(Part&&) noexcept = default;
Part& Part::operator=(Part&&) noexcept = default;

std::span<const std::uint8_t> Part::bytes() const {
  return {static_cast<const std::uint8_t*>(impl_->msg.data()), impl_->msg.size()};
}

std::optional<std::string> Part::user_id() const {
  try {
    // cppzmq's gets() throws when the property is absent (no ZAP handler answered).
    return std::string(impl_->msg.gets("User-Id"));
  } catch (const zmq::error_t&) {
    return std::nullopt;
  }
}

int Part::source_fd() const {
  // ZMQ_SRCFD is deprecated upstream but is the only per-message connection identity that the
  // monitor's events share in libzmq 4.3 (without the draft API).
  const int fd = zmq_msg_get(impl_->msg.handle(), ZMQ_SRCFD);
  return fd < 0 ? -1 : fd;
}

Socket::Socket() = default;
Socket::~Socket() { Close(); }
Socket::Socket(Socket&&) noexcept = default;
Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    Close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

bool Socket::valid() const { return impl_ != nullptr; }

void Socket::Close() {
  if (impl_) {
    impl_->socket.close();
    impl_.reset();
  }
}

void* Socket::native() const { return impl_ ? impl_->socket.handle() : nullptr; }

const std::string& Socket::endpoint() const {
  static const std::string kNone;
  return impl_ ? impl_->endpoint : kNone;
}

namespace {

SendResult FromError(const zmq::error_t& e, std::string_view what) {
  if (e.num() == EAGAIN) return SendResult::kWouldBlock;
  if (e.num() == EHOSTUNREACH) return SendResult::kUnroutable;
  spdlog::warn("event=net_send_failed socket={} error=\"{}\"", what, e.what());
  return SendResult::kFailed;
}

}  // namespace

SendResult Socket::Send(std::span<const std::uint8_t> bytes) {
  if (!impl_) return SendResult::kFailed;
  try {
    auto r = impl_->socket.send(zmq::const_buffer(bytes.data(), bytes.size()),
                                zmq::send_flags::dontwait);
    return r ? SendResult::kSent : SendResult::kWouldBlock;
  } catch (const zmq::error_t& e) {
    return FromError(e, impl_->endpoint);
  }
}

SendResult Socket::Send(std::string_view text) {
  return Send({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

SendResult Socket::SendWaiting(std::string_view text) {
  if (!impl_) return SendResult::kFailed;
  try {
    auto r = impl_->socket.send(zmq::const_buffer(text.data(), text.size()), zmq::send_flags::none);
    return r ? SendResult::kSent : SendResult::kWouldBlock;
  } catch (const zmq::error_t& e) {
    return FromError(e, impl_->endpoint);
  }
}

SendResult Socket::SendTo(std::string_view routing_id, std::span<const std::uint8_t> bytes) {
  if (!impl_) return SendResult::kFailed;
  try {
    // With ROUTER_MANDATORY an unknown routing id fails on the first part (EHOSTUNREACH) and a
    // full pipe with EAGAIN, so a message is never half sent.
    if (!impl_->socket.send(zmq::const_buffer(routing_id.data(), routing_id.size()),
                            zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return SendResult::kWouldBlock;
    }
    if (!impl_->socket.send(zmq::const_buffer(bytes.data(), bytes.size()),
                            zmq::send_flags::dontwait)) {
      return SendResult::kWouldBlock;
    }
    return SendResult::kSent;
  } catch (const zmq::error_t& e) {
    return FromError(e, impl_->endpoint);
  }
}

SendResult Socket::SendTo(std::string_view routing_id, std::string_view text) {
  return SendTo(routing_id, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

std::optional<std::vector<Part>> Socket::TryReceive() {
  if (!impl_) return std::nullopt;
  try {
    std::vector<Part> parts;
    Part first;
    if (!impl_->socket.recv(first.impl_->msg, zmq::recv_flags::dontwait)) return std::nullopt;
    bool more = first.impl_->msg.more();
    parts.push_back(std::move(first));
    // The rest of a multipart message is delivered atomically with its first part.
    while (more) {
      Part next;
      if (!impl_->socket.recv(next.impl_->msg, zmq::recv_flags::none)) break;
      more = next.impl_->msg.more();
      parts.push_back(std::move(next));
    }
    return parts;
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM && e.num() != EINTR) {
      spdlog::warn("event=net_recv_failed socket={} error=\"{}\"", impl_->endpoint, e.what());
    }
    return std::nullopt;
  }
}

bool Socket::WaitReadable(std::chrono::milliseconds timeout) {
  if (!impl_) return false;
  zmq::pollitem_t item{impl_->socket.handle(), 0, ZMQ_POLLIN, 0};
  try {
    zmq::poll(&item, 1, timeout);
  } catch (const zmq::error_t&) {
    return false;  // EINTR (a signal) or ETERM: the caller re-checks its deadline.
  }
  return (item.revents & ZMQ_POLLIN) != 0;
}

Status Socket::Connect(const std::string& endpoint) {
  if (!impl_) return InvalidArgument("NET_CONNECT", "the socket is closed");
  try {
    impl_->socket.connect(endpoint);
    impl_->endpoint = endpoint;
    return Status::Ok();
  } catch (const zmq::error_t& e) {
    return InvalidArgument("NET_CONNECT", "cannot connect to " + endpoint + ": " + e.what());
  }
}

Socket SocketAccess::Make(Context& ctx, zmq::socket_type type) {
  Socket s;
  s.impl_ = std::make_unique<Socket::Impl>(Socket::Impl{zmq::socket_t(ctx.impl_->ctx, type), {}});
  s.impl_->socket.set(zmq::sockopt::linger, 0);
  return s;
}

namespace {

zmq::const_buffer Buffer(std::span<const std::uint8_t> b) { return {b.data(), b.size()}; }

Status CheckKey(std::span<const std::uint8_t> key, const char* what) {
  if (key.size() != 32) {
    return InvalidArgument("NET_KEY_INVALID", std::string(what) + " must be a 32-byte CURVE key");
  }
  return Status::Ok();
}

void SetHeartbeat(zmq::socket_t& s, std::chrono::milliseconds heartbeat, int misses) {
  if (heartbeat.count() <= 0) return;
  const int ivl = static_cast<int>(heartbeat.count());
  s.set(zmq::sockopt::heartbeat_ivl, ivl);
  s.set(zmq::sockopt::heartbeat_timeout, ivl * misses);
  s.set(zmq::sockopt::heartbeat_ttl, ivl * misses);
}

}  // namespace

Result<Socket> BindCurveRouter(Context& ctx, const CurveServerOptions& o) {
  TEARLINE_RETURN_IF_ERROR(CheckKey(o.secret_key, "the server secret key"));
  try {
    Socket socket = SocketAccess::Make(ctx, zmq::socket_type::router);
    auto& s = SocketAccess::Native(socket);
    s.set(zmq::sockopt::zap_domain, kZapDomain);
    s.set(zmq::sockopt::curve_server, 1);
    s.set(zmq::sockopt::curve_secretkey, Buffer(o.secret_key));
    // Unroutable sends raise EHOSTUNREACH instead of vanishing; full pipes return EAGAIN.
    s.set(zmq::sockopt::router_mandatory, 1);
    s.set(zmq::sockopt::sndhwm, o.send_hwm);
    s.set(zmq::sockopt::rcvhwm, o.receive_hwm);
    s.set(zmq::sockopt::maxmsgsize, o.max_message_bytes);
    SetHeartbeat(s, o.heartbeat, o.heartbeat_misses);
    // libzmq spells an ephemeral TCP port "*"; Tearline's configs say ":0" as most tools do.
    std::string ep = o.endpoint;
    if (ep.size() > 2 && ep.compare(ep.size() - 2, 2, ":0") == 0) ep.replace(ep.size() - 1, 1, "*");
    s.bind(ep);
    SocketAccess::SetEndpoint(socket, s.get(zmq::sockopt::last_endpoint));
    return socket;
  } catch (const zmq::error_t& e) {
    return Status(Code::kUnavailable, "NET_BIND", "cannot bind " + o.endpoint + ": " + e.what());
  }
}

Result<Socket> ConnectCurveDealer(Context& ctx, const CurveClientOptions& o) {
  TEARLINE_RETURN_IF_ERROR(CheckKey(o.server_key, "the server key"));
  TEARLINE_RETURN_IF_ERROR(CheckKey(o.public_key, "the client public key"));
  TEARLINE_RETURN_IF_ERROR(CheckKey(o.secret_key, "the client secret key"));
  try {
    Socket socket = SocketAccess::Make(ctx, zmq::socket_type::dealer);
    auto& s = SocketAccess::Native(socket);
    s.set(zmq::sockopt::immediate, o.immediate ? 1 : 0);
    s.set(zmq::sockopt::reconnect_ivl, static_cast<int>(o.reconnect.count()));
    s.set(zmq::sockopt::reconnect_ivl_max, static_cast<int>(o.reconnect_max.count()));
    s.set(zmq::sockopt::sndtimeo, static_cast<int>(o.send_timeout.count()));
    s.set(zmq::sockopt::maxmsgsize, o.max_message_bytes);
    s.set(zmq::sockopt::rcvhwm, o.receive_hwm);
    s.set(zmq::sockopt::rcvbuf, o.receive_buffer_bytes);
    SetHeartbeat(s, o.heartbeat, o.heartbeat_misses);
    s.set(zmq::sockopt::curve_serverkey, Buffer(o.server_key));
    s.set(zmq::sockopt::curve_publickey, Buffer(o.public_key));
    s.set(zmq::sockopt::curve_secretkey, Buffer(o.secret_key));
    SocketAccess::SetEndpoint(socket, o.endpoint);
    if (!o.defer_connect) s.connect(o.endpoint);
    return socket;
  } catch (const zmq::error_t& e) {
    return InvalidArgument("NET_CONNECT",
                           "cannot set up the connection to " + o.endpoint + ": " + e.what());
  }
}

Result<Socket> BindLocalRouter(Context& ctx, const std::filesystem::path& socket_file,
                               std::int64_t max_message_bytes) {
  const std::string endpoint = "ipc://" + socket_file.string();
  try {
    Socket socket = SocketAccess::Make(ctx, zmq::socket_type::router);
    auto& s = SocketAccess::Native(socket);
    s.set(zmq::sockopt::router_mandatory, 1);
    s.set(zmq::sockopt::maxmsgsize, max_message_bytes);
    // The umask closes the window between bind() creating the file and the chmod below.
    const mode_t old = ::umask(0077);
    try {
      s.bind(endpoint);
    } catch (...) {
      ::umask(old);
      throw;
    }
    ::umask(old);
    if (::chmod(socket_file.c_str(), 0600) != 0) {
      return IoError("NET_LOCAL_BIND",
                     "cannot chmod 600 " + socket_file.string() + ": " + std::strerror(errno));
    }
    SocketAccess::SetEndpoint(socket, endpoint);
    return socket;
  } catch (const zmq::error_t& e) {
    return IoError("NET_LOCAL_BIND", "cannot bind " + endpoint + ": " + e.what());
  }
}

Result<Socket> ConnectLocalDealer(Context& ctx, const std::filesystem::path& socket_file,
                                  std::int64_t max_message_bytes,
                                  std::chrono::milliseconds send_timeout) {
  const std::string endpoint = "ipc://" + socket_file.string();
  try {
    Socket socket = SocketAccess::Make(ctx, zmq::socket_type::dealer);
    auto& s = SocketAccess::Native(socket);
    // Queue only on a completed connection: a stale socket file then fails the send quickly.
    s.set(zmq::sockopt::immediate, 1);
    s.set(zmq::sockopt::sndtimeo, static_cast<int>(send_timeout.count()));
    s.set(zmq::sockopt::maxmsgsize, max_message_bytes);
    s.connect(endpoint);
    SocketAccess::SetEndpoint(socket, endpoint);
    return socket;
  } catch (const zmq::error_t& e) {
    return Status(Code::kUnavailable, "NET_LOCAL_CONNECT",
                  "cannot connect to " + endpoint + ": " + e.what());
  }
}

}  // namespace tearline::net
