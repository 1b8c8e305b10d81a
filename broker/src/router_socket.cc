#include "tearline/broker/router_socket.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <zmq.hpp>

#include "tearline/broker/zap_handler.h"

namespace tearline::broker {
namespace {

constexpr const char* kMonitorEndpoint = "inproc://tearline-router-monitor";

}  // namespace

struct RouterSocket::Impl {
  zmq::context_t ctx;
  std::unique_ptr<ZapHandler> zap;
  std::unique_ptr<zmq::socket_t> router;
  std::unique_ptr<zmq::socket_t> monitor;  // PAIR end of the ROUTER's socket monitor.

  ~Impl() {
    if (monitor) monitor->close();
    if (router) router->close();
    if (zap) zap->Stop();
    ctx.close();
  }

  Result<std::string> Bind(const RouterOptions& options, const SecretBytes& secret) {
    try {
      router = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::router);
      auto& s = *router;
      s.set(zmq::sockopt::linger, 0);
      s.set(zmq::sockopt::zap_domain, kZapDomain);
      s.set(zmq::sockopt::curve_server, 1);
      s.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(secret.data(), secret.size()));
      // Unroutable sends raise EHOSTUNREACH instead of vanishing; full pipes return EAGAIN.
      s.set(zmq::sockopt::router_mandatory, 1);
      s.set(zmq::sockopt::sndhwm, 1000);
      s.set(zmq::sockopt::rcvhwm, 1000);
      // libzmq drops a peer whose message exceeds this hard cap; smaller oversize frames get a
      // typed error from the application-level check so the sender learns why.
      s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(options.max_message_bytes));
      const int hb = static_cast<int>(options.heartbeat_ms);
      s.set(zmq::sockopt::heartbeat_ivl, hb);
      s.set(zmq::sockopt::heartbeat_timeout, hb * 3);
      s.set(zmq::sockopt::heartbeat_ttl, hb * 3);
      std::string ep = options.endpoint;
      if (ep.size() > 2 && ep.compare(ep.size() - 2, 2, ":0") == 0) {
        ep.replace(ep.size() - 1, 1, "*");
      }
      s.bind(ep);
      return s.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
      return Status(Code::kUnavailable, "BROKER_BIND",
                    "cannot bind " + options.endpoint + ": " + e.what());
    }
  }

  // Counts authenticated sessions from the ROUTER's monitor: a handshake that succeeded passed
  // ZAP; its file descriptor leaves the set when that connection is closed.
  Status StartMonitor() {
    try {
      const int rc = zmq_socket_monitor(router->handle(), kMonitorEndpoint,
                                        ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
      if (rc != 0) {
        return Internal("BROKER_MONITOR",
                        std::string("cannot monitor the router socket: ") + zmq_strerror(errno));
      }
      monitor = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::pair);
      monitor->set(zmq::sockopt::linger, 0);
      monitor->connect(kMonitorEndpoint);
    } catch (const zmq::error_t& e) {
      return Internal("BROKER_MONITOR",
                      std::string("cannot monitor the router socket: ") + e.what());
    }
    return Status::Ok();
  }
};

Result<std::unique_ptr<RouterSocket>> RouterSocket::Open(const RouterOptions& options,
                                                         const SecretBytes& curve_secret_key,
                                                         Authenticate authenticate) {
  auto impl = std::make_unique<Impl>();
  // The ZAP handler must be bound before the CURVE socket, or libzmq accepts any client key.
  auto zap = ZapHandler::Start(impl->ctx, std::move(authenticate));
  if (!zap.ok()) return zap.status();
  impl->zap = std::move(zap).value();
  auto endpoint = impl->Bind(options, curve_secret_key);
  if (!endpoint.ok()) return endpoint.status();
  TEARLINE_RETURN_IF_ERROR(impl->StartMonitor());
  std::unique_ptr<RouterSocket> socket(new RouterSocket(std::move(impl)));
  socket->endpoint_ = std::move(endpoint).value();
  return socket;
}

