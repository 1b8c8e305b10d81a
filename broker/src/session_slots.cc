#include "tearline/broker/session_slots.h"

namespace tearline::broker {

SessionSlots::SessionSlots(const Clock& clock, std::uint32_t max_sessions,
                           Clock::Duration claim_window)
    : clock_(clock), max_(max_sessions), claim_window_(claim_window) {}

bool SessionSlots::TryReserve() {
  const Clock::TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  ExpireLocked(now);
  if (served_.size() + reservations_.size() >= max_) return false;
  reservations_.push_back(now);
  return true;
}

bool SessionSlots::Bind(int fd) {
  const Clock::TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  if (served_.contains(fd)) return true;
  ExpireLocked(now);
  if (!reservations_.empty()) {
    // Which reservation is this connection's does not matter: each is one slot.
    reservations_.pop_front();
  } else if (served_.size() >= max_) {
    return false;
  }
  served_.insert(fd);
  return true;
}

void SessionSlots::Release(int fd) {
  std::lock_guard lock(mu_);
  served_.erase(fd);
}

std::uint32_t SessionSlots::served() const {
  std::lock_guard lock(mu_);
  return static_cast<std::uint32_t>(served_.size());
}

std::uint32_t SessionSlots::reserved() const {
  std::lock_guard lock(mu_);
  return static_cast<std::uint32_t>(reservations_.size());
}

void SessionSlots::ExpireLocked(Clock::TimePoint now) {
  while (!reservations_.empty() && now - reservations_.front() >= claim_window_) {
    reservations_.pop_front();
  }
}

}  // namespace tearline::broker
