// DeliveryQueues: the life of every stored copy after its report was committed. Copies stay
// pending in the ReportStore until the recipient's signed Ack arrives; they are sent when the
// submit pipeline stores them for an online node, flushed when the node says Hello again (or
// comes back after the broker had given up on it), re-sent when unacknowledged for
// kRedeliverAfter, and removed (audited `expired`) once their report expires. Also answers an
// originator's TrackRequest from the stored copy states.
//
// The first send of a queued copy is a release: it is audited (`delivered`, from_queue) durably
// before it happens. Re-sends of a copy already recorded as delivered are not audited again.
//
// Ownership: holds references to the store, auditor, directory, clock and sender (all must
// outlive it). Thread-safety: none; the broker's Run() thread only.
#ifndef TEARLINE_BROKER_DELIVERY_QUEUES_H_
#define TEARLINE_BROKER_DELIVERY_QUEUES_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
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
};

class DeliveryQueues {
 public:
  // Copies re-sent per flush; the rest follow on the next one (bounds memory per flush).
  static constexpr std::size_t kFlushBatch = 256;
  // An unacknowledged copy is sent again after this long: the node may have lost it with a
  // connection the broker had not yet noticed was gone. Recipients de-duplicate by report id.
  static constexpr std::chrono::seconds kRedeliverAfter{5};
  // Expired copies handled per sweep (the sweep runs at most once per second).
  static constexpr std::size_t kSweepBatch = 256;

  DeliveryQueues(ReportStore& store, Auditor& auditor, const Directory& directory,
                 const Clock& clock, FrameSender& sender);
  DeliveryQueues(const DeliveryQueues&) = delete;
  DeliveryQueues& operator=(const DeliveryQueues&) = delete;

  // Sends a copy the submit pipeline just stored (its release is already audited).
  bool Send(const std::string& node_id, const std::string& report_id_hex,
            const std::vector<std::uint8_t>& copy);
  // Sends the node's pending copies. With `due_only`, copies already sent are skipped unless
  // unacknowledged for kRedeliverAfter.
  void Flush(const std::string& node_id, bool due_only = false);
  // At most once a second: Flush(due_only) for every online node, so a copy queued or lost in a
  // race with a reconnect still goes out without waiting for the node's next Hello.
  void MaybeRedeliver(const std::vector<std::string>& online_nodes);
  // At most once a second: expires (audited) the pending copies of expired reports.
  void MaybeSweepExpired();

  // A recipient's Ack: signature checked against its certificate, then audited (durably) and
  // the copy marked acknowledged. Repeated or stray acks are ignored. Errors (to be rejected to
  // the node, with `report_id_hex` when known): ACK_MALFORMED, ACK_BAD_SIGNATURE.
  Status Acknowledge(const std::string& node_id, const schema::Ack& ack,
                     std::string* report_id_hex);
  // The TrackReply (or Error) frame answering an originator's TrackRequest. A node a copy was
  // released to gets TRACK_FORBIDDEN; any other node the TRACK_UNKNOWN_REPORT an id never
  // accepted gets, so a withheld report's existence is not disclosed.
  std::vector<std::uint8_t> Track(const std::string& node_id, std::uint64_t request_id,
                                  const schema::TrackRequest& request);

 private:
  bool SendCopy(const std::string& node_id, const std::string& report_id_hex,
                const std::vector<std::uint8_t>& copy, Clock::TimePoint now);

  ReportStore& store_;
  Auditor& auditor_;
  const Directory& directory_;
  const Clock& clock_;
  FrameSender& sender_;
  std::uint64_t next_delivery_id_ = 1;
  Clock::TimePoint last_sweep_{};
  Clock::TimePoint last_redeliver_{};
  // (report id hex, node id) -> when its copy was last handed to the transport.
  std::map<std::pair<std::string, std::string>, Clock::TimePoint> last_sent_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_DELIVERY_QUEUES_H_