RouterSocket::RouterSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RouterSocket::~RouterSocket() = default;

RouterSocket::Ready RouterSocket::Poll(std::chrono::milliseconds timeout) {
  Ready ready;
  try {
    zmq::pollitem_t items[] = {{impl_->router->handle(), 0, ZMQ_POLLIN, 0},
                               {impl_->monitor->handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 2, timeout);
    ready.messages = (items[0].revents & ZMQ_POLLIN) != 0;
    ready.events = (items[1].revents & ZMQ_POLLIN) != 0;
  } catch (const zmq::error_t& e) {
    if (e.num() == ETERM) {
      ready.terminated = true;
    } else if (e.num() != EINTR) {
      spdlog::error("event=poll_failed error={}", e.what());
    }
  }
  return ready;
}

void RouterSocket::DrainEvents(
    const std::function<void(ConnectionEvent, std::uint32_t fd)>& on_event) {
  try {
    for (int i = 0; i < 256; ++i) {
      zmq::message_t event;
      if (!impl_->monitor->recv(event, zmq::recv_flags::dontwait)) return;
      if (event.more()) {
        zmq::message_t address;  // Second part: the endpoint; not needed.
        (void)impl_->monitor->recv(address, zmq::recv_flags::none);
      }
      if (event.size() < 6) continue;
      std::uint16_t id = 0;
      std::uint32_t fd = 0;
      std::memcpy(&id, event.data(), sizeof id);
      std::memcpy(&fd, static_cast<const std::uint8_t*>(event.data()) + 2, sizeof fd);
      if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        on_event(ConnectionEvent::kHandshakeSucceeded, fd);
      } else if (id == ZMQ_EVENT_DISCONNECTED) {
        on_event(ConnectionEvent::kDisconnected, fd);
      }
    }
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM && e.num() != EINTR)
      spdlog::error("event=monitor_failed error={}", e.what());
  }
}

bool RouterSocket::DrainMessages(int max, const std::atomic<bool>& stop,
                                 const std::function<void(const Inbound&)>& on_message) {
  try {
    // Bounded so a stop request is seen promptly.
    for (int i = 0; i < max && !stop.load(); ++i) {
      std::vector<zmq::message_t> parts;
      zmq::message_t m;
      if (!impl_->router->recv(m, zmq::recv_flags::dontwait)) break;
      bool more = m.more();
      parts.push_back(std::move(m));
      while (more) {
        zmq::message_t next;
        if (!impl_->router->recv(next, zmq::recv_flags::none)) break;
        more = next.more();
        parts.push_back(std::move(next));
      }
      if (parts.size() != 2) {
        spdlog::warn("event=message_dropped parts={} expected=2", parts.size());
        continue;
      }
      Inbound in;
      try {
        in.node_id = parts[1].gets("User-Id");
      } catch (const zmq::error_t&) {
        spdlog::warn("event=message_dropped why=no_user_id");
        continue;
      }
      in.routing_id = parts[0].to_string();
      in.payload = {static_cast<const std::uint8_t*>(parts[1].data()), parts[1].size()};
      on_message(in);
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == ETERM) return false;
    if (e.num() != EINTR) spdlog::error("event=receive_failed error={}", e.what());
  }
  return true;
}

RouterSocket::SendResult RouterSocket::Send(const std::string& routing_id,
                                            const std::vector<std::uint8_t>& frame) {
  try {
    auto& s = *impl_->router;
    if (!s.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return SendResult::kBlocked;
    }
    if (!s.send(zmq::buffer(frame), zmq::send_flags::dontwait)) return SendResult::kBlocked;
    return SendResult::kSent;
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return SendResult::kGone;
    spdlog::error("event=send_failed error={}", e.what());
    return SendResult::kBlocked;
  }
}

}  // namespace tearline::broker
