// EventLoop: one poll loop with timers for a daemon's thread, in the spirit of czmq's zloop.
//
// A daemon registers the sockets it owns with a handler each, and timers that fire at intervals
// measured on the injected Clock; Run() polls until asked to stop. Time comes only from the
// Clock, so with a FakeClock a test drives timers by advancing the clock and calling RunOnce().
//
// Contract:
//   - a reader's handler is called when its socket is readable; it should drain at most a
//     bounded batch and return, so timers and other sockets are served fairly;
//   - a timer fires at most once per RunOnce() even if several intervals passed (no bursts of
//     catch-up calls after a stall); its next due time is measured from when it fired;
//   - handlers may add timers and cancel any timer (also their own), but not add readers;
//   - an exception escaping a handler is logged (event=loop_handler_failed) and the loop goes
//     on: one bad input must not stop a daemon.
// Ownership: the loop does not own the sockets; they must outlive it or be removed first.
// Thread-safety: one thread (the owner of the sockets); `stop` may be set from any thread or a
// signal handler.
#ifndef TEARLINE_NET_EVENT_LOOP_H_
#define TEARLINE_NET_EVENT_LOOP_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/net/socket.h"

namespace tearline::net {

class EventLoop {
 public:
  using Handler = std::function<void()>;
  using TimerId = std::uint64_t;

  explicit EventLoop(const Clock& clock);

  // `name` appears in logs when the handler fails.
  void AddReader(Socket& socket, std::string name, Handler on_readable);
  void RemoveReader(Socket& socket);

  // A repeating timer; the first call is one interval from now.
  TimerId AddTimer(Clock::Duration interval, std::string name, Handler on_due);
  void CancelTimer(TimerId id);

  // Waits until a socket is readable or the next timer is due (never longer than `max_wait`),
  // then calls the due timers and the readable sockets' handlers. Errors: NET_POLL (poll failed
  // for a reason other than a signal).
  Status RunOnce(std::chrono::milliseconds max_wait);

  // RunOnce until `stop` is set. `max_wait` bounds how late a stop request is noticed.
  Status Run(const std::atomic<bool>& stop,
             std::chrono::milliseconds max_wait = std::chrono::milliseconds(200));

  // How long until the next timer is due (zero when one is due); max_wait when none is.
  std::chrono::milliseconds TimeToNextTimer(std::chrono::milliseconds max_wait) const;

 private:
  struct Reader {
    Socket* socket;
    std::string name;
    Handler handler;
  };
  struct Timer {
    Clock::Duration interval;
    Clock::TimePoint due;
    std::string name;
    Handler handler;
  };
  void Call(const std::string& name, const Handler& handler);

  const Clock& clock_;
  std::vector<Reader> readers_;
  std::map<TimerId, Timer> timers_;
  TimerId next_timer_ = 1;
};

}  // namespace tearline::net

#endif  // TEARLINE_NET_EVENT_LOOP_H_
