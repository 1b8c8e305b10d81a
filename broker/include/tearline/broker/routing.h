// Routing decisions: for a verified report, which recipient nodes get which portions, and why
// every other (recipient, portion) pair is withheld. Pure logic, no sockets, so every rule is unit
// tested; the broker applies the plan and the audit log records it.
//
// Thread-safety: pure function.
#ifndef TEARLINE_BROKER_ROUTING_H_
#define TEARLINE_BROKER_ROUTING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/directory.h"
#include "tearline/labels/policy.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {

struct PortionDecision {
  std::uint32_t index = 0;
  std::string label;  // Canonical portion marking.
  bool release = false;
  std::string reason;  // Empty when released.
  std::string explanation;
};

struct RecipientPlan {
  std::string nation;
  std::string node_id;                     // Empty when the nation has no node.
  std::vector<std::uint32_t> portions;     // Released portions (wrap present).
  std::vector<PortionDecision> decisions;  // One per portion of the report copy.
  std::string reason;  // Whole-recipient reason (NO_NODE, UNKNOWN_NATION), else empty.
  std::string explanation;
};

struct RoutingPlan {
  std::vector<RecipientPlan> recipients;
};

// Decides per intended nation, per node of that nation (excluding the originator node), per
// portion: the release plan (tearline/labels/release_plan.h, DecideRelease(label, {nation, node
// clearance, originator nation}) per pair; an undecidable pair is withheld with its RELEASE_*
// reason), and additionally that the originator wrapped the portion key for that node (reason
// NOT_ENCRYPTED_FOR_RECIPIENT).
// Errors: ROUTING_BAD_LABEL when a portion label does not parse under the policy (the report is
// rejected as a whole; the sender's node should never have produced it).
Result<RoutingPlan> PlanRouting(const ReportView& report, const Directory& directory,
                                const Policy& policy);

// Converts a plan into the wire outcomes (state Delivered for recipients with portions, Denied
// otherwise; the broker turns Delivered into Queued when the node is offline).
std::vector<RecipientOutcomeInfo> ToOutcomes(const RoutingPlan& plan);

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_ROUTING_H_
