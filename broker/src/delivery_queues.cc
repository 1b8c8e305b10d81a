#include "tearline/broker/delivery_queues.h"

#include <spdlog/spdlog.h>

#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"

namespace tearline::broker {

DeliveryQueues::DeliveryQueues(ReportStore& store, Auditor& auditor, const Directory& directory,
                               const Clock& clock, FrameSender& sender)
    : store_(store), auditor_(auditor), directory_(directory), clock_(clock), sender_(sender) {}

bool DeliveryQueues::SendCopy(const std::string& node_id, const std::string& report_id_hex,
                              const std::vector<std::uint8_t>& copy, Clock::TimePoint now) {
  if (!sender_.SendTo(node_id, EncodeDeliver(next_delivery_id_++, copy))) return false;
  last_sent_[{report_id_hex, node_id}] = now;
  return true;
}

bool DeliveryQueues::Send(const std::string& node_id, const std::string& report_id_hex,
                          const std::vector<std::uint8_t>& copy) {
  return SendCopy(node_id, report_id_hex, copy, clock_.Now());
}

void DeliveryQueues::Flush(const std::string& node_id, bool due_only) {
  auto pending = store_.PendingFor(node_id, kFlushBatch);
  if (!pending.ok()) {
    spdlog::error("event=pending_unreadable node={} reason={}", node_id, pending.status().reason());
    return;
  }
  const auto now = clock_.Now();
  for (const PendingCopy& p : *pending) {
    if (due_only && p.state == CopyState::kDelivered) {
      auto sent = last_sent_.find({p.report_id, node_id});
      if (sent != last_sent_.end() && now - sent->second < kRedeliverAfter) continue;
    }
    if (p.state == CopyState::kQueued) {
      // The first send of a stored copy is a release: audited (durably) before it happens.
      auto seq = auditor_.Durable(auditor_.DeliveredFromQueue(p.report_id, node_id));
      if (!seq) return;
      auto set =
          store_.SetState(p.report_id, node_id, CopyState::kDelivered, "", clock_.UnixNow(), *seq);
      if (!set.ok()) {
        spdlog::error("event=copy_state_failed report_id={} reason={}", p.report_id,
                      set.status().reason());
        return;
      }
    }
    if (!SendCopy(node_id, p.report_id, p.bytes, now)) break;
  }
}

void DeliveryQueues::MaybeRedeliver(const std::vector<std::string>& online_nodes) {
  const auto now = clock_.Now();
  if (now - last_redeliver_ < std::chrono::seconds(1)) return;
  last_redeliver_ = now;
  for (const std::string& id : online_nodes) Flush(id, /*due_only=*/true);
}

void DeliveryQueues::MaybeSweepExpired() {
  const auto now = clock_.Now();
  if (now - last_sweep_ < std::chrono::seconds(1)) return;
  last_sweep_ = now;
  const std::int64_t now_unix = clock_.UnixNow();
  auto expired = store_.SelectExpired(now_unix, kSweepBatch);
  if (!expired.ok()) {
    spdlog::error("event=expiry_sweep_failed reason={}", expired.status().reason());
    return;
  }
  if (expired->empty()) return;
  std::vector<std::uint64_t> seqs;
  for (const ExpiredCopy& e : *expired) {
    auto seq = auditor_.Expired(e);
    if (!seq) return;
    seqs.push_back(*seq);
  }
  if (!auditor_.Sync()) return;
  for (std::size_t i = 0; i < expired->size(); ++i) {
    const ExpiredCopy& e = (*expired)[i];
    last_sent_.erase({e.report_id, e.node_id});
    auto set = store_.SetState(e.report_id, e.node_id, CopyState::kExpired, "REPORT_EXPIRED",
                               now_unix, seqs[i]);
    if (!set.ok()) {
      spdlog::error("event=expire_failed report_id={} reason={}", e.report_id,
                    set.status().reason());
    }
  }
}

Status DeliveryQueues::Acknowledge(const std::string& node_id, const schema::Ack& ack,
                                   std::string* report_id_hex) {
  const Certificate* cert = directory_.FindNode(node_id);
  if (cert == nullptr || ack.report_id() == nullptr || ack.signature() == nullptr ||
      ack.report_id()->size() != kReportIdBytes) {
    return InvalidArgument("ACK_MALFORMED", "acknowledgement is malformed");
  }
  std::span<const std::uint8_t> id(ack.report_id()->data(), ack.report_id()->size());
  std::span<const std::uint8_t> signature(ack.signature()->data(), ack.signature()->size());
  const std::string id_hex = ToHex(id);
  *report_id_hex = id_hex;
  if (!VerifyWithDomain(cert->fields().signing_key, kAckDomain, AckMessage(id, node_id),
                        signature)) {
    return Unauthenticated("ACK_BAD_SIGNATURE", "acknowledgement signature does not verify");
  }
  auto copy = store_.FindCopy(id_hex, node_id);
  if (!copy.ok()) {
    spdlog::error("event=ack_lookup_failed report_id={} node={} reason={}", id_hex, node_id,
                  copy.status().reason());
    return Status::Ok();
  }
  if (!copy->has_value() || !IsPending((*copy)->state)) return Status::Ok();  // Repeated/stray.
  auto seq = auditor_.Durable(auditor_.Acknowledged(id_hex, node_id, signature));
  if (!seq) return Status::Ok();
  last_sent_.erase({id_hex, node_id});
  auto set = store_.SetState(id_hex, node_id, CopyState::kAcknowledged, "", clock_.UnixNow(), *seq);
  if (!set.ok()) {
    spdlog::error("event=ack_record_failed report_id={} reason={}", id_hex, set.status().reason());
  }
  return Status::Ok();
}

std::vector<std::uint8_t> DeliveryQueues::Track(const std::string& node_id,
                                                std::uint64_t request_id,
                                                const schema::TrackRequest& request) {
  if (request.report_id() == nullptr || request.report_id()->size() != kReportIdBytes) {
    return EncodeError(request_id,
                       InvalidArgument("WIRE_MALFORMED", "TrackRequest needs a 16-byte id"));
  }
  std::span<const std::uint8_t> id(request.report_id()->data(), request.report_id()->size());
  const std::string id_hex = ToHex(id);
  auto report = store_.FindReport(id_hex);
  if (!report.ok()) return EncodeError(request_id, report.status());
  const Status unknown = NotFound("TRACK_UNKNOWN_REPORT", "the broker holds no report " + id_hex);
  if (!report->has_value()) return EncodeError(request_id, unknown);
  if ((*report)->originator != node_id) {
    // Only a node a copy was released to may learn that the report exists; to any other node
    // (a wholly denied recipient, a stranger) it must look like an id never accepted.
    auto copy = store_.FindCopy(id_hex, node_id);
    const bool released = copy.ok() && copy->has_value() && (*copy)->state != CopyState::kDenied;
    return EncodeError(request_id, released ? PermissionDenied("TRACK_FORBIDDEN",
                                                               "only the originator may track "
                                                               "report " +
                                                                   id_hex)
                                            : unknown);
  }
  auto copies = store_.Copies(id_hex);
  if (!copies.ok()) return EncodeError(request_id, copies.status());
  TrackReplyInfo info;
  info.report_id.assign(id.begin(), id.end());
  for (const StoredCopy& c : *copies) {
    info.recipients.push_back({c.node_id, c.nation, std::string(CopyStateName(c.state)), c.reason,
                               c.updated_unix, c.record_seq});
  }
  return EncodeTrackReply(request_id, info);
}

}  // namespace tearline::broker
