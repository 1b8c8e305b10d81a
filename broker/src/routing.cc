#include "tearline/broker/routing.h"

#include <algorithm>

#include "tearline/labels/label.h"
#include "tearline/labels/release.h"

namespace tearline::broker {

Result<RoutingPlan> PlanRouting(const ReportView& report, const Directory& directory,
                                const Policy& policy) {
  std::vector<Label> labels;
  labels.reserve(report.portions.size());
  for (const PortionView& p : report.portions) {
    auto label = ParseLabel(p.label, policy);
    if (!label.ok()) {
      return InvalidArgument("ROUTING_BAD_LABEL",
                             "portion " + std::to_string(p.index + 1) +
                                 " carries an invalid marking: " + label.status().ToString());
    }
    labels.push_back(std::move(label).value());
  }
  std::optional<std::string> originator_nation;
  if (policy.IsNation(report.originator_nation)) originator_nation = report.originator_nation;

  RoutingPlan plan;
  std::vector<std::string> nations = report.intended_nations;
  std::sort(nations.begin(), nations.end());
  nations.erase(std::unique(nations.begin(), nations.end()), nations.end());
  for (const std::string& nation : nations) {
    if (!policy.IsNation(nation)) {
      plan.recipients.push_back({nation,
                                 "",
                                 {},
                                 {},
                                 "UNKNOWN_NATION",
                                 nation + " is not a nation defined by the coalition policy"});
      continue;
    }
    auto nodes = directory.NodesOfNation(nation);
    nodes.erase(
        std::remove_if(nodes.begin(), nodes.end(),
                       [&](const Certificate* c) { return c->node_id() == report.originator; }),
        nodes.end());
    if (nodes.empty()) {
      plan.recipients.push_back(
          {nation,
           "",
           {},
           {},
           "NO_NODE",
           "no node of " + nation + " holds a valid coalition certificate, so nothing was sent"});
      continue;
    }
    for (const Certificate* node : nodes) {
      RecipientPlan r;
      r.nation = nation;
      r.node_id = node->node_id();
      Recipient who;
      who.nation = nation;
      who.clearance = policy.FindLevel(node->fields().clearance);
      who.originator_nation = originator_nation;
      for (std::size_t i = 0; i < report.portions.size(); ++i) {
        const PortionView& p = report.portions[i];
        PortionDecision d;
        d.index = p.index;
        d.label = FormatPortion(labels[i], policy);
        auto decision = DecideRelease(labels[i], who, policy);
        if (!decision.ok()) {
          d.reason = decision.status().reason();
          d.explanation = decision.status().message();
        } else if (!decision->release) {
          d.reason = std::string(DenyReasonName(decision->reason));
          d.explanation = decision->explanation;
        } else if (std::find(p.recipients.begin(), p.recipients.end(), r.node_id) ==
                   p.recipients.end()) {
          d.reason = "NOT_ENCRYPTED_FOR_RECIPIENT";
          d.explanation = "the originator did not encrypt this portion for " + r.node_id +
                          ", so it cannot be read there";
        } else {
          d.release = true;
          r.portions.push_back(p.index);
        }
        r.decisions.push_back(std::move(d));
      }
      plan.recipients.push_back(std::move(r));
    }
  }
  return plan;
}

std::vector<RecipientOutcomeInfo> ToOutcomes(const RoutingPlan& plan) {
  std::vector<RecipientOutcomeInfo> out;
  for (const RecipientPlan& r : plan.recipients) {
    RecipientOutcomeInfo o;
    o.nation = r.nation;
    o.node_id = r.node_id;
    o.portions = r.portions;
    o.state = r.portions.empty() ? schema::DeliveryState::Denied : schema::DeliveryState::Delivered;
    for (const PortionDecision& d : r.decisions) {
      if (!d.release) o.denials.push_back({d.index, d.label, d.reason, d.explanation});
    }
    o.reason = r.reason;
    o.explanation = r.explanation;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace tearline::broker
