// Broker: the release desk's part of the loop (broker.h), kept apart so broker.cc only
// dispatches.
#include "tearline/broker/broker.h"
#include "tearline/broker/unit_options.h"

namespace tearline::broker {

// Release requests a previous run stored can still be decided, and are owed as before.
Status Broker::OpenReleaseDesk() {
  releases_ = std::make_unique<ReleaseDesk>(directory_, *policy_, *store_, *auditor_, *submits_,
                                            clock_, ReleaseDeskOptionsFrom(config_));
  return releases_->Restore();
}

// After a Welcome: the node's queued copies, then the release frames it is owed. On a new
// connection the window starts afresh (what was in flight on the old one may be lost). A Hello
// on a connection already welcomed (a node that heard nothing for three heartbeats greets again)
// loses nothing sent on it, which ZeroMQ delivers in order: only copies due for a re-send go
// again. Refilling the whole window there made each repeated Hello cost a window of copies.
void Broker::Welcomed(const std::string& node_id, std::uint64_t rid, bool new_connection) {
  queues_->Flush(node_id, /*due_only=*/!new_connection);
  ReleaseEffects owed;
  owed.frames = releases_->Owed(node_id);
  ApplyRelease(std::move(owed), node_id, rid);
}

void Broker::HandleRelease(const std::string& node_id, const schema::Frame& f) {
  const std::uint64_t rid = f.request_id();
  if (f.body_type() == schema::Body::ReleaseRequest) {
    return ApplyRelease(releases_->Request(node_id, rid, *f.body_as_ReleaseRequest()), node_id,
                        rid);
  }
  ApplyRelease(releases_->Decide(node_id, rid, *f.body_as_ReleaseDecision()), node_id, rid);
}

void Broker::ApplyRelease(ReleaseEffects effects, const std::string& sender,
                          std::uint64_t request_id) {
  if (effects.refusal) return Reject(sender, request_id, *effects.refusal, effects.report_id_hex);
  releases_->Send(std::move(effects), *queues_, *group_);
}

}  // namespace tearline::broker
