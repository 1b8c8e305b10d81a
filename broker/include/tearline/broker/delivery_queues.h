// DeliveryQueues: the life of every stored copy after its report was committed. Copies stay
// pending in the ReportStore until the recipient's signed Ack arrives; they are sent when the
// submit pipeline stores them for an online node, flushed when the node says Hello again (or
// comes back after the broker had given up on it), re-sent when unacknowledged, and removed
// (audited `expired`) once their report expires. Also answers an originator's TrackRequest from
// the stored copy states.
//
// Bounded per recipient. At most `window_copies` copies (and `window_bytes`, though always at
// least one copy) are in flight per recipient: sent and neither acknowledged nor refused. The
// rest wait on disk in the store, so a recipient that stays connected but does not read costs
// the broker one window of memory, not its whole queue. An Ack or a refusal frees a slot and the
// next copy goes out at once. A new connection (Hello) starts a new window from the head of the
// queue. An in-flight copy unacknowledged for `redeliver_after` is sent again, the wait doubling
// with each re-send (up to 64 times).
//
// Refusals. A recipient refuses a copy with an Error frame (naming the report id, or echoing the
// Deliver's request id). A permanent refusal (RefusalPolicy) counts; after `max_refusals` the
// copy is given up: audited once as `failed` with its report id and reason, its bytes dropped,
// and `track` shows it as failed. A transient refusal only delays the copy. A refused copy waits
// out a back-off (`redeliver_after`, doubling per refusal) while the queue behind it moves on:
// the queue is scanned from a per-recipient cursor in pages of ids (no bytes), so no number of
// stuck copies at its head keeps later ones from being sent. Refusals that match no copy in
// flight or pending are ignored (logged at debug level; never audited per frame).
//
// The first send of a queued copy is a release: it is audited (`delivered`, from_queue) durably
// before it happens. Re-sends of a copy already recorded as delivered are not audited again.
//
// Ownership: holds references to the store, auditor, directory, clock and sender (all must
// outlive it). Memory: per recipient, its window plus back-off state for its refused pending
// copies. Thread-safety: none; the broker's Run() thread only.
#ifndef TEARLINE_BROKER_DELIVERY_QUEUES_H_
#define TEARLINE_BROKER_DELIVERY_QUEUES_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/broker/auditor.h"
#include "tearline/broker/report_store.h"
#include "tearline/identity/directory.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {

// Where frames for a node go; implemented by the broker over its transport.
class FrameSender {
 public:
  virtual ~FrameSender() = default;
  // False when the frame could not be handed to the transport now (node unreachable, pipe
  // full); the caller keeps the copy pending.
  virtual bool SendTo(const std::string& node_id, const std::vector<std::uint8_t>& frame) = 0;
  // SendTo for a frame whose sender keeps state about it: a sender that holds frames back (see
  // CommitGroup) returns true at once and runs `on_unsent` if the frame could not be handed to
  // the transport after all. By default the frame is sent now and `on_unsent` never runs.
  virtual bool SendTracked(const std::string& node_id, const std::vector<std::uint8_t>& frame,
                           std::function<void()> on_unsent) {
    (void)on_unsent;
    return SendTo(node_id, frame);
  }
};

struct DeliveryOptions {
  // Copies in flight per recipient (sent, not yet acknowledged or refused).
  std::size_t window_copies = 32;
  // Their total bytes; a single larger copy is still sent alone.
  std::uint64_t window_bytes = std::uint64_t{16} << 20;
  // Permanent refusals of one copy before it is given up (`failed`).
  std::uint32_t max_refusals = 3;
  // An unacknowledged copy is sent again after this long (the node may have lost it with a
  // connection the broker had not yet noticed was gone; recipients de-duplicate by report id),
  // and a refused copy waits this long before its next attempt; both double per attempt.
  std::chrono::milliseconds redeliver_after{5000};
};

class DeliveryQueues {
 public:
  // Pending copy ids read per page, and rows examined per fill at most (bounds the work one
  // frame can cause; the cursor carries on next time).
  static constexpr std::size_t kPageSize = 64;
  static constexpr std::size_t kScanBudget = 1024;
  // Expired copies handled per sweep (the sweep runs at most once per second).
  static constexpr std::size_t kSweepBatch = 256;

  DeliveryQueues(ReportStore& store, Auditor& auditor, const Directory& directory,
                 const Clock& clock, FrameSender& sender, DeliveryOptions options = {});
  DeliveryQueues(const DeliveryQueues&) = delete;
  DeliveryQueues& operator=(const DeliveryQueues&) = delete;

