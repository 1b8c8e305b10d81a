// Clock: the one source of time for Tearline's logic, injected so that retries, back-off,
// expiry, heartbeats and rate limits can be tested with a FakeClock instead of sleeps.
//
// Two readings, because they answer different questions:
//   - Now(): monotonic time (std::chrono::steady_clock) for intervals and deadlines; it never
//     jumps when the wall clock is set;
//   - UnixNow(): wall-clock seconds since the epoch, for what is signed, logged or compared with
//     certificate and report validity.
// Ownership: daemons hold a reference to a Clock that outlives them (SystemClock::Get() in
// production, a test-owned FakeClock in tests).
// Thread-safety: SystemClock is stateless and safe from any thread. FakeClock is safe to read
// from several threads while one test thread advances it (atomic fields).
#ifndef TEARLINE_BASE_CLOCK_H_
#define TEARLINE_BASE_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tearline {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  virtual std::int64_t UnixNow() const = 0;
};

// The real clocks of the machine.
class SystemClock final : public Clock {
 public:
  // The process-wide instance (stateless, never destroyed before exit).
  static const Clock& Get();
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  std::int64_t UnixNow() const override;
};

// A clock that moves only when told. Both readings advance together.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t unix_now = 1'800'000'000) : unix_(unix_now) {}

  TimePoint Now() const override { return TimePoint(Duration(steady_.load())); }
  std::int64_t UnixNow() const override {
    return unix_.load() + std::chrono::duration_cast<std::chrono::seconds>(
                              Duration(steady_.load() - unix_base_.load()))
                              .count();
  }

  void Advance(Duration d) { steady_ += d.count(); }
  // Moves the wall clock alone (as an operator setting the date would); Now() is unchanged.
  void SetUnix(std::int64_t unix_now) {
    unix_ = unix_now;
    unix_base_ = steady_.load();
  }

 private:
  std::atomic<Duration::rep> steady_{Duration(std::chrono::hours(1)).count()};
  std::atomic<Duration::rep> unix_base_{Duration(std::chrono::hours(1)).count()};
  std::atomic<std::int64_t> unix_;
};

}  // namespace tearline

#endif  // TEARLINE_BASE_CLOCK_H_
