#include "tearline/node/forwarder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "tearline/base/encoding.h"

namespace tearline::node {

Forwarder::Forwarder(const Clock& clock, const NodeIdentity& identity, const InboxStore& inbox,
                     const DirectoryCache& directory, BrokerChannel& broker,
                     ControlReplier& replier)
    : clock_(clock),
      identity_(identity),
      inbox_(inbox),
      directory_(directory),
      broker_(broker),
      replier_(replier) {}

Result<SealedForward> Forwarder::Build(const ControlRequest& request) const {
  TEARLINE_ASSIGN_OR_RETURN(InboxEntry entry, inbox_.Find(request.id));
  if (!entry.forwarder.empty()) {
    return PermissionDenied("NODE_FORWARD_CHAIN",
                            "report " + entry.report_id_hex +
                                " reached this node as a forward by " + entry.forwarder +
                                "; a forward is one hop from the originator, so ask the "
                                "originator " +
                                entry.originator + " to release it (request-release)");
  }
  std::vector<std::uint32_t> portions = request.indices;
  if (portions.empty()) {
    for (const InboxPortion& p : entry.portions) portions.push_back(p.index);
  }
  for (std::uint32_t i : portions) {
    const bool held = std::any_of(entry.portions.begin(), entry.portions.end(),
                                  [&](const InboxPortion& p) { return p.index == i; });
    if (!held) {
      return PermissionDenied("NODE_FORWARD_NOT_HELD", "portion " + std::to_string(i + 1) +
                                                           " of report " + entry.report_id_hex +
                                                           " was not released to this node");
    }
  }
  const std::string& target = request.to.front();
  ForwardInput in;
  in.forwarder = identity_.node_id;
  in.forwarder_nation = identity_.nation();
  in.target_nation = target;
  in.created_unix = clock_.UnixNow();
  in.portions = portions;
  for (const Certificate* c : directory_.directory().NodesOfNation(target)) {
    in.targets.push_back({c->node_id(), c->fields().encryption_key});
  }
  if (in.targets.empty()) {
    return NotFound("NODE_FORWARD_NO_NODE",
                    "no node of " + target + " is in this node's verified directory");
  }
  TEARLINE_ASSIGN_OR_RETURN(auto copy, inbox_.ReadReport(entry.report_id_hex));
  const auto& me = identity_.own_cert->fields();
  RecipientIdentity rid{identity_.node_id, me.nation, identity_.clearance, me.encryption_key,
                        identity_.keys.encryption.secret_key};
  return SealForward(copy, in, rid, identity_.keys.signing.secret_key);
}

void Forwarder::Start(const std::string& client, const ControlRequest& request) {
  if (waiting_.size() >= kMaxPendingForwards) {
    replier_.Reply(client, EncodeErrorResponse(Status(Code::kResourceExhausted, "NODE_BUSY",
                                                      "too many forwards in progress")));
    return;
  }
  if (!broker_.welcomed()) {
    replier_.Reply(client, EncodeErrorResponse(Status(
                               Code::kUnavailable, "BROKER_UNAVAILABLE",
                               "no broker session: nothing was forwarded, retry when connected")));
    return;
  }
  auto sealed = Build(request);
  if (!sealed.ok()) {
    spdlog::warn("event=forward_refused_locally reason={}", sealed.status().reason());
    replier_.Reply(client, EncodeErrorResponse(sealed.status()));
    return;
  }
  const std::uint64_t rid = broker_.NewRequestId();
  const std::string id_hex = ToHex(sealed->forward_id);
  if (!broker_.Send(EncodeForwardSubmit(rid, sealed->bytes))) {
    replier_.Reply(client, EncodeErrorResponse(Status(
                               Code::kUnavailable, "BROKER_UNAVAILABLE",
                               "the broker connection refused the forward; nothing was sent")));
    return;
  }
  spdlog::info("event=forward_submitted forward={} report={} target={}", id_hex, request.id,
               request.to.front());
  waiting_[rid] =
      Waiting{client, id_hex, clock_.Now() + std::chrono::milliseconds(request.timeout_ms)};
}

bool Forwarder::OnSubmitReply(std::uint64_t request_id, const SubmitReplyInfo& info) {
  auto it = waiting_.find(request_id);
  if (it == waiting_.end()) return false;
  const Waiting w = std::move(it->second);
  waiting_.erase(it);
  if (!info.accepted) {
    spdlog::warn("event=forward_rejected forward={} reason={}", w.forward_id_hex,
                 info.error_reason);
    replier_.Reply(w.client, EncodeErrorResponse(Status(
                                 Code::kPermissionDenied,
                                 info.error_reason.empty() ? "BROKER_REJECTED" : info.error_reason,
                                 info.error_message)));
    return true;
  }
  SendResult r;
  r.report_id_hex = w.forward_id_hex;
  r.outcomes = info.outcomes;
  spdlog::info("event=forward_accepted forward={} recipients={}", w.forward_id_hex,
               r.outcomes.size());
  replier_.Reply(w.client, EncodeSendResponse(r));
  return true;
}

bool Forwarder::OnError(std::uint64_t request_id, const std::string& reason,
                        const std::string& message) {
  auto it = waiting_.find(request_id);
  if (it == waiting_.end()) return false;
  replier_.Reply(it->second.client,
                 EncodeErrorResponse(Status(Code::kPermissionDenied, reason, message)));
  waiting_.erase(it);
  return true;
}

void Forwarder::Tick() {
  const auto now = clock_.Now();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    replier_.Reply(it->second.client,
                   EncodeErrorResponse(Status(Code::kUnavailable, "NODE_FORWARD_TIMEOUT",
                                              "the broker did not answer forward " +
                                                  it->second.forward_id_hex +
                                                  " in time; it may or may not have been "
                                                  "delivered (track it by that id)")));
    it = waiting_.erase(it);
  }
}

}  // namespace tearline::node
