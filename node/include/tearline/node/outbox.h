// Outbox: sealed reports of this node awaiting the broker's final answer, on top of the durable
// OutboxStore and SentStore.
//
//   - a report is stored durably (Add) before its first Submit, and submitted with the exact
//     stored bytes every time, so its id never changes and the broker never routes it twice;
//   - after every new session (OnSessionUp) every report is resubmitted; while welcomed, Tick()
//     resubmits a report without an answer after 8 heartbeats, the interval doubling after each
//     transient refusal (see IsTransientSubmitFailure), up to 64 times; at most 16 reports are
//     handed over per call so a long outbox cannot starve the loop, and a refused send stops the
//     round (no connection: retry later);
//   - every Submit (first or again) is paced by the SubmitPacer at the rate the broker announced
//     (SetBrokerRate, from Welcome): a burst waits in the outbox and leaves at that rate. A
//     RATE_LIMITED answer from a broker that announced its rate does not double anything: the
//     report is due again at once and the pacer makes it wait one token (bounded by 1/rate).
//     From a broker that announced none it backs off as any transient refusal (and the pacer
//     applies its fallback rate). A refusal that carries the broker's retry-after hint
//     (BROKER_BUSY: its submit backlog is full) is due again once that time has passed, with
//     no doubling either: the broker said when it can take it;
//   - with the daemon's GroupCommit (UseGroupCommit) a report is first submitted only after the
//     batch sync made its outbox copy durable, and a final answer's sent record is durable
//     before the outbox copy is removed and the waiting sender is answered (the same order as
//     without it: the analyst hears "accepted" only once the broker accepted and the node
//     recorded it);
//   - a report whose expiry passes before a final answer is dropped (event=
//     outbox_report_expired) and its waiting sender told REPORT_EXPIRED;
//   - a final answer (accepted, also as a duplicate, or a definitive rejection) is recorded in
//     the SentStore first, then the outbox copy is removed: a crash in between costs one more
//     (duplicate) submission, never a lost answer.
// Answers reach the waiting sender through OutboxListener.
//
// Ownership: references the Clock, both stores, the channel and the listener (owned by the
// daemon). Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_OUTBOX_H_
#define TEARLINE_NODE_OUTBOX_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/node/broker_channel.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/group_commit.h"
#include "tearline/node/outbox_store.h"
#include "tearline/node/submit_pacer.h"

namespace tearline::node {

// An outbox report without a final answer is resubmitted after this many heartbeats.
inline constexpr int kResubmitEveryHeartbeats = 8;
// Reports (re)submitted per Tick.
inline constexpr std::size_t kMaxResubmitsPerTick = 16;

// What the outbox keeps in memory about a stored report.
struct OutboxEntryMeta {
  std::string banner;
  std::int64_t expires_unix = 0;
  std::int64_t submitted_unix = 0;
};

class OutboxListener {
 public:
  virtual ~OutboxListener() = default;
  // The answer for report `id` is final: `result` when accepted, else `error`.
  virtual void OnOutboxFinal(const std::string& id, std::optional<SendResult> result,
                             const Status& error) = 0;
  // The broker could not take report `id` now (`why`); it stays in the outbox.
  virtual void OnOutboxDeferred(const std::string& id, const std::string& why) = 0;
};

class Outbox {
 public:
  // Checks a stored report at start-up and describes it; an error skips the entry.
  using Inspector = std::function<Result<OutboxEntryMeta>(const std::string& id,
                                                          std::span<const std::uint8_t> bytes)>;

  Outbox(const Clock& clock, OutboxStore& store, SentStore& sent, BrokerChannel& broker,
         OutboxListener& listener);

  // Reads the stored reports (sealed before a crash or stop); expired ones are dropped.
  void Load(const Inspector& inspect);
  // Stores a freshly sealed report durably and tracks it. Errors: those of OutboxStore::Put.
  [[nodiscard]] Status Add(const std::string& id, std::span<const std::uint8_t> bytes,
                           OutboxEntryMeta meta);
  // Submits report `id` now if welcomed, durable and the pace allows; else leaves it due for
  // Tick. False when it could not be handed over (no session, or no connection took it).
  bool SubmitNow(const std::string& id);
  // The broker's announced submit rate (Welcome; 0: none).
  void SetBrokerRate(std::uint32_t per_second) { pacer_.SetRate(per_second); }
  // Writes wait for `commit`'s batch sync from now on (not owned; must outlive the outbox).
  void UseGroupCommit(GroupCommit* commit) { commit_ = commit; }
  const SubmitPacer& pacer() const { return pacer_; }
  // A new session: every report is due again; earlier request ids are forgotten.
  void OnSessionUp(std::chrono::milliseconds heartbeat);
  void Tick(std::chrono::milliseconds heartbeat);
  // The broker's SubmitReply for request `request_id`.
  void OnSubmitReply(std::uint64_t request_id, SubmitReplyInfo info);
  // An Error frame; ignored unless `request_id` is an outstanding Submit.
  void OnError(std::uint64_t request_id, const std::string& reason, const std::string& message);

  bool Contains(const std::string& id) const { return items_.count(id) != 0; }
  std::size_t size() const { return items_.size(); }
  std::vector<std::string> Ids() const;

 private:
  struct Item {
    OutboxEntryMeta meta;
    bool due = true;  // Submit at the next opportunity.
    Clock::TimePoint last_submit{};
    int deferrals = 0;    // Transient refusals so far: each doubles the resubmission interval.
    bool durable = true;  // False until the batch sync carried the outbox copy.
    Clock::TimePoint not_before{};  // A retry-after hint from the broker holds it until then.
  };
  // Runs `work` once what was written so far is durable (at once without a GroupCommit).
  void WhenDurable(std::function<void()> work);
  bool Submit(const std::string& id, Item& item);
  void DropExpired(const std::string& id, std::int64_t expires_unix);
  void OnAnswer(const std::string& id, SubmitReplyInfo info);
  void RecordFinal(const std::string& id, const Item& item, const SubmitReplyInfo& info);

  const Clock& clock_;
  OutboxStore& store_;
  SentStore& sent_;
  BrokerChannel& broker_;
  OutboxListener& listener_;
  std::map<std::string, Item> items_;                 // By report id hex.
  std::map<std::uint64_t, std::string> submit_rids_;  // Submit request id -> report id hex.
  SubmitPacer pacer_;
  GroupCommit* commit_ = nullptr;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_OUTBOX_H_
