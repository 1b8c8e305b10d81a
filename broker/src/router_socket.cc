#include "tearline/broker/router_socket.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "tearline/net/socket.h"
#include "tearline/net/socket_monitor.h"
#include "tearline/net/zap_handler.h"

namespace tearline::broker {

// Members in destruction order's reverse: the monitor and socket close before the ZAP handler
// stops, and all of them before the context.
struct RouterSocket::Impl {
  net::Context ctx;
  std::unique_ptr<net::ZapHandler> zap;
  net::Socket router;
  net::SocketMonitor monitor;

  ~Impl() {
    monitor.Stop();
    router.Close();
    if (zap) zap->Stop();
  }
};

Result<std::unique_ptr<RouterSocket>> RouterSocket::Open(const RouterOptions& options,
                                                         const SecretBytes& curve_secret_key,
                                                         Authenticate authenticate) {
  auto impl = std::make_unique<Impl>();
  // The ZAP handler must be bound before the CURVE socket, or libzmq accepts any client key.
  auto zap = net::ZapHandler::Start(impl->ctx, std::move(authenticate));
  if (!zap.ok()) return zap.status();
  impl->zap = std::move(zap).value();
  net::CurveServerOptions server;
  server.endpoint = options.endpoint;
  server.secret_key = curve_secret_key.span();
  server.send_hwm = options.send_hwm;
  server.receive_hwm = 1000;
  server.max_message_bytes = options.max_message_bytes;
  server.heartbeat = std::chrono::milliseconds(options.heartbeat_ms);
  server.heartbeat_misses = 3;
  auto router = net::BindCurveRouter(impl->ctx, server);
  if (!router.ok()) {
    // The broker's published reason for an endpoint it cannot serve on.
    return Status(router.status().code(), "BROKER_BIND", router.status().message());
  }
  impl->router = std::move(router).value();
  auto monitor = net::SocketMonitor::Attach(impl->ctx, impl->router, "tearline-router-monitor");
  if (!monitor.ok()) return monitor.status();
  impl->monitor = std::move(monitor).value();
  return std::unique_ptr<RouterSocket>(new RouterSocket(std::move(impl)));
}

RouterSocket::RouterSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RouterSocket::~RouterSocket() = default;

const std::string& RouterSocket::endpoint() const { return impl_->router.endpoint(); }

void RouterSocket::Serve(net::EventLoop& loop, const std::atomic<bool>& stop, int batch,
                         OnEvent on_event, OnMessage on_message,
                         std::function<void()> after_batch) {
  loop.AddReader(impl_->monitor.events(), "router_monitor",
                 [this, on_event = std::move(on_event)] { DrainEvents(on_event); });
  loop.AddReader(impl_->router, "router",
                 [this, &stop, batch, on_message = std::move(on_message),
                  after_batch = std::move(after_batch)] {
                   DrainMessages(batch, stop, on_message);
                   if (after_batch) after_batch();
                 });
}

void RouterSocket::Unserve(net::EventLoop& loop) {
  loop.RemoveReader(impl_->router);
  loop.RemoveReader(impl_->monitor.events());
}

// Forwards the monitor events session accounting needs (see SessionSlots): a connection's
// descriptor is released when it closes, or when ACCEPTED shows the kernel reused it.
void RouterSocket::DrainEvents(const OnEvent& on_event) {
  for (int i = 0; i < 256; ++i) {
    auto event = impl_->monitor.TryNext();
    if (!event) return;
    if (event->type == net::TransportEvent::kHandshakeSucceeded) {
      on_event(ConnectionEvent::kHandshakeSucceeded, event->value);
    } else if (event->type == net::TransportEvent::kDisconnected) {
      on_event(ConnectionEvent::kDisconnected, event->value);
    } else if (event->type == net::TransportEvent::kAccepted) {
      on_event(ConnectionEvent::kAccepted, event->value);
    }
  }
}

void RouterSocket::DrainMessages(int batch, const std::atomic<bool>& stop,
                                 const OnMessage& on_message) {
  // Bounded so a stop request and the timers are seen promptly.
  for (int i = 0; i < batch && !stop.load(); ++i) {
    auto parts = impl_->router.TryReceive();
    if (!parts) return;
    if (parts->size() < 2) continue;  // ROUTER always prepends the routing id.
    auto node_id = parts->back().user_id();
    if (!node_id) {
      spdlog::warn("event=message_dropped why=no_user_id");
      continue;
    }
    Inbound in;
    in.routing_id = (*parts)[0].str();
    in.node_id = std::move(*node_id);
    // Not one frame: passed on empty, so it is refused (WIRE_MALFORMED) within the node's
    // budget like any other garbage rather than logged once per message here.
    if (parts->size() == 2) in.payload = (*parts)[1].bytes();
    in.fd = parts->back().source_fd();
    on_message(in);
  }
}

RouterSocket::SendResult RouterSocket::Send(const std::string& routing_id,
                                            const std::vector<std::uint8_t>& frame) {
  switch (impl_->router.SendTo(routing_id, frame)) {
    case net::SendResult::kSent:
      return SendResult::kSent;
    case net::SendResult::kUnroutable:
      return SendResult::kGone;
    case net::SendResult::kWouldBlock:
    case net::SendResult::kFailed:
      return SendResult::kBlocked;
  }
  return SendResult::kBlocked;
}

}  // namespace tearline::broker
