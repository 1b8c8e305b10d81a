// CommitGroup: group commit for the broker. Everything decided while a group is open (by any
// number of Submits, Acks, fills from the queue, expiry) shares ONE audit sync and ONE store
// transaction, and every frame those decisions produce is held back until both are durable.
//
// Why: a decision may take effect (a reply, a Deliver, a store row another frame can see
// committed) only once its audit record is durable, and each sync costs a disk flush. The broker
// loop reads every frame that arrived while the previous group was being made durable, so under
// load one group carries many reports and the flushes per report fall with the load; when idle
// a group carries one frame and costs what a single decision did before.
//
// Order inside Close(), the crash ordering broker.h describes for one report, for the group:
//   1. the audit log is synced (Auditor::EndGroup): every record of the group is durable;
//   2. the store transaction commits (ReportStore::CommitGroup);
//   3. the held frames go to the transport in the order they were given.
// A crash before 2 leaves audit records without store rows, which start-up recovers (orphaned
// accepts; a copy recorded delivered but still queued is sent again). If 1 fails the auditor
// stops the broker; if 2 fails the group is rolled back and the broker is stopped the same way
// (`on_failure`): in both cases the held frames are dropped, so nobody learns of a decision that
// is not durable.
//
// While no group is open, SendTo passes frames straight to the transport. A Deliver the transport
// refuses after the commit is handed back to its queue (`on_unsent`); an answer is offered again
// at the next Close (the broker closes a group at least every 200 ms), a bounded number of times.
// Closing with no group open only offers those answers again.
//
// A group is also bounded (Due()): once it has been open for `max_open` on the injected clock, or
// holds `max_held_bytes` of frames, the broker closes it before reading the next frame. Without
// that bound a batch of frames that each cost much (a Hello refilling a window of large copies)
// kept every answer back until the whole batch was read; the nodes, hearing nothing, greeted
// again, which added to the batch: a livelock in which nothing was ever sent.
//
// Ownership: holds references to the auditor, store and clock (which must outlive it) and owns
// the frames it holds. Memory: the frames of one group (bounded by max_held_bytes plus one
// frame's effects). Thread-safety: none; the broker's Run() thread only.
#ifndef TEARLINE_BROKER_COMMIT_GROUP_H_
#define TEARLINE_BROKER_COMMIT_GROUP_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/broker/auditor.h"
#include "tearline/broker/delivery_queues.h"
#include "tearline/broker/report_store.h"

namespace tearline::broker {

// When a commit group is due to close (see CommitGroup).
struct CommitGroupLimits {
  std::chrono::milliseconds max_open{50};
  std::size_t max_held_bytes = std::size_t{8} << 20;
};

class CommitGroup : public FrameSender {
 public:
  // Hands one frame to the transport now; false when it could not (unreachable, pipe full).
  using Transmit =
      std::function<bool(const std::string& node_id, const std::vector<std::uint8_t>& frame)>;

  // Totals since construction, for logs and measurements.
  struct Counters {
    std::uint64_t groups = 0;         // Groups closed with something in them.
    std::uint64_t frames = 0;         // Frames held back and then sent or dropped.
    std::uint64_t largest_group = 0;  // Frames in the largest group.
    std::uint64_t unsent = 0;         // Answers given up after kMaxAttempts refusals.
  };

  using Limits = CommitGroupLimits;

  CommitGroup(Auditor& auditor, ReportStore& store, Transmit transmit,
              std::function<void()> on_failure, const Clock& clock, Limits limits);
  CommitGroup(const CommitGroup&) = delete;
  CommitGroup& operator=(const CommitGroup&) = delete;

  // Opens a group (a no-op while one is open).
  void Open();
  bool open() const { return open_; }
  // Makes the group durable, then sends its frames (see the class comment). OK when no group is
  // open. Errors: the audit failure (Auditor::failure()) or the store's commit error.
  [[nodiscard]] Status Close();

  // FrameSender: held back while a group is open (true: it will be sent when the group closes,
  // if the transport takes it then), else sent now.
  bool SendTo(const std::string& node_id, const std::vector<std::uint8_t>& frame) override;
  bool SendTracked(const std::string& node_id, const std::vector<std::uint8_t>& frame,
                   std::function<void()> on_unsent) override;

  std::size_t held() const { return held_.size(); }
  std::size_t held_bytes() const { return held_bytes_; }
  // True when the open group has reached a limit and should be closed before more work joins it.
  bool Due() const;
  // The store commit error that stopped the broker (Ok while none happened).
  const Status& failure() const { return failure_; }
  const Counters& counters() const { return counters_; }

 private:
  struct Held {
    std::string node_id;
    std::vector<std::uint8_t> frame;
    std::function<void()> on_unsent;
    int attempts = 0;
  };
  // An answer (a frame without `on_unsent`) the transport refuses is offered again at the next
  // Close, at most this often, and at most this many wait: a peer that does not read costs a
  // bounded amount of memory.
  static constexpr int kMaxAttempts = 8;
  static constexpr std::size_t kMaxRetry = 4096;

  void SendHeld(std::vector<Held> held);

  Auditor& auditor_;
  ReportStore& store_;
  Transmit transmit_;
  std::function<void()> on_failure_;
  const Clock& clock_;
  const Limits limits_;
  Status failure_ = Status::Ok();
  bool open_ = false;
  Clock::TimePoint opened_at_{};
  std::size_t held_bytes_ = 0;
  std::vector<Held> held_;
  std::vector<Held> retry_;  // Durable answers a full pipe refused; sent before new frames.
  Counters counters_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_COMMIT_GROUP_H_
