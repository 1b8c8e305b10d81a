#include "tearline/node/queries.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>
#include <vector>

#include "tearline/envelope/envelope.h"
#include "tearline/node/pending_sends.h"

namespace tearline::node {
namespace {

std::vector<std::uint8_t> IdBytes(const std::string& hex) {
  std::vector<std::uint8_t> out(kReportIdBytes);
  std::size_t len = 0;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != out.size()) {
    return {};
  }
  return out;
}

std::string OutcomeDescription(const RecipientOutcomeInfo& o) {
  const std::string who = o.node_id.empty() ? o.nation : o.node_id;
  switch (o.state) {
    case schema::DeliveryState::Delivered:
      return "delivered to " + who;
    case schema::DeliveryState::Queued:
      return "queued for " + who;
    default:
      return "denied to " + who;
  }
}

}  // namespace

Queries::Queries(const Clock& clock, std::string broker_endpoint, std::string broker_id,
                 PublicKey broker_signing_key, QuerySources sources, LogWitness& witness,
                 BrokerChannel& broker, ControlReplier& replier)
    : clock_(clock),
      endpoint_(std::move(broker_endpoint)),
      broker_id_(std::move(broker_id)),
      broker_key_(broker_signing_key),
      sources_(sources),
      witness_(witness),
      broker_(broker),
      replier_(replier) {}

void Queries::ReplyError(const std::string& client, const Status& s) {
  replier_.Reply(client, EncodeErrorResponse(s));
}

Result<std::string> Queries::ResolveReportId(const std::string& raw, bool include_inbox) const {
  std::string id = raw;
  for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (id.size() < 4 || id.size() > 32 ||
      id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return InvalidArgument("REPORT_BAD_ID",
                           "a report id is 32 hex characters (a unique prefix of at least 4 "
                           "characters is accepted)");
  }
  std::set<std::string> candidates;
  auto consider = [&](const std::vector<std::string>& ids) {
    for (const auto& c : ids) {
      if (c.rfind(id, 0) == 0) candidates.insert(c);
    }
  };
  if (auto l = sources_.sent->List(); l.ok()) consider(*l);
  consider(sources_.outbox->Ids());
  if (include_inbox) {
    if (auto l = sources_.inbox->List(); l.ok()) {
      std::vector<std::string> ids;
      for (const auto& e : *l) ids.push_back(e.report_id_hex);
      consider(ids);
    }
  }
  if (candidates.size() > 1) {
    return InvalidArgument("REPORT_AMBIGUOUS_ID",
                           "report id prefix " + id + " matches more than one report");
  }
  if (candidates.empty()) {
    if (id.size() == 32) return id;  // Unknown locally; the broker may still know it.
    return NotFound("REPORT_NOT_FOUND", "no report " + id + "... was sent or received here");
  }
  return *candidates.begin();
}

bool Queries::HasCapacity(const std::string& client) {
  if (queries_.size() < kMaxPendingQueries) return true;
  ReplyError(client, Status(Code::kResourceExhausted, "NODE_BUSY",
                            "too many track/prove requests in progress; retry shortly"));
  return false;
}

void Queries::StartTrack(const std::string& client, const ControlRequest& req) {
  auto id = ResolveReportId(req.id, /*include_inbox=*/false);
  if (!id.ok()) return ReplyError(client, id.status());
  if (!broker_.welcomed()) {
    return ReplyError(client, Status(Code::kUnavailable, "BROKER_UNAVAILABLE",
                                     "the broker at " + endpoint_ +
                                         " is not reachable; only it knows what became of "
                                         "report " +
                                         *id + ". Retry when connected"));
  }
  if (!HasCapacity(client)) return;
  Pending q;
  q.op = ControlOp::kTrack;
  q.client = client;
  q.deadline = clock_.Now() + kQueryDeadline;
  q.report_id_hex = *id;
  q.track_rid = broker_.NewRequestId();
  if (!broker_.Send(EncodeTrackRequest(q.track_rid, IdBytes(*id)))) {
    return ReplyError(client, BrokerUnavailable(endpoint_, "no connection"));
  }
  queries_.push_back(std::move(q));
}

void Queries::PlanProofs(const ControlRequest& req, Pending& q) const {
  const std::string& id = q.report_id_hex;
  std::set<std::uint64_t> seen;
  if (req.seq) {
    ProofItem item;
    item.seq = *req.seq;
    item.description = "record " + std::to_string(*req.seq);
    q.result.items.push_back(item);
  } else if (auto rec = sources_.sent->Get(id); rec.ok()) {
    for (const auto& o : rec->outcomes) {
      if (o.record_seq == 0 || !seen.insert(o.record_seq).second) continue;
      if (q.result.items.size() >= kMaxProofsPerQuery) break;
      ProofItem item;
      item.seq = o.record_seq;
      item.description = OutcomeDescription(o);
      q.result.items.push_back(item);
    }
    if (q.result.items.empty()) {
      q.result.note = rec->accepted ? "the broker's answer for report " + id +
                                          " named no audit record; nothing to prove"
                                    : "the broker rejected report " + id + " (" +
                                          rec->error_reason + "); no audit record to prove";
    }
  } else if (sources_.outbox->Contains(id)) {
    q.result.note = "report " + id +
                    " is still in the outbox (no final answer from the broker yet), so no "
                    "audit record number is known";
  } else if (sources_.inbox->Contains(id)) {
    q.result.note = "report " + id +
                    " was received by this node; the broker does not tell recipients which "
                    "audit records concern it, so no record number is known (give one with "
                    "--seq N)";
  } else {
    q.result.note = "report " + id + " is not known to this node";
  }
}

