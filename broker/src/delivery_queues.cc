#include "tearline/broker/delivery_queues.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "tearline/base/encoding.h"
#include "tearline/broker/refusal_policy.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"

namespace tearline::broker {

DeliveryQueues::DeliveryQueues(ReportStore& store, Auditor& auditor, const Directory& directory,
                               const Clock& clock, FrameSender& sender, DeliveryOptions options)
    : store_(store),
      auditor_(auditor),
      directory_(directory),
      clock_(clock),
      sender_(sender),
      options_(options) {}

Clock::Duration DeliveryQueues::Wait(std::uint32_t attempts) const {
  const std::uint32_t doublings = std::min<std::uint32_t>(attempts > 0 ? attempts - 1 : 0, 6);
  return std::chrono::duration_cast<Clock::Duration>(options_.redeliver_after) * (1 << doublings);
}

bool DeliveryQueues::SendCopy(const std::string& node_id, Recipient& r,
                              const std::string& report_id_hex,
                              const std::vector<std::uint8_t>& copy) {
  const std::uint64_t delivery_id = next_delivery_id_++;
  if (!sender_.SendTracked(node_id, EncodeDeliver(delivery_id, copy),
                           [this, node_id, report_id_hex, delivery_id] {
                             Unsent(node_id, report_id_hex, delivery_id);
                           })) {
    return false;
  }
  auto [it, inserted] = r.in_flight.try_emplace(report_id_hex);
  if (inserted) {
    it->second.bytes = copy.size();
    r.in_flight_bytes += copy.size();
  }
  it->second.delivery_id = delivery_id;
  it->second.last_sent = clock_.Now();
  ++it->second.sends;
  return true;
}

bool DeliveryQueues::Send(const std::string& node_id, const std::string& report_id_hex,
                          const std::vector<std::uint8_t>& copy) {
  Recipient& r = recipients_[node_id];
  const bool room =
      r.in_flight.size() < options_.window_copies &&
      (r.in_flight.empty() || r.in_flight_bytes + copy.size() <= options_.window_bytes);
  return room && SendCopy(node_id, r, report_id_hex, copy);
}

void DeliveryQueues::Flush(const std::string& node_id, bool due_only) {
  Recipient& r = recipients_[node_id];
  if (!due_only) {
    // A new connection: what was in flight on the old one is lost or will be acknowledged as a
    // duplicate, so the window starts afresh from the head of the queue.
    r.in_flight.clear();
    r.in_flight_bytes = 0;
    r.cursor = 0;
  } else {
    ResendDue(node_id, r);
  }
  Fill(node_id);
}

void DeliveryQueues::ResendDue(const std::string& node_id, Recipient& r) {
  const auto now = clock_.Now();
  for (auto it = r.in_flight.begin(); it != r.in_flight.end();) {
    if (now - it->second.last_sent < Wait(it->second.sends)) {
      ++it;
      continue;
    }
    auto copy = store_.FindCopy(it->first, node_id);
    if (!copy.ok()) {
      spdlog::error("event=pending_unreadable node={} reason={}", node_id, copy.status().reason());
      return;
    }
    if (!copy->has_value() || !IsPending((*copy)->state)) {
      r.in_flight_bytes -= it->second.bytes;
      it = r.in_flight.erase(it);
      continue;
    }
    const std::string id = it->first;
    ++it;  // SendCopy updates the entry in place.
    if (!SendCopy(node_id, r, id, (*copy)->bytes)) return;
  }
}

void DeliveryQueues::Fill(const std::string& node_id) {
  Recipient& r = recipients_[node_id];
  const auto now = clock_.Now();
  std::size_t scanned = 0;
  bool wrapped = r.cursor == 0;
  while (r.in_flight.size() < options_.window_copies && scanned < kScanBudget) {
    auto page = store_.PendingIdsFor(node_id, r.cursor, kPageSize);
    if (!page.ok()) {
      spdlog::error("event=pending_unreadable node={} reason={}", node_id, page.status().reason());
      return;
    }
    if (page->empty()) {
      // The end of the queue: start again from its head once, for copies whose wait is over.
      if (wrapped) return;
      r.cursor = 0;
      wrapped = true;
      continue;
    }
    for (const PendingId& p : *page) {
      ++scanned;
      if (!r.in_flight.contains(p.report_id)) {
        auto refused = r.refused.find(p.report_id);
        const bool waiting = refused != r.refused.end() && now < refused->second.not_before;
        if (!waiting && !SendPending(node_id, r, p)) return;  // Cursor stays before `p`.
      }
      r.cursor = p.position;
      if (r.in_flight.size() >= options_.window_copies) return;
    }
  }
}

bool DeliveryQueues::SendPending(const std::string& node_id, Recipient& r, const PendingId& p) {
  if (!r.in_flight.empty() && r.in_flight_bytes + p.size > options_.window_bytes) return false;
  if (p.state == CopyState::kQueued) {
    // The first send of a stored copy is a release: audited (durably) before it happens.
    auto seq = auditor_.Durable(auditor_.DeliveredFromQueue(p.report_id, node_id));
    if (!seq) return false;
    auto set =
        store_.SetState(p.report_id, node_id, CopyState::kDelivered, "", clock_.UnixNow(), *seq);
    if (!set.ok()) {
      spdlog::error("event=copy_state_failed report_id={} reason={}", p.report_id,
                    set.status().reason());
      return false;
    }
  }
  auto copy = store_.FindCopy(p.report_id, node_id);
  if (!copy.ok()) {
    spdlog::error("event=pending_unreadable node={} reason={}", node_id, copy.status().reason());
    return false;
  }
  if (!copy->has_value() || !IsPending((*copy)->state)) return true;  // Settled meanwhile.
  return SendCopy(node_id, r, p.report_id, (*copy)->bytes);
}

void DeliveryQueues::MaybeRedeliver(const std::vector<std::string>& online_nodes) {
  const auto now = clock_.Now();
  const Clock::Duration period = std::min<Clock::Duration>(
      std::chrono::seconds(1),
      std::chrono::duration_cast<Clock::Duration>(options_.redeliver_after));
  if (now - last_redeliver_ < period) return;
  last_redeliver_ = now;
  for (const std::string& id : online_nodes) Flush(id, /*due_only=*/true);
}

void DeliveryQueues::Forget(const std::string& node_id, const std::string& report_id_hex) {
  auto r = recipients_.find(node_id);
  if (r == recipients_.end()) return;
  auto it = r->second.in_flight.find(report_id_hex);
  if (it != r->second.in_flight.end()) {
    r->second.in_flight_bytes -= it->second.bytes;
    r->second.in_flight.erase(it);
  }
  r->second.refused.erase(report_id_hex);
}

void DeliveryQueues::Unsent(const std::string& node_id, const std::string& report_id_hex,
                            std::uint64_t delivery_id) {
  auto r = recipients_.find(node_id);
  if (r == recipients_.end()) return;
  auto it = r->second.in_flight.find(report_id_hex);
  // Only the send that failed: a later one of the same copy stays in flight.
  if (it == r->second.in_flight.end() || it->second.delivery_id != delivery_id) return;
  r->second.in_flight_bytes -= it->second.bytes;
  r->second.in_flight.erase(it);
}

void DeliveryQueues::Refused(const std::string& node_id, std::uint64_t request_id,
                             const schema::Error& error) {
  Recipient& r = recipients_[node_id];
  std::string id_hex;
  if (error.report_id() != nullptr && error.report_id()->size() == kReportIdBytes) {
    id_hex = ToHex({error.report_id()->data(), error.report_id()->size()});
  } else {
    // An older node names only the Deliver it answers.
    for (const auto& [id, f] : r.in_flight) {
      if (f.delivery_id == request_id) id_hex = id;
    }
  }
  const std::string reason = RecordedRefusalReason(error.reason() ? error.reason()->str() : "");
  auto copy = id_hex.empty() ? Result<std::optional<StoredCopy>>(std::optional<StoredCopy>())
                             : store_.FindCopy(id_hex, node_id, /*with_bytes=*/false);
  if (!copy.ok() || !copy->has_value() || !IsPending((*copy)->state)) {
    spdlog::debug("event=refusal_ignored node={} request={} reason={}", node_id, request_id,
                  reason);
    return;
  }
  auto in = r.in_flight.find(id_hex);
  if (in != r.in_flight.end()) {
    r.in_flight_bytes -= in->second.bytes;
    r.in_flight.erase(in);
  }
  Backoff& b = r.refused[id_hex];
  ++b.attempts;
  const RefusalKind kind = ClassifyRefusal(reason);
  if (kind == RefusalKind::kPermanent) ++b.permanent;
  spdlog::warn("event=delivery_refused node={} report_id={} reason={} kind={} refusals={}", node_id,
               id_hex, reason, kind == RefusalKind::kPermanent ? "permanent" : "transient",
               b.attempts);
  if (kind == RefusalKind::kPermanent && b.permanent >= options_.max_refusals) {
    GiveUp(node_id, id_hex, reason, b.permanent);
  } else {
    b.not_before = clock_.Now() + Wait(b.attempts);
  }
  Fill(node_id);
}

void DeliveryQueues::GiveUp(const std::string& node_id, const std::string& report_id_hex,
                            const std::string& reason, std::uint32_t refusals) {
  auto copy = store_.FindCopy(report_id_hex, node_id, /*with_bytes=*/false);
  auto report = store_.FindReport(report_id_hex);
  if (!copy.ok() || !copy->has_value() || !report.ok() || !report->has_value()) {
    spdlog::error("event=copy_lookup_failed report_id={} node={}", report_id_hex, node_id);
    return;
  }
  auto seq = auditor_.Durable(auditor_.Failed(report_id_hex, (*report)->originator, node_id,
                                              (*copy)->nation, reason, refusals));
  if (!seq) return;
  Forget(node_id, report_id_hex);
  auto set =
      store_.SetState(report_id_hex, node_id, CopyState::kFailed, reason, clock_.UnixNow(), *seq);
  if (!set.ok()) {
    spdlog::error("event=copy_state_failed report_id={} reason={}", report_id_hex,
                  set.status().reason());
  }
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
    Forget(e.node_id, e.report_id);
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
  auto copy = store_.FindCopy(id_hex, node_id, /*with_bytes=*/false);
  if (!copy.ok()) {
    spdlog::error("event=ack_lookup_failed report_id={} node={} reason={}", id_hex, node_id,
                  copy.status().reason());
    return Status::Ok();
  }
  if (!copy->has_value() || !IsPending((*copy)->state)) return Status::Ok();  // Repeated/stray.
  auto seq = auditor_.Durable(auditor_.Acknowledged(id_hex, node_id, signature));
  if (!seq) return Status::Ok();
  Forget(node_id, id_hex);
  auto set = store_.SetState(id_hex, node_id, CopyState::kAcknowledged, "", clock_.UnixNow(), *seq);
  if (!set.ok()) {
    spdlog::error("event=ack_record_failed report_id={} reason={}", id_hex, set.status().reason());
  }
  Fill(node_id);  // The slot it held goes to the next copy.
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
    auto copy = store_.FindCopy(id_hex, node_id, /*with_bytes=*/false);
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
