// WaitUntil: the load generator's one bounded wait on a condition another thread or process
// makes true (replies counted, copies seen), polling every 10 ms.
//
// Thread-safety: `done` is called from the calling thread only; it must do its own locking.
#ifndef TEARLINE_BENCH_LOAD_WAIT_UNTIL_H_
#define TEARLINE_BENCH_LOAD_WAIT_UNTIL_H_

#include <chrono>
#include <thread>

namespace tearline::bench {

// True as soon as `done()` holds, false if it still does not after `seconds`.
template <typename F>
bool WaitUntil(F done, double seconds) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(seconds));
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_WAIT_UNTIL_H_
