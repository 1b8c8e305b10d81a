#include "tearline/net/socket_monitor.h"

#include <atomic>
#include <cstring>
#include <utility>

#include "zmq_internal.h"

namespace tearline::net {
namespace {

TransportEvent TypeOf(std::uint16_t event) {
  switch (event) {
    case ZMQ_EVENT_CONNECTED:
      return TransportEvent::kConnected;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
      return TransportEvent::kHandshakeSucceeded;
    case ZMQ_EVENT_DISCONNECTED:
      return TransportEvent::kDisconnected;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      return TransportEvent::kAuthFailed;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
      return TransportEvent::kHandshakeFailed;
    case ZMQ_EVENT_ACCEPTED:
      return TransportEvent::kAccepted;
    default:
      return TransportEvent::kOther;
  }
}

}  // namespace

SocketMonitor::~SocketMonitor() { Stop(); }

SocketMonitor::SocketMonitor(SocketMonitor&& o) noexcept
    : monitored_(std::exchange(o.monitored_, nullptr)), pair_(std::move(o.pair_)) {}

SocketMonitor& SocketMonitor::operator=(SocketMonitor&& o) noexcept {
  if (this != &o) {
    Stop();
    monitored_ = std::exchange(o.monitored_, nullptr);
    pair_ = std::move(o.pair_);
  }
  return *this;
}

Result<SocketMonitor> SocketMonitor::Attach(Context& ctx, Socket& socket, const std::string& name) {
  // A fresh inproc name each time: libzmq may hold a stopped monitor's name for a while.
  static std::atomic<std::uint64_t> counter{0};
  const std::string endpoint = "inproc://" + name + "-" + std::to_string(++counter);
  try {
    if (zmq_socket_monitor(socket.native(), endpoint.c_str(),
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
      throw zmq::error_t();
    }
    SocketMonitor m;
    m.monitored_ = &socket;
    m.pair_ = SocketAccess::Make(ctx, zmq::socket_type::pair);
    SocketAccess::Native(m.pair_).connect(endpoint);
    SocketAccess::SetEndpoint(m.pair_, endpoint);
    return m;
  } catch (const zmq::error_t& e) {
    return Internal("NET_MONITOR", "cannot monitor " + socket.endpoint() + ": " + e.what());
  }
}

std::optional<MonitorEvent> SocketMonitor::TryNext() {
  while (true) {
    auto parts = pair_.TryReceive();
    if (!parts) return std::nullopt;
    const auto head = (*parts)[0].bytes();
    if (head.size() < 6) continue;  // Not an event this libzmq version documents.
    std::uint16_t id = 0;
    MonitorEvent ev;
    std::memcpy(&id, head.data(), sizeof id);
    std::memcpy(&ev.value, head.data() + 2, sizeof ev.value);
    ev.type = TypeOf(id);
    if (parts->size() > 1) ev.address = (*parts)[1].str();
    return ev;
  }
}

void SocketMonitor::Stop() {
  if (monitored_ != nullptr && monitored_->valid()) {
    (void)zmq_socket_monitor(monitored_->native(), nullptr, 0);
  }
  monitored_ = nullptr;
  pair_.Close();
}

}  // namespace tearline::net
