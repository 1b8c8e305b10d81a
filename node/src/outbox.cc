#include "tearline/node/outbox.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "tearline/envelope/envelope.h"
#include "tearline/wire/wire.h"

namespace tearline::node {

Outbox::Outbox(const Clock& clock, OutboxStore& store, SentStore& sent, BrokerChannel& broker,
               OutboxListener& listener)
    : clock_(clock),
      store_(store),
      sent_(sent),
      broker_(broker),
      listener_(listener),
      pacer_(clock) {}

void Outbox::WhenDurable(std::function<void()> work) {
  if (commit_ == nullptr) return work();
  commit_->AfterDurable(std::move(work));
}

void Outbox::Load(const Inspector& inspect) {
  auto ids = store_.List();
  if (!ids.ok()) {
    spdlog::error("event=outbox_unreadable reason={} detail=\"{}\"", ids.status().reason(),
                  ids.status().message());
    return;
  }
  for (const auto& id : *ids) {
    auto bytes = store_.Get(id);
    if (!bytes.ok()) {
      spdlog::error("event=outbox_entry_unreadable report={} reason={}", id,
                    bytes.status().reason());
      continue;
    }
    auto meta = inspect(id, *bytes);
    if (!meta.ok()) {
      spdlog::error("event=outbox_entry_invalid report={} reason={}", id, meta.status().reason());
      continue;
    }
    if (meta->expires_unix <= clock_.UnixNow()) {
      DropExpired(id, meta->expires_unix);
      continue;
    }
    items_[id].meta = std::move(meta).value();
  }
  if (!items_.empty()) spdlog::info("event=outbox_loaded reports={}", items_.size());
}

Status Outbox::Add(const std::string& id, std::span<const std::uint8_t> bytes,
                   OutboxEntryMeta meta) {
  TEARLINE_RETURN_IF_ERROR(store_.Put(id, bytes));
  Item& item = items_[id];
  item.meta = std::move(meta);
  if (commit_ != nullptr) {
    item.durable = false;
    commit_->AfterDurable([this, id] {
      auto it = items_.find(id);
      if (it == items_.end()) return;
      it->second.durable = true;
      if (it->second.due) (void)SubmitNow(id);
    });
  }
  return Status::Ok();
}

std::vector<std::string> Outbox::Ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, item] : items_) ids.push_back(id);
  return ids;
}

void Outbox::DropExpired(const std::string& id, std::int64_t expires_unix) {
  spdlog::warn(
      "event=outbox_report_expired report={} expired_unix={} detail=\"dropped unsent: "
      "the report expired before the broker confirmed it\"",
      id, expires_unix);
  if (Status s = store_.Remove(id); !s.ok()) {
    spdlog::error("event=outbox_remove_failed report={} reason={}", id, s.reason());
  }
  items_.erase(id);
}

bool Outbox::Submit(const std::string& id, Item& item) {
  item.due = false;
  item.last_submit = clock_.Now();
  auto bytes = store_.Get(id);
  if (!bytes.ok()) {
    spdlog::error("event=outbox_entry_unreadable report={} reason={}", id, bytes.status().reason());
    return false;
  }
  const std::uint64_t rid = broker_.NewRequestId();
  if (!broker_.Send(EncodeSubmit(rid, *bytes))) {
    item.due = true;
    return false;
  }
  submit_rids_[rid] = id;
  spdlog::info("event=report_submit_sent report={} request={}", id, rid);
  return true;
}

bool Outbox::SubmitNow(const std::string& id) {
  auto it = items_.find(id);
  if (it == items_.end() || !broker_.welcomed()) return false;
  // Not durable yet, or over the pace: it stays due and leaves after the sync, or at a Tick.
  if (!it->second.durable || clock_.Now() < it->second.not_before || !pacer_.TryTake()) {
    return true;
  }
  return Submit(id, it->second);
}

void Outbox::OnSessionUp(std::chrono::milliseconds heartbeat) {
  for (auto& [id, item] : items_) item.due = true;
  submit_rids_.clear();
  Tick(heartbeat);
}

void Outbox::Tick(std::chrono::milliseconds heartbeat) {
  if (!broker_.welcomed() || items_.empty()) return;
  const std::int64_t now_unix = clock_.UnixNow();
  const auto now = clock_.Now();
  std::size_t done = 0;
  for (auto it = items_.begin(); it != items_.end() && done < kMaxResubmitsPerTick;) {
    auto& [id, item] = *it;
    if (item.meta.expires_unix <= now_unix) {
      const std::string gone = id;
      const std::int64_t expired = item.meta.expires_unix;
      ++it;
      listener_.OnOutboxFinal(gone, std::nullopt,
                              Status(Code::kExpired, "REPORT_EXPIRED",
                                     "report " + gone +
                                         " expired before the broker confirmed it; it was "
                                         "dropped from the outbox and NOT delivered"));
      DropExpired(gone, expired);
      continue;
    }
    const auto interval = heartbeat * kResubmitEveryHeartbeats * (1 << std::min(item.deferrals, 6));
    if (item.durable && now >= item.not_before &&
        (item.due || now - item.last_submit >= interval)) {
      if (!pacer_.TryTake()) break;  // Over the broker's rate: the rest waits for tokens.
      if (!Submit(id, item)) break;  // No connection: retry later.
      ++done;
    }
    ++it;
  }
}

