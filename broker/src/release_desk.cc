#include "tearline/broker/release_desk.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/labels/label.h"
#include "tearline/labels/release.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {
namespace {

// Whether the label's controls alone release to `nation` (nullopt from ReleasableTo: unrestricted).
bool ControlsRelease(const Label& label, const Policy& policy, const std::string& nation) {
  const auto to = ReleasableTo(label, policy);
  return !to || to->contains(nation);
}

// The outcome of routing the release report, read back from the SubmitReply frame the pipeline
// built (it is the one place that knows whether the report was accepted).
Status SubmitOutcome(const SubmitEffects& effects) {
  if (!effects.reply) return IoError("AUDIT_IO", "the audit log failed; nothing was released");
  std::vector<std::uint8_t> storage;
  auto frame = DecodeFrame(AlignedForDecode(*effects.reply, storage));
  if (!frame.ok() || (*frame)->body_type() != schema::Body::SubmitReply) {
    return IoError("STORE_IO", "the release report's submit reply is unreadable");
  }
  const auto* reply = (*frame)->body_as_SubmitReply();
  if (reply->accepted()) return Status::Ok();
  // The pipeline's own reason (e.g. RATE_LIMITED, STORAGE_FULL) tells the originator what to do.
  const auto* e = reply->error();
  std::string why = e && e->reason() ? e->reason()->str() : "";
  if (why.empty()) why = "BROKER_REJECTED";
  return Status(Code::kPermissionDenied, std::move(why),
                "the release report was refused: " +
                    (e && e->message() ? e->message()->str() : std::string("no detail")));
}

}  // namespace

std::string ReleaseDesk::PortionKey(const std::string& report_hex, std::uint32_t portion) {
  return report_hex + "/" + std::to_string(portion);
}

ReleaseDesk::ReleaseDesk(const Directory& directory, const Policy& policy, ReportStore& store,
                         Auditor& auditor, SubmitPipeline& submits, const Clock& clock,
                         ReleaseDeskOptions options)
    : directory_(directory),
      policy_(policy),
      store_(store),
      auditor_(auditor),
      submits_(submits),
      clock_(clock),
      options_(options) {}

Result<std::set<std::string>> ReleaseDesk::HoldersOf(const StoredReport& report,
                                                     std::uint32_t portion,
                                                     const std::string& requester,
                                                     bool* requester_holds) {
  std::set<std::string> nations;
  *requester_holds = false;
  std::vector<std::uint8_t> storage;
  auto frame = DecodeFrame(AlignedForDecode(report.reply, storage));
  if (!frame.ok() || (*frame)->body_type() != schema::Body::SubmitReply) {
    return Status(Code::kIoError, "STORE_IO",
                  "the stored reply of report " + report.report_id + " is unreadable");
  }
  const auto* outcomes = (*frame)->body_as_SubmitReply()->outcomes();
  if (outcomes != nullptr) {
    for (const auto* o : *outcomes) {
      if (o->state() == schema::DeliveryState::Denied || o->portions() == nullptr) continue;
      const auto& p = *o->portions();
      if (std::find(p.begin(), p.end(), portion) == p.end()) continue;
      if (o->nation() != nullptr) nations.insert(o->nation()->str());
      if (o->node_id() != nullptr && o->node_id()->str() == requester) *requester_holds = true;
    }
  }
  if (auto it = released_.find(PortionKey(report.report_id, portion)); it != released_.end()) {
    nations.insert(it->second.begin(), it->second.end());
  }
  return nations;
}

bool ReleaseDesk::MakeRoom() {
  if (requests_.size() < options_.max_requests) return true;
  // Forget the oldest request that is decided and whose requester has its answer.
  auto victim = requests_.end();
  for (auto it = requests_.begin(); it != requests_.end(); ++it) {
    const Entry& e = it->second;
    if (e.status.state == "pending" || !e.requester_told) continue;
    if (victim == requests_.end() || e.order < victim->second.order) victim = it;
  }
  if (victim == requests_.end()) return false;
  if (Status st = store_.DeleteRelease(victim->first); !st.ok()) {
    spdlog::error("event=release_store_failed request={} reason={}", victim->first, st.reason());
  }
  requests_.erase(victim);
  return true;
}

ReleaseFrame ReleaseDesk::NoticeFrame(const std::string& hex, const Entry& e) const {
  return {e.originator, EncodeReleaseNotice(e.notice), hex, true, true};
}

