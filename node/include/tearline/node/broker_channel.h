// The narrow interfaces through which the node daemon's logic units act on the outside world,
// so that none of them touches a socket and each is unit tested with a recording fake:
//   - BrokerChannel: frames to the broker over the current session (implemented by BrokerLink
//     on top of the daemon's broker socket);
//   - ControlReplier: answers to a client of the local control socket (implemented by the
//     daemon on top of its control socket).
// Thread-safety: called only from the daemon's loop thread.
#ifndef TEARLINE_NODE_BROKER_CHANNEL_H_
#define TEARLINE_NODE_BROKER_CHANNEL_H_

#include <cstdint>
#include <span>
#include <string>

namespace tearline::node {

class BrokerChannel {
 public:
  virtual ~BrokerChannel() = default;
  // A fresh request id for the next frame (unique within this daemon's life).
  virtual std::uint64_t NewRequestId() = 0;
  // Hands one encoded frame to the transport without waiting. False when no connection can take
  // it now: nothing is queued for a later connection, the caller decides whether to retry.
  virtual bool Send(std::span<const std::uint8_t> frame) = 0;
  // True while a Welcome has been received and the session is not known to be lost.
  virtual bool welcomed() const = 0;
};

class ControlReplier {
 public:
  virtual ~ControlReplier() = default;
  // Sends `payload` to control client `client` and wipes it afterwards (it may hold report
  // content). A client that has gone away is logged, not an error.
  virtual void Reply(const std::string& client, std::string payload) = 0;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_BROKER_CHANNEL_H_
