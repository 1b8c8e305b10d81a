// SocketMonitor: transport events of one socket (connection up or down, CURVE handshake
// succeeded or refused), so a daemon reacts at once and an operator sees why a link is down, in
// the spirit of czmq's zmonitor.
//
// libzmq publishes the events on an inproc PAIR socket; this unit owns that socket and decodes
// the two-part event messages. Note: with the libzmq in Debian 12, HANDSHAKE_SUCCEEDED carries no
// file descriptor on every transport, so `value` must not be relied on to identify connections.
// Ownership: owns the PAIR socket; the monitored Socket and the Context must outlive it. Stop()
// (or the destructor) detaches the monitor from the monitored socket.
// Thread-safety: one thread, the one that owns the monitored socket.
#ifndef TEARLINE_NET_SOCKET_MONITOR_H_
#define TEARLINE_NET_SOCKET_MONITOR_H_

#include <cstdint>
#include <optional>
#include <string>

#include "tearline/base/status.h"
#include "tearline/net/socket.h"

namespace tearline::net {

enum class TransportEvent {
  kConnected,           // TCP connected; the CURVE handshake follows.
  kHandshakeSucceeded,  // The session is authenticated and usable.
  kDisconnected,
  kAuthFailed,       // The peer refused our key (or we refused theirs).
  kHandshakeFailed,  // Protocol error or no detail (e.g. wrong server key).
  kAccepted,         // Server side: a TCP connection was accepted.
  kOther,
};

struct MonitorEvent {
  TransportEvent type = TransportEvent::kOther;
  std::uint32_t value = 0;  // libzmq's event value (fd or errno); see the note above.
  std::string address;      // The endpoint the event is about.
};

class SocketMonitor {
 public:
  SocketMonitor() = default;
  ~SocketMonitor();
  SocketMonitor(SocketMonitor&&) noexcept;
  SocketMonitor& operator=(SocketMonitor&&) noexcept;

  // Monitors `socket` through inproc://`name` (unique per context). Errors: NET_MONITOR.
  static Result<SocketMonitor> Attach(Context& ctx, Socket& socket, const std::string& name);

  // The next pending event, or nullopt when none is ready. Never blocks.
  std::optional<MonitorEvent> TryNext();

  // The PAIR socket, for a poll loop.
  Socket& events() { return pair_; }

  void Stop();

 private:
  Socket* monitored_ = nullptr;
  Socket pair_;
};

}  // namespace tearline::net

#endif  // TEARLINE_NET_SOCKET_MONITOR_H_
