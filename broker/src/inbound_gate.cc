#include "tearline/broker/inbound_gate.h"

#include <string>
#include <utility>

namespace tearline::broker {

InboundGate::InboundGate(const Clock& clock, SessionSlots& slots, double frames_per_second,
                         double burst)
    : slots_(slots),
      frames_per_second_(frames_per_second),
      frames_(clock, {.per_second = frames_per_second, .burst = burst, .max_keys = 4096}),
      notices_(clock, {.per_second = 1, .burst = 1, .max_keys = 4096}) {}

InboundGate::Verdict InboundGate::Check(std::string_view node_id, int fd) {
  if (!slots_.Bind(fd)) {
    return Refuse(node_id,
                  Status(Code::kResourceExhausted, "CONNECTION_LIMIT",
                         "the broker already serves " + std::to_string(slots_.max_sessions()) +
                             " sessions (max_connections); this connection is not served"));
  }
  if (!frames_.Take(node_id).allowed) {
    return Refuse(node_id,
                  Status(Code::kResourceExhausted, "RATE_LIMITED",
                         "more than " + std::to_string(static_cast<long>(frames_per_second_)) +
                             " frames per second from this node; frames over the "
                             "budget are dropped unanswered"));
  }
  return {};
}

InboundGate::Verdict InboundGate::Refuse(std::string_view node_id, Status why) {
  Verdict v;
  v.serve = false;
  const RateLimiter::Decision notice = notices_.Take(node_id);
  v.notify = notice.allowed;
  v.suppressed = notice.suppressed;
  v.why = std::move(why);
  return v;
}

}  // namespace tearline::broker
