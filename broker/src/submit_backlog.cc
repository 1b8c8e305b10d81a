#include "tearline/broker/submit_backlog.h"

#include <algorithm>
#include <utility>

#include "tearline/wire/wire.h"

namespace tearline::broker {

namespace {

// A hint below the time one round trip takes only brings the submission back to be refused
// again; one above ten seconds would idle a sender longer than any backlog the bounds allow.
constexpr std::chrono::milliseconds kMinRetryAfter(10);
constexpr std::chrono::milliseconds kMaxRetryAfter(10000);

}  // namespace

SubmitBacklog::SubmitBacklog(const Clock& clock, SubmitBacklogOptions options)
    : clock_(clock),
      options_(options),
      records_(clock, {.per_second = 1, .burst = 1, .max_keys = 4096}) {}

std::optional<SubmitBacklog::Refusal> SubmitBacklog::Offer(const std::string& node_id,
                                                           std::uint64_t request_id,
                                                           std::span<const std::uint8_t> frame) {
  auto it = queues_.find(node_id);
  const std::size_t mine = it == queues_.end() ? 0 : it->second.size();
  // The byte bound always lets one frame in, so the largest legal frame is never refused forever.
  const bool bytes_full = total_ > 0 && bytes_ + frame.size() > options_.max_bytes;
  if (mine >= options_.max_per_node || total_ >= options_.max_total || bytes_full) {
    Refusal r;
    r.retry_after_ms = RetryAfterMs();
    r.why = Status(Code::kResourceExhausted, "BROKER_BUSY",
                   "the broker has " + std::to_string(total_) + " submissions waiting (this node " +
                       std::to_string(mine) + "); submit again in " +
                       std::to_string(r.retry_after_ms) + " ms");
    SubmitReplyInfo reply;
    reply.error_reason = r.why.reason();
    reply.error_message = r.why.message();
    reply.retry_after_ms = r.retry_after_ms;
    r.reply = EncodeSubmitReply(request_id, reply);
    const RateLimiter::Decision record = records_.Take(node_id);
    r.record = record.allowed;
    r.suppressed = record.suppressed;
    return r;
  }
  if (it == queues_.end()) it = queues_.emplace(node_id, std::deque<Pending>{}).first;
  if (it->second.empty()) turn_order_.push_back(node_id);
  it->second.push_back(Pending{node_id, request_id, {frame.begin(), frame.end()}});
  ++total_;
  bytes_ += frame.size();
  return std::nullopt;
}

std::size_t SubmitBacklog::ServeTurn(const std::function<void(const Pending&)>& serve) {
  const Clock::TimePoint start = clock_.Now();
  std::size_t served = 0;
  while (!turn_order_.empty() && served < options_.max_per_turn &&
         (served == 0 || clock_.Now() - start < options_.turn_budget)) {
    const std::string node_id = std::move(turn_order_.front());
    turn_order_.pop_front();
    auto it = queues_.find(node_id);
    Pending next = std::move(it->second.front());
    it->second.pop_front();
    --total_;
    bytes_ -= next.frame.size();
    if (it->second.empty()) {
      queues_.erase(it);
    } else {
      turn_order_.push_back(node_id);
    }
    const Clock::TimePoint began = clock_.Now();
    serve(next);
    // An exponential moving average (1/8 weight): it follows a changing disk within a few
    // dozen submissions without one slow sync doubling the hint.
    per_submit_ += (clock_.Now() - began - per_submit_) / 8;
    ++served;
  }
  return served;
}

std::size_t SubmitBacklog::Drop(const std::string& node_id) {
  auto it = queues_.find(node_id);
  if (it == queues_.end()) return 0;
  const std::size_t n = it->second.size();
  for (const Pending& p : it->second) bytes_ -= p.frame.size();
  total_ -= n;
  queues_.erase(it);
  std::erase(turn_order_, node_id);
  return n;
}

std::uint32_t SubmitBacklog::RetryAfterMs() const {
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(
      per_submit_ * static_cast<std::int64_t>(std::max<std::size_t>(total_, 1)));
  return static_cast<std::uint32_t>(std::clamp(wait, kMinRetryAfter, kMaxRetryAfter).count());
}

}  // namespace tearline::broker
