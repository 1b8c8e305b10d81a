// SubmitPipeline::Forward: a node re-shares portions it received (see submit_pipeline.h and
// forward_check.h). Kept apart from the Submit steps it reuses (Prepare, Commit).
#include <spdlog/spdlog.h>

#include <utility>

#include "submit_pipeline_internal.h"
#include "tearline/audit/audit_records.h"
#include "tearline/base/encoding.h"
#include "tearline/broker/forward_check.h"
#include "tearline/broker/submit_pipeline.h"
#include "tearline/crypto/keys.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {

SubmitEffects SubmitPipeline::RefuseForward(const std::string& node_id, std::uint64_t request_id,
                                            const Status& why, const ForwardInfo* forward) {
  // Answered even when the record could not be written: a refusal changes nothing.
  (void)auditor_.Durable(auditor_.ForwardRefused(node_id, why, forward));
  spdlog::warn("event=forward_rejected node={} reason={}", node_id, why.reason());
  SubmitReplyInfo reply;
  reply.accepted = false;
  if (forward != nullptr) {
    reply.report_id.assign(forward->forward_id.begin(), forward->forward_id.end());
  }
  reply.error_reason = why.reason();
  reply.error_message = why.message();
  SubmitEffects effects;
  effects.reply = EncodeSubmitReply(request_id, reply);
  return effects;
}

Result<ForwardView> SubmitPipeline::InspectForwardFrom(
    const std::string& node_id, std::span<const std::uint8_t> forward) const {
  TEARLINE_ASSIGN_OR_RETURN(ForwardParties parties, PeekForward(forward));
  if (parties.forwarder != node_id) {
    return PermissionDenied("FORWARD_FORWARDER_MISMATCH",
                            "the forward claims forwarder '" + parties.forwarder +
                                "' but the connection authenticated as '" + node_id + "'");
  }
  const Certificate* originator = directory_.FindNode(parties.originator);
  const Certificate* forwarder = directory_.FindNode(node_id);
  if (originator == nullptr || forwarder == nullptr) {
    return Unauthenticated("AUTH_UNKNOWN_NODE",
                           "the originator or the forwarder is not in the directory");
  }
  return InspectForward(forward, originator->fields().signing_key, forwarder->fields().signing_key);
}

// Everything decided before routing: the claims, the labels, what the forwarder holds, the id,
// the expiry and the broker's storage.
Status SubmitPipeline::CheckForward(const std::string& node_id, const ForwardView& view) const {
  const Certificate* forwarder = directory_.FindNode(node_id);
  if (forwarder == nullptr) {
    return Unauthenticated("AUTH_UNKNOWN_NODE", "the forwarder is not in the directory");
  }
  TEARLINE_RETURN_IF_ERROR(CheckForwardable(view, *forwarder, policy_));
  TEARLINE_ASSIGN_OR_RETURN(Holding holding, HoldingOf(store_, ToHex(view.report_id), node_id));
  TEARLINE_RETURN_IF_ERROR(CheckHeld(view, holding, view.report.originator));
  TEARLINE_ASSIGN_OR_RETURN(auto known, store_.FindReport(ToHex(view.forward_id)));
  if (known) {
    return Status(Code::kAlreadyExists, "FORWARD_ID_CONFLICT",
                  "forward id " + ToHex(view.forward_id) +
                      " is already in use; a new forward needs a new id");
  }
  if (view.report.expires_unix <= clock_.UnixNow()) {
    return Status(Code::kExpired, "REPORT_EXPIRED", "the report expired before it was forwarded");
  }
  return CheckStorageHeadroom();
}

SubmitEffects SubmitPipeline::Forward(const std::string& node_id, std::uint64_t request_id,
                                      std::span<const std::uint8_t> forward) {
  if (auto limited = CheckRate(node_id, request_id)) return std::move(*limited);
  auto view = InspectForwardFrom(node_id, forward);
  if (!view.ok()) return RefuseForward(node_id, request_id, view.status(), nullptr);
  if (Status st = CheckForward(node_id, *view); !st.ok()) {
    return RefuseForward(node_id, request_id, st, &*view);
  }
  Admitted admitted;
  admitted.id_hex = ToHex(view->forward_id);
  admitted.digest = Sha256Hex({reinterpret_cast<const char*>(forward.data()), forward.size()});
  admitted.submitter = node_id;
  admitted.view = view->report;
  // Routed as a report of the originator's to the one target nation, named by the forward id.
  admitted.view.report_id = view->forward_id;
  admitted.view.intended_nations = {view->target_nation};
  admitted.view.report_bytes = forward.size();
  admitted.forward = *view;
  auto prepared = Prepare(admitted, forward);
  if (!prepared.ok()) return RefuseForward(node_id, request_id, prepared.status(), &*view);
  if (Status st = CheckPlanReleases(*view, prepared->plan); !st.ok()) {
    return RefuseForward(node_id, request_id, st, &*view);
  }
  spdlog::info("event=forward_accepted node={} forward={} report={} target={}", node_id,
               admitted.id_hex, ToHex(view->report_id), view->target_nation);
  return Commit(node_id, request_id, admitted, std::move(prepared).value());
}

}  // namespace tearline::broker