ReleaseFrame ReleaseDesk::StatusFrame(const std::string& hex, const Entry& e) const {
  return {e.notice.requester, EncodeReleaseStatus(0, e.status), hex, false, true};
}

ReleaseEffects ReleaseDesk::Request(const std::string& node_id, std::uint64_t rid,
                                    const schema::ReleaseRequest& request) {
  ReleaseEffects out;
  auto refuse = [&](Status why) {
    out.refusal = std::move(why);
    return out;
  };
  auto ask = ToReleaseAsk(request);
  if (!ask.ok()) return refuse(ask.status());
  const std::string report_hex = ToHex(ask->report_id);
  out.report_id_hex = report_hex;
  if (!policy_.IsNation(ask->to_nation)) {
    return refuse(InvalidArgument("RELEASE_UNKNOWN_NATION",
                                  "'" + ask->to_nation + "' is not a nation of the policy"));
  }
  const Certificate* requester = directory_.FindNode(node_id);
  if (requester == nullptr) {
    return refuse(Status(Code::kUnauthenticated, "AUTH_UNKNOWN_NODE",
                         "node " + node_id + " is not in the broker's directory"));
  }
  auto report = store_.FindReport(report_hex);
  if (!report.ok()) return refuse(report.status());
  if (!report->has_value() || (*report)->expires_unix <= clock_.UnixNow()) {
    return refuse(
        NotFound("RELEASE_UNKNOWN_REPORT", "the broker holds no current report " + report_hex));
  }
  const StoredReport& stored = **report;
  bool holds = false;
  auto holders = HoldersOf(stored, ask->portion, node_id, &holds);
  if (!holders.ok()) return refuse(holders.status());
  if (!holds) {
    return refuse(PermissionDenied(
        "RELEASE_NOT_HELD", "node " + node_id + " does not hold portion " +
                                std::to_string(ask->portion + 1) + " of report " + report_hex +
                                "; only a holder may ask for its release"));
  }
  if (holders->contains(ask->to_nation)) {
    return refuse(Status(Code::kAlreadyExists, "RELEASE_ALREADY_HELD",
                         ask->to_nation + " already holds portion " +
                             std::to_string(ask->portion + 1) + " of report " + report_hex));
  }
  const std::string hex = ToHex(ask->request_id);
  if (requests_.contains(hex)) {
    return refuse(Status(Code::kAlreadyExists, "RELEASE_DUPLICATE_REQUEST",
                         "release request " + hex + " already exists"));
  }
  std::size_t open = 0;
  for (const auto& [id, e] : requests_) {
    if (e.notice.requester == node_id && e.status.state == "pending") ++open;
  }
  if (open >= options_.max_per_node || !MakeRoom()) {
    return refuse(Status(Code::kResourceExhausted, "RELEASE_REQUEST_LIMIT",
                         "node " + node_id + " has " + std::to_string(open) +
                             " undecided release requests (or the broker holds its maximum); "
                             "wait for answers before asking again"));
  }
  const Certificate* originator = directory_.FindNode(stored.originator);
  Entry e;
  e.notice.ask = std::move(ask).value();
  e.notice.requester = node_id;
  e.notice.requester_nation = requester->fields().nation;
  e.notice.requested_unix = clock_.UnixNow();
  e.originator = stored.originator;
  e.originator_nation = originator ? originator->fields().nation : "";
  e.order = next_order_++;
  ReleaseRequestedRecord record{hex,
                                report_hex,
                                e.notice.ask.portion,
                                e.originator,
                                node_id,
                                e.notice.requester_nation,
                                e.notice.ask.to_nation,
                                e.notice.ask.why};
  auto seq = auditor_.Durable(auditor_.ReleaseRequested(record));
  if (!seq) return out;  // The audit log failed: the broker is stopping.
  ReleaseStatusInfo& s = e.status;
  s.request_id = e.notice.ask.request_id;
  s.report_id = e.notice.ask.report_id;
  s.portion = e.notice.ask.portion;
  s.to_nation = e.notice.ask.to_nation;
  s.state = "pending";
  s.requester = node_id;
  s.originator = e.originator;
  s.requested_unix = e.notice.requested_unix;
  s.record_seq = *seq;
  spdlog::info("event=release_requested request={} report={} portion={} requester={} to={}", hex,
               report_hex, s.portion, node_id, s.to_nation);
  // Audited first, like an accepted report: a request the store did not take is refused.
  if (Status st = Persist(hex, e); !st.ok()) return refuse(st);
  out.frames.push_back({node_id, EncodeReleaseStatus(rid, s), hex, false, false});
  out.frames.push_back(NoticeFrame(hex, e));
  requests_.emplace(hex, std::move(e));
  return out;
}

