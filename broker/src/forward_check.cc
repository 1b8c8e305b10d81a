#include "tearline/broker/forward_check.h"

#include <algorithm>
#include <string>

#include "tearline/base/encoding.h"
#include "tearline/labels/label.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {
namespace {

std::string PortionName(std::uint32_t index) { return "portion " + std::to_string(index + 1); }

}  // namespace

std::string AskOriginator(const ForwardInfo& forward, std::string_view originator,
                          std::uint32_t index) {
  return "only the originator " + std::string(originator) +
         " can release it further: ask with `tearline-node request-release " +
         ToHex(forward.report_id) + " --portion " + std::to_string(index + 1) + " --to " +
         forward.target_nation + " --why TEXT`";
}

Result<Holding> HoldingOf(ReportStore& store, std::string_view report_id_hex,
                          std::string_view node_id) {
  Holding holding;
  TEARLINE_ASSIGN_OR_RETURN(auto report, store.FindReport(report_id_hex));
  if (!report) return holding;
  holding.report_known = true;
  TEARLINE_ASSIGN_OR_RETURN(auto copy, store.FindCopy(report_id_hex, node_id));
  holding.copy_sent =
      copy && (copy->state == CopyState::kDelivered || copy->state == CopyState::kAcknowledged);
  std::vector<std::uint8_t> storage;
  auto frame = DecodeFrame(AlignedForDecode(report->reply, storage));
  if (!frame.ok() || (*frame)->body_as_SubmitReply() == nullptr) {
    return Status(
        Code::kInvalidArgument, "STORE_CORRUPT",
        "the stored reply of report " + std::string(report_id_hex) + " cannot be decoded");
  }
  const SubmitReplyInfo reply = ToSubmitReplyInfo(*(*frame)->body_as_SubmitReply());
  for (const RecipientOutcomeInfo& o : reply.outcomes) {
    if (o.node_id == node_id && o.state != schema::DeliveryState::Denied) {
      holding.portions.insert(holding.portions.end(), o.portions.begin(), o.portions.end());
    }
  }
  return holding;
}

Status CheckHeld(const ForwardInfo& forward, const Holding& holding, std::string_view originator) {
  const std::string id = ToHex(forward.report_id);
  if (!holding.report_known || !holding.copy_sent) {
    return PermissionDenied("FORWARD_NOT_HELD",
                            forward.forwarder + " never received report " + id +
                                " through this broker, so it cannot forward it; " +
                                AskOriginator(forward, originator, forward.portions.front()));
  }
  for (std::uint32_t i : forward.portions) {
    if (std::find(holding.portions.begin(), holding.portions.end(), i) == holding.portions.end()) {
      return PermissionDenied("FORWARD_NOT_HELD",
                              PortionName(i) + " of report " + id + " was never released to " +
                                  forward.forwarder + ", so it cannot forward it; " +
                                  AskOriginator(forward, originator, i));
    }
  }
  return Status::Ok();
}

Status CheckForwardable(const ForwardView& view, const Certificate& forwarder,
                        const Policy& policy) {
  if (view.forwarder_nation != forwarder.fields().nation) {
    return PermissionDenied("FORWARD_NATION_MISMATCH",
                            "the forward claims nation " + view.forwarder_nation +
                                " but the forwarder's certificate says " +
                                forwarder.fields().nation);
  }
  if (view.target_nation == view.forwarder_nation ||
      view.target_nation == view.report.originator_nation) {
    return InvalidArgument("FORWARD_TARGET_INVALID",
                           "a forward goes to another nation than the forwarder's and the "
                           "originator's (" +
                               view.target_nation + " is one of them)");
  }
  for (const PortionView& p : view.report.portions) {
    auto label = ParseLabel(p.label, policy);
    if (!label.ok()) {
      return InvalidArgument(
          "ROUTING_BAD_LABEL",
          PortionName(p.index) + " carries an invalid marking: " + label.status().ToString());
    }
    if (label->orcon) {
      return PermissionDenied("FORWARD_ORCON",
                              PortionName(p.index) + " " + p.label +
                                  " is ORCON (originator controlled): it is never forwarded "
                                  "without the originator; " +
                                  AskOriginator(view, view.report.originator, p.index));
    }
  }
  return Status::Ok();
}

Status CheckPlanReleases(const ForwardView& view, const RoutingPlan& plan) {
  for (const RecipientPlan& r : plan.recipients) {
    if (!r.reason.empty()) {
      return Status(Code::kNotFound, "FORWARD_NO_NODE", r.explanation);
    }
  }
  for (const PortionView& p : view.report.portions) {
    const PortionDecision* label_denial = nullptr;
    bool released = false;
    for (const RecipientPlan& r : plan.recipients) {
      for (const PortionDecision& d : r.decisions) {
        if (d.index != p.index) continue;
        released = released || d.release;
        if (!d.release && d.reason != "NOT_ENCRYPTED_FOR_RECIPIENT" && label_denial == nullptr) {
          label_denial = &d;
        }
      }
    }
    if (released) continue;
    if (label_denial != nullptr) {
      return PermissionDenied("FORWARD_NOT_RELEASABLE",
                              PortionName(p.index) + " " + label_denial->label +
                                  " is not releasable to " + view.target_nation +
                                  " under its originator's label (" + label_denial->reason + ": " +
                                  label_denial->explanation + "); " +
                                  AskOriginator(view, view.report.originator, p.index));
    }
    return InvalidArgument(
        "FORWARD_NOT_SEALED",
        PortionName(p.index) + " was not sealed for any node of " + view.target_nation);
  }
  return Status::Ok();
}

}  // namespace tearline::broker
