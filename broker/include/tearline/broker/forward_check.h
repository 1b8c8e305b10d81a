// Forward checks: whether the broker lets a node forward portions of a report it received to
// another nation. A forward is enforced exactly as if the originator had sent the portions there
// (the same PlanRouting over the originator's signed labels); on top of that the forwarder must
// really hold each portion by the broker's own records (never by the forwarder's word), and ORCON
// portions never move without the originator. Every refusal names how to ask the originator.
//
// Thread-safety: pure functions, except HoldingOf, which reads the store (the broker's Run()
// thread only, like the store itself).
#ifndef TEARLINE_BROKER_FORWARD_CHECK_H_
#define TEARLINE_BROKER_FORWARD_CHECK_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/broker/report_store.h"
#include "tearline/broker/routing.h"
#include "tearline/envelope/forward.h"
#include "tearline/identity/certificate.h"
#include "tearline/labels/policy.h"

namespace tearline::broker {

// What the broker's records say a node received of one report.
struct Holding {
  bool report_known = false;            // The broker accepted this report id.
  bool copy_sent = false;               // Its copy was sent to the node (delivered/acknowledged).
  std::vector<std::uint32_t> portions;  // Portions released to the node, from the stored reply.
};

// Reads the stored report's SubmitReply and the node's copy row. Errors: store errors,
// STORE_CORRUPT (the stored reply does not decode).
Result<Holding> HoldingOf(ReportStore& store, std::string_view report_id_hex,
                          std::string_view node_id);

// FORWARD_NOT_HELD unless the copy was sent to the forwarder and it held every forwarded portion.
Status CheckHeld(const ForwardInfo& forward, const Holding& holding, std::string_view originator);

// The grant against the authenticated forwarder's certificate, and the labels themselves:
// FORWARD_NATION_MISMATCH, FORWARD_TARGET_INVALID (the target is the forwarder's own nation or the
// originator's), ROUTING_BAD_LABEL, FORWARD_ORCON.
Status CheckForwardable(const ForwardView& view, const Certificate& forwarder,
                        const Policy& policy);

// The routing plan for the target nation must release every forwarded portion to at least one
// node: FORWARD_NOT_RELEASABLE (the label withholds it), FORWARD_NO_NODE (no node of the nation,
// or the nation is unknown), FORWARD_NOT_SEALED (the forwarder sealed it for no releasable node).
Status CheckPlanReleases(const ForwardView& view, const RoutingPlan& plan);

// The sentence every refusal ends with: how to ask the originator for a release.
std::string AskOriginator(const ForwardInfo& forward, std::string_view originator,
                          std::uint32_t index);

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_FORWARD_CHECK_H_
