// Forwarder: the analyst's `forward ID --to NAT [--portion N]...` between the control socket and
// the broker's answer. A node forwards portions of a report it received (never a forwarded copy:
// a forward is one hop from the originator) to one other nation:
//   - the stored copy is read from the inbox; the requested portions (default: every portion this
//     node holds) must be among those it opened on receipt (NODE_FORWARD_NOT_HELD otherwise);
//   - each portion's content key is unwrapped with this node's key and sealed for every node of
//     the target nation in the directory verified last (NODE_FORWARD_NO_NODE when there is none),
//     and the grant is signed with this node's key (tearline/envelope/forward.h);
//   - the Forward goes to the broker once (no outbox: a lost answer means forwarding again, under
//     a new forward id); the broker decides the label exactly as for the originator and answers
//     with a SubmitReply, which the analyst gets as a send result, or the broker's refusal as an
//     error; no answer by the deadline is NODE_FORWARD_TIMEOUT, no session BROKER_UNAVAILABLE.
// At most kMaxPendingForwards wait at once (NODE_BUSY beyond).
//
// Ownership: references the Clock, identity, inbox, directory, channel and replier (owned by the
// daemon). Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_FORWARDER_H_
#define TEARLINE_NODE_FORWARDER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/envelope/forward.h"
#include "tearline/node/broker_channel.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/directory_cache.h"
#include "tearline/node/inbox_store.h"
#include "tearline/node/node_identity.h"
#include "tearline/wire/wire.h"

namespace tearline::node {

inline constexpr std::size_t kMaxPendingForwards = 64;

class Forwarder {
 public:
  Forwarder(const Clock& clock, const NodeIdentity& identity, const InboxStore& inbox,
            const DirectoryCache& directory, BrokerChannel& broker, ControlReplier& replier);

  // A decoded `forward` request from control client `client`; answered now when refused.
  void Start(const std::string& client, const ControlRequest& request);
  // The broker's answer; false when `request_id` is not a forward of this unit.
  bool OnSubmitReply(std::uint64_t request_id, const SubmitReplyInfo& info);
  bool OnError(std::uint64_t request_id, const std::string& reason, const std::string& message);
  // Deadlines.
  void Tick();
  std::size_t size() const { return waiting_.size(); }

  // Builds the forward of `request` (exposed for tests). Errors: NODE_FORWARD_*, INBOX_*,
  // those of SealForward.
  [[nodiscard]] Result<SealedForward> Build(const ControlRequest& request) const;

 private:
  struct Waiting {
    std::string client;
    std::string forward_id_hex;
    Clock::TimePoint deadline;
  };

  const Clock& clock_;
  const NodeIdentity& identity_;
  const InboxStore& inbox_;
  const DirectoryCache& directory_;
  BrokerChannel& broker_;
  ControlReplier& replier_;
  std::map<std::uint64_t, Waiting> waiting_;  // By request id of the ForwardSubmit frame.
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_FORWARDER_H_
