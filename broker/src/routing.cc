#include "tearline/broker/routing.h"

#include <algorithm>

#include "tearline/labels/label.h"
#include "tearline/labels/release.h"
#include "tearline/labels/release_plan.h"

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
  // The intended nations alone decide who is considered: an empty list would be accepted,
  // audited and delivered to nobody without a single outcome to tell the sender why.
  if (report.intended_nations.empty()) {
    return InvalidArgument("ROUTING_NO_NATIONS",
                           "the report names no intended nation, so it would reach nobody; "
                           "seal it again naming the nations it is meant for");
  }
  std::optional<std::string> originator_nation;
  if (policy.IsNation(report.originator_nation)) originator_nation = report.originator_nation;

  // Whole-recipient denials keep their place among the nodes, so collect the nodes first and
  // decide every (node, portion) pair with one release plan.
  RoutingPlan plan;
  std::vector<std::size_t> node_slots;  // Index in plan.recipients of each planned node.
  std::vector<Recipient> who;
  std::vector<std::string> nations = report.intended_nations;
  std::sort(nations.begin(), nations.end());
  nations.erase(std::unique(nations.begin(), nations.end()), nations.end());
  for (const std::string& nation : nations) {
    if (!policy.IsNation(nation)) {
      RecipientPlan r;
      r.nation = nation;
      r.reason = "UNKNOWN_NATION";
      r.explanation = nation + " is not a nation defined by the coalition policy";
      plan.recipients.push_back(std::move(r));
      continue;
    }
    auto nodes = directory.NodesOfNation(nation);
    nodes.erase(
        std::remove_if(nodes.begin(), nodes.end(),
                       [&](const Certificate* c) { return c->node_id() == report.originator; }),
        nodes.end());
    if (nodes.empty()) {
      RecipientPlan r;
      r.nation = nation;
      r.reason = "NO_NODE";
      r.explanation =
          "no node of " + nation + " holds a valid coalition certificate, so nothing was sent";
      plan.recipients.push_back(std::move(r));
      continue;
    }
    for (const Certificate* node : nodes) {
      RecipientPlan r;
      r.nation = nation;
      r.node_id = node->node_id();
      node_slots.push_back(plan.recipients.size());
      who.push_back(
          Recipient{nation, policy.FindLevel(node->fields().clearance), originator_nation});
      plan.recipients.push_back(std::move(r));
    }
  }

  const ReleasePlan release = PlanRelease(labels, who, policy);
  for (std::size_t n = 0; n < node_slots.size(); ++n) {
    RecipientPlan& r = plan.recipients[node_slots[n]];
    const RecipientRelease& verdict = release.recipients[n];
    auto next_withheld = verdict.withheld.begin();
    for (std::size_t i = 0; i < report.portions.size(); ++i) {
      const PortionView& p = report.portions[i];
      PortionDecision d;
      d.index = p.index;
      d.label = FormatPortion(labels[i], policy);
      if (next_withheld != verdict.withheld.end() && next_withheld->portion == i) {
        // Denied by a release rule, or undecidable (a RELEASE_* reason): withheld either way.
        d.reason = std::string(next_withheld->ReasonCode());
        d.explanation = std::string(next_withheld->Explanation());
        ++next_withheld;
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
