// DelayLine: one direction of a relayed TCP stream held back for a network delay with jitter.
// Used by tearline-delay-relay (tests/support/delay_relay_main.cc) to emulate a slow link where
// the kernel has no `sch_netem`: the multi-host test (deploy/multihost.sh) routes the nodes'
// connections to the broker through it during its latency fault.
//
// Bytes pushed at time t become due at t + delay + j, j drawn uniformly from [-jitter, +jitter],
// but never before bytes pushed earlier: a TCP stream must arrive in order, so jitter varies the
// gaps between chunks without reordering them. The line holds at most `max_bytes`; the relay reads
// from a socket only while Room() > 0, so a peer that sends faster than the other side reads is
// slowed by TCP flow control instead of growing the relay's memory.
//
// Ownership: borrows the Clock, which must outlive the line.
// Thread-safety: none; one relay loop owns each line.
#ifndef TEARLINE_TESTS_DELAY_LINE_H_
#define TEARLINE_TESTS_DELAY_LINE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "tearline/base/clock.h"

namespace tearline::testing {

struct DelayLineOptions {
  Clock::Duration delay{};
  Clock::Duration jitter{};  // Clamped to `delay`: no chunk is due before it was pushed.
  std::size_t max_bytes = 1 << 20;
};

class DelayLine {
 public:
  DelayLine(const Clock& clock, DelayLineOptions options, std::uint64_t seed);

  // Bytes that may still be pushed before the line is full.
  std::size_t Room() const;
  // Holds `bytes` (at most Room() of them; the excess is not taken) and returns how many it took.
  std::size_t Push(std::string_view bytes);
  // The due bytes at the front of the line (possibly fewer than are due, never bytes not yet
  // due). Valid until the next Push or Consume.
  std::string_view Due() const;
  // Drops the first `n` bytes of Due() (the part written to the other socket).
  void Consume(std::size_t n);
  // When the front chunk becomes due; empty when the line holds nothing.
  std::optional<Clock::TimePoint> NextDue() const;
  std::size_t Held() const { return held_; }

 private:
  struct Chunk {
    Clock::TimePoint due;
    std::string bytes;
    std::size_t sent = 0;  // Bytes of `bytes` already consumed.
  };

  const Clock& clock_;
  DelayLineOptions options_;
  std::mt19937_64 rng_;
  std::deque<Chunk> chunks_;
  std::size_t held_ = 0;
  Clock::TimePoint last_due_{};
};

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_DELAY_LINE_H_