void Outbox::OnSubmitReply(std::uint64_t rid, SubmitReplyInfo info) {
  std::string id;
  if (auto it = submit_rids_.find(rid); it != submit_rids_.end()) {
    id = it->second;
    submit_rids_.erase(it);
  } else if (info.report_id.size() == kReportIdBytes) {
    ReportId rep{};
    std::copy(info.report_id.begin(), info.report_id.end(), rep.begin());
    id = ReportIdHex(rep);
  }
  if (id.empty()) {
    spdlog::warn("event=submit_reply_unmatched request={}", rid);
    return;
  }
  OnAnswer(id, std::move(info));
}

void Outbox::OnError(std::uint64_t rid, const std::string& reason, const std::string& message) {
  auto it = submit_rids_.find(rid);
  if (it == submit_rids_.end()) return;
  const std::string id = it->second;
  submit_rids_.erase(it);
  SubmitReplyInfo info;
  info.accepted = false;
  info.error_reason = reason.empty() ? "BROKER_ERROR" : reason;
  info.error_message = message;
  OnAnswer(id, std::move(info));
}

void Outbox::RecordFinal(const std::string& id, const Item& item, const SubmitReplyInfo& info) {
  SentRecord rec;
  rec.report_id_hex = id;
  rec.banner = item.meta.banner;
  rec.accepted = info.accepted;
  rec.duplicate = info.duplicate;
  rec.error_reason = info.accepted ? "" : info.error_reason;
  rec.error_message = info.accepted ? "" : info.error_message;
  rec.submitted_unix = item.meta.submitted_unix;
  rec.replied_unix = clock_.UnixNow();
  rec.outcomes = info.outcomes;
  // The record first, then the outbox copy: a crash in between costs one more (duplicate)
  // submission, never a lost answer.
  if (Status st = sent_.Put(rec); !st.ok()) {
    spdlog::error("event=sent_record_store_failed report={} reason={} detail=\"{}\"", id,
                  st.reason(), st.message());
    return;
  }
  WhenDurable([this, id] {
    if (Status rm = store_.Remove(id); !rm.ok()) {
      spdlog::error("event=outbox_remove_failed report={} reason={}", id, rm.reason());
    }
  });
}

void Outbox::OnAnswer(const std::string& id, SubmitReplyInfo info) {
  auto item = items_.find(id);
  if (item == items_.end()) {
    // Already final (an earlier submit of the same bytes was answered first).
    spdlog::debug("event=submit_reply_for_settled_report report={}", id);
    return;
  }
  if (!info.accepted && IsTransientSubmitFailure(info.error_reason)) {
    spdlog::warn(
        "event=submit_deferred report={} reason={} detail=\"kept in the outbox; will "
        "resubmit with the same id\"",
        id, info.error_reason);
    item->second.last_submit = clock_.Now();
    const bool announced = pacer_.rate() != 0;
    if (info.error_reason == "RATE_LIMITED") pacer_.OnRateLimited();
    if (info.retry_after_ms > 0) {
      // The broker said when it can take it: due again then, without doubling anything.
      item->second.not_before = clock_.Now() + std::chrono::milliseconds(info.retry_after_ms);
      item->second.due = true;
    } else if (info.error_reason == "RATE_LIMITED" && announced) {
      // Paced, not backed off: due again at once, after the pacer's next token.
      item->second.due = true;
    } else {
      // Other refusals, and RATE_LIMITED from a broker that announced no rate: back off.
      ++item->second.deferrals;
    }
    listener_.OnOutboxDeferred(id, "the broker cannot take it now (" + info.error_reason + ": " +
                                       info.error_message + ")");
    return;
  }
  RecordFinal(id, item->second, info);
  const std::string banner = item->second.meta.banner;
  items_.erase(item);
  if (!info.accepted) {
    const std::string reason = info.error_reason.empty() ? "BROKER_REJECTED" : info.error_reason;
    spdlog::warn("event=submit_rejected report={} reason={}", id, reason);
    Status why(
        Code::kPermissionDenied, reason,
        "the broker rejected report " + id + ": " + info.error_message + "; nothing was delivered");
    // The sender hears the final answer once its record is durable.
    WhenDurable([this, id, why] { listener_.OnOutboxFinal(id, std::nullopt, why); });
    return;
  }
  SendResult r;
  r.report_id_hex = id;
  r.banner = banner;
  r.duplicate = info.duplicate;
  r.outcomes = std::move(info.outcomes);
  std::size_t delivered = 0;
  for (const auto& o : r.outcomes) {
    if (o.state != schema::DeliveryState::Denied) ++delivered;
  }
  spdlog::info("event=submit_accepted report={} recipients={} delivered_or_queued={} duplicate={}",
               id, r.outcomes.size(), delivered, r.duplicate);
  WhenDurable([this, id, r = std::move(r)] { listener_.OnOutboxFinal(id, r, Status::Ok()); });
}

}  // namespace tearline::node
