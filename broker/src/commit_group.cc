#include "tearline/broker/commit_group.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace tearline::broker {

CommitGroup::CommitGroup(Auditor& auditor, ReportStore& store, Transmit transmit,
                         std::function<void()> on_failure, const Clock& clock, Limits limits)
    : auditor_(auditor),
      store_(store),
      transmit_(std::move(transmit)),
      on_failure_(std::move(on_failure)),
      clock_(clock),
      limits_(limits) {}

void CommitGroup::Open() {
  if (open_) return;
  open_ = true;
  opened_at_ = clock_.Now();
  auditor_.BeginGroup();
  store_.BeginGroup();
}

Status CommitGroup::Close() {
  if (!open_) {
    if (!retry_.empty()) SendHeld({});
    return Status::Ok();
  }
  open_ = false;
  std::vector<Held> held = std::move(held_);
  held_.clear();
  held_bytes_ = 0;
  if (!held.empty()) {
    ++counters_.groups;
    counters_.frames += held.size();
    counters_.largest_group = std::max<std::uint64_t>(counters_.largest_group, held.size());
  }
  if (!auditor_.EndGroup()) {
    // The auditor has already stopped the broker; nothing of this group may take effect.
    store_.AbortGroup();
    spdlog::critical("event=commit_group_dropped frames={} (audit log failed)", held.size());
    return auditor_.failure();
  }
  if (Status st = store_.CommitGroup(); !st.ok()) {
    // The records are durable but the rows are not: the same state as a crash between the two,
    // which start-up recovers. Answering now would promise what the store does not hold.
    spdlog::critical("event=store_commit_failed reason={} frames={}; stopping", st.reason(),
                     held.size());
    if (failure_.ok()) failure_ = st;
    if (on_failure_) on_failure_();
    return st;
  }
  SendHeld(std::move(held));
  return Status::Ok();
}

void CommitGroup::SendHeld(std::vector<Held> held) {
  // Answers a full pipe refused last time go first, so a node's answers keep their order.
  std::vector<Held> again = std::move(retry_);
  retry_.clear();
  for (Held& h : held) again.push_back(std::move(h));
  std::size_t dropped = 0;
  for (Held& h : again) {
    if (transmit_(h.node_id, h.frame)) continue;
    if (h.on_unsent) {
      h.on_unsent();  // A Deliver: the copy stays pending and goes out with a later fill.
    } else if (++h.attempts < kMaxAttempts && retry_.size() < kMaxRetry) {
      retry_.push_back(std::move(h));  // An answer: a whole batch's replies can outrun the pipe.
    } else {
      ++dropped;  // The node's retry is answered from the store.
    }
  }
  if (dropped > 0) {
    counters_.unsent += dropped;
    spdlog::warn("event=commit_group_unsent frames={}", dropped);
  }
}

bool CommitGroup::Due() const {
  return open_ &&
         (held_bytes_ >= limits_.max_held_bytes || clock_.Now() - opened_at_ >= limits_.max_open);
}

bool CommitGroup::SendTo(const std::string& node_id, const std::vector<std::uint8_t>& frame) {
  return SendTracked(node_id, frame, {});
}

bool CommitGroup::SendTracked(const std::string& node_id, const std::vector<std::uint8_t>& frame,
                              std::function<void()> on_unsent) {
  if (!open_) return transmit_(node_id, frame);
  held_bytes_ += frame.size();
  held_.push_back({node_id, frame, std::move(on_unsent)});
  return true;
}

}  // namespace tearline::broker
