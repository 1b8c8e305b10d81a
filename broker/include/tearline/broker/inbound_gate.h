// InboundGate: the one check every frame a node sends passes before the broker does any costly
// work with it (copy, decode, verify, audit, store), whatever its body: Hello, Submit, Ack,
// Ping, Error, CheckpointRequest, Cosignature, ProofRequest, TrackRequest, DirectoryRequest, a
// type this version does not know, or garbage that decodes as nothing.
//
// A frame is served when (1) its connection holds a session slot (SessionSlots: a connection
// beyond max_connections gets no service) and (2) its node has budget left: one token bucket
// per node, `frames_per_second` with a burst of `burst` frames, across all its connections.
// A refused frame is dropped unanswered, except that at most one refusal per node per second is
// to be answered and audited (Verdict::notify), carrying the number of refusals left unanswered
// since the previous one; so a flood costs the broker a map lookup per frame and at most one
// audit record per node per second.
//
// Ownership: holds references to the clock and the slots, which must outlive it.
// Thread-safety: one thread (the broker's Run() thread).
#ifndef TEARLINE_BROKER_INBOUND_GATE_H_
#define TEARLINE_BROKER_INBOUND_GATE_H_

#include <cstdint>
#include <string_view>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/broker/rate_limiter.h"
#include "tearline/broker/session_slots.h"

namespace tearline::broker {

class InboundGate {
 public:
  InboundGate(const Clock& clock, SessionSlots& slots, double frames_per_second, double burst);
  InboundGate(const InboundGate&) = delete;
  InboundGate& operator=(const InboundGate&) = delete;

  struct Verdict {
    bool serve = true;
    // When !serve: answer and audit this refusal (`why`), noting `suppressed` earlier refusals
    // of this node that were not answered.
    bool notify = false;
    std::uint64_t suppressed = 0;
    Status why;  // CONNECTION_LIMIT or RATE_LIMITED when !serve.
  };
  Verdict Check(std::string_view node_id, int fd);

 private:
  Verdict Refuse(std::string_view node_id, Status why);

  SessionSlots& slots_;
  const double frames_per_second_;
  RateLimiter frames_;   // Per node: frames served.
  RateLimiter notices_;  // Per node: refusals answered (1 per second).
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_INBOUND_GATE_H_