Status ReleaseDesk::CheckDecision(const std::string& sender, const ReleaseDecisionInfo& d,
                                  std::span<const std::uint8_t> body,
                                  std::span<const std::uint8_t> signature, const Entry& e) const {
  if (sender != e.originator) {
    return PermissionDenied("RELABEL_NOT_ORIGINATOR",
                            "node " + sender + " is not the originator (" + e.originator +
                                ") of report " + ToHex(e.notice.ask.report_id) +
                                "; only the originator decides on its release");
  }
  const Certificate* cert = directory_.FindNode(sender);
  if (cert == nullptr || signature.size() != kSignatureSize ||
      !VerifyWithDomain(cert->fields().signing_key, kReleaseDecisionDomain, body, signature)) {
    return Status(Code::kUnauthenticated, "RELABEL_BAD_SIGNATURE",
                  "the release decision is not signed by the originator's key");
  }
  if (d.report_id != e.notice.ask.report_id || d.portion != e.notice.ask.portion ||
      d.to_nation != e.notice.ask.to_nation) {
    return InvalidArgument(
        "RELABEL_MISMATCH",
        "the decision names another report, portion or nation than request " + ToHex(d.request_id));
  }
  return Status::Ok();
}

Status ReleaseDesk::CheckApproval(const Entry& e, const ReleaseDecisionInfo& d,
                                  std::span<const std::uint8_t> report) {
  auto label = ParseCanonicalPortion(d.label, policy_);
  if (!label.ok()) {
    return InvalidArgument("RELABEL_BAD_LABEL",
                           "the new label '" + d.label +
                               "' is not a canonical portion marking: " + label.status().message());
  }
  if (!label->noforn && !ControlsRelease(*label, policy_, e.originator_nation)) {
    return PermissionDenied("RELABEL_DROPS_ORIGINATOR",
                            "the new label " + d.label + " no longer releases to " +
                                e.originator_nation + ", the originator's own nation");
  }
  if (!d.sanitised) {
    auto stored = store_.FindReport(ToHex(e.notice.ask.report_id));
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) {
      return NotFound("RELEASE_UNKNOWN_REPORT", "the original report is no longer held");
    }
    bool unused = false;
    auto holders = HoldersOf(**stored, e.notice.ask.portion, "", &unused);
    if (!holders.ok()) return holders.status();
    for (const std::string& nation : *holders) {
      if (!ControlsRelease(*label, policy_, nation) || label->noforn) {
        return PermissionDenied("RELABEL_DROPS_HOLDER", "the new label " + d.label +
                                                            " would take the portion away from " +
                                                            nation + ", which already holds it");
      }
    }
  }
  auto to =
      DecideRelease(*label, Recipient{d.to_nation, std::nullopt, e.originator_nation}, policy_);
  if (!to.ok() || !to->release) {
    return PermissionDenied(
        "RELABEL_NOT_RELEASED",
        "the new label " + d.label + " does not release the portion to " + d.to_nation);
  }
  const Certificate* cert = directory_.FindNode(e.originator);
  if (cert == nullptr) {
    return PermissionDenied("RELABEL_NOT_ORIGINATOR", "the originator is no longer certified");
  }
  auto view = InspectReport(report, cert->fields().signing_key);
  if (!view.ok()) {
    return InvalidArgument("RELABEL_MISMATCH",
                           "the release report does not verify: " + view.status().message());
  }
  if (view->originator != e.originator ||
      std::vector<std::uint8_t>(view->report_id.begin(), view->report_id.end()) !=
          d.release_report_id ||
      view->portions.size() != 1 || view->portions[0].label != d.label) {
    return InvalidArgument("RELABEL_MISMATCH",
                           "the release report must be the originator's, carry the decision's "
                           "report id and exactly one portion with the new label");
  }
  return Status::Ok();
}