void Queries::StartProve(const std::string& client, const ControlRequest& req) {
  auto id = ResolveReportId(req.id, /*include_inbox=*/true);
  if (!id.ok()) return ReplyError(client, id.status());
  Pending q;
  q.op = ControlOp::kProve;
  q.client = client;
  q.deadline = clock_.Now() + kQueryDeadline;
  q.report_id_hex = *id;
  q.result.report_id_hex = *id;
  PlanProofs(req, q);
  if (q.result.items.empty()) return replier_.Reply(client, EncodeProveResponse(q.result));
  if (!broker_.welcomed()) {
    return ReplyError(client, Status(Code::kUnavailable, "BROKER_UNAVAILABLE",
                                     "the broker at " + endpoint_ +
                                         " is not reachable; it serves the proofs. Retry when "
                                         "connected"));
  }
  if (!HasCapacity(client)) return;
  for (std::size_t i = 0; i < q.result.items.size(); ++i) {
    const std::uint64_t rid = broker_.NewRequestId();
    if (!broker_.Send(EncodeProofRequest(rid, q.result.items[i].seq))) {
      return ReplyError(client, BrokerUnavailable(endpoint_, "no connection"));
    }
    q.proof_rids[rid] = i;
  }
  queries_.push_back(std::move(q));
}

Queries::Iter Queries::Find(std::uint64_t rid) {
  return std::find_if(queries_.begin(), queries_.end(), [&](const Pending& q) {
    return (q.op == ControlOp::kTrack && q.track_rid == rid) || q.proof_rids.count(rid) != 0;
  });
}

void Queries::OnTrackReply(std::uint64_t rid, TrackReplyInfo info) {
  auto q = Find(rid);
  if (q == queries_.end() || q->op != ControlOp::kTrack) {
    spdlog::warn("event=track_reply_unmatched request={}", rid);
    return;
  }
  TrackResult r;
  r.report_id_hex = q->report_id_hex;
  r.recipients = std::move(info.recipients);
  replier_.Reply(q->client, EncodeTrackResponse(r));
  queries_.erase(q);
}

void Queries::MaybeFinishProve(Iter q) {
  if (!q->proof_rids.empty()) return;
  std::size_t ok = 0;
  for (const auto& i : q->result.items) ok += i.verified ? 1 : 0;
  spdlog::info("event=proofs_checked report={} verified={} failed={}", q->report_id_hex, ok,
               q->result.items.size() - ok);
  replier_.Reply(q->client, EncodeProveResponse(q->result));
  queries_.erase(q);
}

void Queries::OnProofReply(std::uint64_t rid, const RecordProof& proof) {
  auto q = Find(rid);
  if (q == queries_.end() || q->op != ControlOp::kProve) {
    spdlog::warn("event=proof_reply_unmatched request={}", rid);
    return;
  }
  ProofItem& item = q->result.items[q->proof_rids[rid]];
  q->proof_rids.erase(rid);
  // The record must name the report asked about, also for an explicit --seq.
  auto v = VerifyRecordProof(proof, item.seq, q->report_id_hex, broker_id_, broker_key_);
  if (!v.ok()) {
    item.verified = false;
    item.reason = v.status().reason();
    item.message = v.status().message();
    spdlog::error("event=proof_failed report={} seq={} reason={} detail=\"{}\"", q->report_id_hex,
                  item.seq, item.reason, item.message);
    MaybeFinishProve(q);
    return;
  }
  item.description = v->description;
  item.checkpoint_size = v->checkpoint_size;
  item.signer = broker_id_;
  // The proof's checkpoint must not contradict the one this node cosigned.
  witness_.JudgeProofCheckpoint(v->checkpoint_size, v->checkpoint_root, item);
  MaybeFinishProve(q);
}

void Queries::OnError(std::uint64_t rid, const std::string& reason, const std::string& message) {
  auto q = Find(rid);
  if (q == queries_.end()) return;
  if (q->op == ControlOp::kTrack) {
    const Code code = reason == "TRACK_UNKNOWN_REPORT" ? Code::kNotFound
                      : reason == "TRACK_FORBIDDEN"    ? Code::kPermissionDenied
                                                       : Code::kUnavailable;
    ReplyError(q->client, Status(code, reason, "the broker says: " + message));
    queries_.erase(q);
    return;
  }
  ProofItem& item = q->result.items[q->proof_rids[rid]];
  q->proof_rids.erase(rid);
  item.verified = false;
  item.reason = reason;
  item.message = "the broker refused the proof: " + message;
  MaybeFinishProve(q);
}

void Queries::Tick() {
  const auto now = clock_.Now();
  for (auto it = queries_.begin(); it != queries_.end();) {
    if (now < it->deadline) {
      ++it;
      continue;
    }
    auto next = std::next(it);
    if (it->op == ControlOp::kTrack) {
      ReplyError(it->client, Status(Code::kUnavailable, "BROKER_NO_REPLY",
                                    "the broker did not answer the track request in time"));
      queries_.erase(it);
    } else {
      for (auto& [rid, index] : it->proof_rids) {
        auto& item = it->result.items[index];
        item.verified = false;
        item.reason = "BROKER_NO_REPLY";
        item.message = "the broker did not answer the proof request in time";
      }
      it->proof_rids.clear();
      MaybeFinishProve(it);
    }
    it = next;
  }
}

void Queries::StopAll() {
  for (auto& q : queries_) {
    ReplyError(q.client, Status(Code::kUnavailable, "NODE_STOPPING",
                                "the node daemon stopped before the broker answered"));
  }
  queries_.clear();
}

}  // namespace tearline::node