  // Sends a copy the submit pipeline just stored (its release is already audited) when the
  // recipient's window has room; otherwise it waits in the store (false).
  bool Send(const std::string& node_id, const std::string& report_id_hex,
            const std::vector<std::uint8_t>& copy);
  // Fills the node's window from its pending copies. Without `due_only` (a new connection) the
  // window starts afresh from the head of the queue; with it, in-flight copies are re-sent
  // when due.
  void Flush(const std::string& node_id, bool due_only = false);
  // At most once a second (or every redeliver_after when shorter): Flush(due_only) for every
  // online node, so a copy queued or lost in a race with a reconnect still goes out without
  // waiting for the node's next Hello.
  void MaybeRedeliver(const std::vector<std::string>& online_nodes);
  // A recipient's Error frame answering Deliver `request_id` (see the class comment).
  void Refused(const std::string& node_id, std::uint64_t request_id, const schema::Error& error);
  // At most once a second: expires (audited) the pending copies of expired reports.
  void MaybeSweepExpired();

  // A recipient's Ack: signature checked against its certificate, then audited (durably) and
  // the copy marked acknowledged, and the window refilled. Repeated or stray acks are ignored.
  // Errors (to be rejected to
  // the node, with `report_id_hex` when known): ACK_MALFORMED, ACK_BAD_SIGNATURE.
  Status Acknowledge(const std::string& node_id, const schema::Ack& ack,
                     std::string* report_id_hex);
  // The TrackReply (or Error) frame answering an originator's TrackRequest. A node a copy was
  // released to gets TRACK_FORBIDDEN; any other node the TRACK_UNKNOWN_REPORT an id never
  // accepted gets, so a withheld report's existence is not disclosed.
  std::vector<std::uint8_t> Track(const std::string& node_id, std::uint64_t request_id,
                                  const schema::TrackRequest& request);

 private:
  struct InFlight {
    std::uint64_t delivery_id = 0;  // Request id of the last Deliver (a refusal may echo it).
    std::uint64_t bytes = 0;
    Clock::TimePoint last_sent{};
    std::uint32_t sends = 0;
  };
  struct Backoff {
    std::uint32_t permanent = 0;  // Permanent refusals so far.
    std::uint32_t attempts = 0;   // Refusals of any kind (sets the wait).
    Clock::TimePoint not_before{};
  };
  struct Recipient {
    std::map<std::string, InFlight> in_flight;  // Report id hex -> its send.
    std::uint64_t in_flight_bytes = 0;
    std::int64_t cursor = 0;                 // Store position the next scan starts after.
    std::map<std::string, Backoff> refused;  // Refused copies still pending.
  };

  // Sends from the queue until the window is full, the scan budget is spent or a send blocks.
  void Fill(const std::string& node_id);
  // One pending copy: audits and records its first release when queued, then sends it. False
  // when the window has no room for it or it could not be sent (stop filling).
  bool SendPending(const std::string& node_id, Recipient& r, const PendingId& p);
  void ResendDue(const std::string& node_id, Recipient& r);
  bool SendCopy(const std::string& node_id, Recipient& r, const std::string& report_id_hex,
                const std::vector<std::uint8_t>& copy);
  void Forget(const std::string& node_id, const std::string& report_id_hex);
  // A Deliver the sender accepted but could not hand over after all: its slot is freed (the
  // copy stays pending and goes out again with a later fill).
  void Unsent(const std::string& node_id, const std::string& report_id_hex,
              std::uint64_t delivery_id);
  void GiveUp(const std::string& node_id, const std::string& report_id_hex,
              const std::string& reason, std::uint32_t refusals);
  Clock::Duration Wait(std::uint32_t attempts) const;

  ReportStore& store_;
  Auditor& auditor_;
  const Directory& directory_;
  const Clock& clock_;
  FrameSender& sender_;
  const DeliveryOptions options_;
  // Deliver ids count up from 2^63, nodes number their own requests below it (PROTOCOL.md,
  // "Request ids"): a refusal echoing a Deliver's id (of its Ack) never answers a node's request.
  std::uint64_t next_delivery_id_ = std::uint64_t{1} << 63;
  Clock::TimePoint last_sweep_{};
  Clock::TimePoint last_redeliver_{};
  std::map<std::string, Recipient> recipients_;  // By node id.
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_DELIVERY_QUEUES_H_