ReleaseEffects ReleaseDesk::Decide(const std::string& node_id, std::uint64_t rid,
                                   const schema::ReleaseDecision& decision) {
  ReleaseEffects out;
  auto refuse = [&](Status why) {
    out.refusal = std::move(why);
    return out;
  };
  const auto* body = decision.decision();
  const auto* signature = decision.signature();
  if (body == nullptr || signature == nullptr) {
    return refuse(InvalidArgument("RELEASE_MALFORMED",
                                  "release frame: a decision needs its body and signature"));
  }
  const std::span<const std::uint8_t> body_bytes(body->data(), body->size());
  auto d = DecodeReleaseDecisionBody(body_bytes);
  if (!d.ok()) return refuse(d.status());
  out.report_id_hex = ToHex(d->report_id);
  const std::string hex = ToHex(d->request_id);
  auto it = requests_.find(hex);
  if (it == requests_.end()) {
    return refuse(NotFound("RELEASE_UNKNOWN_REQUEST",
                           "no undecided release request " + hex + " (it may predate a restart)"));
  }
  Entry& e = it->second;
  if (e.status.state != "pending") {
    return refuse(Status(Code::kAlreadyExists, "RELEASE_REPLAYED",
                         "release request " + hex + " was already " + e.status.state +
                             "; a decision is accepted once"));
  }
  if (Status st = CheckDecision(node_id, *d, body_bytes, {signature->data(), signature->size()}, e);
      !st.ok()) {
    return refuse(st);
  }
  if (d->approved) {
    const auto* report = decision.report();
    const std::span<const std::uint8_t> report_bytes =
        report ? std::span<const std::uint8_t>(report->data(), report->size())
               : std::span<const std::uint8_t>();
    if (Status st = CheckApproval(e, *d, report_bytes); !st.ok()) return refuse(st);
    SubmitEffects routed = submits_.Submit(node_id, rid, report_bytes);
    if (Status st = SubmitOutcome(routed); !st.ok()) return refuse(st);
    out.deliveries = std::move(routed.deliveries);
    released_[PortionKey(ToHex(d->report_id), d->portion)].insert(d->to_nation);
    if (Status st = store_.AddReleased({ToHex(d->report_id), d->portion, d->to_nation}); !st.ok()) {
      spdlog::error("event=release_store_failed request={} reason={}", hex, st.reason());
    }
  }
  ReleaseDecisionFields fields;
  fields.request_id = hex;
  fields.report_id = ToHex(d->report_id);
  fields.portion = d->portion;
  fields.originator = e.originator;
  fields.requester = e.notice.requester;
  fields.to_nation = d->to_nation;
  fields.decision = d->approved ? "approved" : "denied";
  if (d->approved) {
    fields.label = d->label;
    fields.release_report_id = ToHex(d->release_report_id);
    if (!d->rule.empty()) fields.rule = d->rule;
  } else {
    fields.explanation = d->explanation;
  }
  fields.requested = e.notice.requested_unix;
  fields.signature = ToHex({signature->data(), signature->size()});
  // The signed bytes themselves: an auditor checks the decision against the originator's
  // certificate without trusting the broker (core/audit release_decision_check.h).
  fields.decision_body = Base64Encode(body_bytes);
  auto seq = auditor_.Durable(auditor_.ReleaseDecision(fields, d->approved && d->sanitised));
  if (!seq) {
    out.deliveries.clear();  // The broker is stopping: nothing may take effect.
    return out;
  }
  ReleaseStatusInfo& s = e.status;
  s.state = d->approved ? "approved" : "denied";
  if (!d->approved) {
    s.reason = "RELEASE_DENIED";
    s.explanation = d->explanation;
  }
  s.label = d->approved ? d->label : "";
  s.release_report_id = d->release_report_id;
  s.sanitised = d->approved && d->sanitised;
  s.rule = d->approved ? d->rule : "";
  s.decided_unix = clock_.UnixNow();
  s.record_seq = *seq;
  e.originator_told = true;
  (void)Persist(hex, e);  // The decision took effect and is audited; a failure is logged.
  spdlog::info("event=release_decided request={} decision={} rule={} sanitised={} record={}", hex,
               s.state, s.rule.empty() ? "-" : s.rule, s.sanitised, *seq);
  out.frames.push_back({node_id, EncodeReleaseStatus(rid, s), hex, false, false});
  out.frames.push_back(StatusFrame(hex, e));
  return out;
}

}  // namespace tearline::broker
