// SessionSlots: the live-session count behind max_connections, from what libzmq 4.3 really
// reports. Its monitor's HANDSHAKE_SUCCEEDED event carries no file descriptor (always 0), so
// sessions are counted by the descriptor each received message carries (ZMQ_SRCFD) and released
// by the ACCEPTED/DISCONNECTED events, which do carry it.
//
// A slot is taken in two steps. The ZAP callback admits a client only while
// served + reserved < max (TryReserve), and reserves a slot for it; the connection's first frame
// binds its descriptor to a slot (Bind), taking a reservation if one is left. A reservation not
// taken within `claim_window` (a client that authenticated but never spoke) lapses; such a
// connection is bound on its first frame only if a slot is free, else its frames are not served.
// DISCONNECTED (or ACCEPTED on a descriptor still bound: the kernel reused it, so the old
// connection is gone) frees the slot. Invariant: served + reserved <= max, so a limit of 1 admits
// a new session as soon as the first one disconnects, and never two at once.
//
// Ownership: value state; holds a reference to the clock, which must outlive it.
// Thread-safety: every method may be called from any thread (one internal mutex): TryReserve
// from the ZAP thread, the others from the broker's Run() thread.
#ifndef TEARLINE_BROKER_SESSION_SLOTS_H_
#define TEARLINE_BROKER_SESSION_SLOTS_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>

#include "tearline/base/clock.h"

namespace tearline::broker {

class SessionSlots {
 public:
  SessionSlots(const Clock& clock, std::uint32_t max_sessions, Clock::Duration claim_window);
  SessionSlots(const SessionSlots&) = delete;
  SessionSlots& operator=(const SessionSlots&) = delete;

  // ZAP: a client authenticated; true (and a slot reserved for it) when one is free.
  bool TryReserve();
  // A frame arrived over the connection with descriptor `fd`: true when that connection holds a
  // slot (already, or now). false: no slot is free; the frame must not be served.
  bool Bind(int fd);
  // The connection with descriptor `fd` is gone (DISCONNECTED, or ACCEPTED reusing it).
  void Release(int fd);

  // Sessions served (bound) and slots reserved for authenticated clients not yet heard from.
  std::uint32_t served() const;
  std::uint32_t reserved() const;
  std::uint32_t max_sessions() const { return max_; }

 private:
  void ExpireLocked(Clock::TimePoint now);  // Requires mu_.

  const Clock& clock_;
  const std::uint32_t max_;
  const Clock::Duration claim_window_;
  mutable std::mutex mu_;
  std::set<int> served_;                       // Guarded by mu_.
  std::deque<Clock::TimePoint> reservations_;  // Guarded by mu_; oldest first.
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_SESSION_SLOTS_H_
