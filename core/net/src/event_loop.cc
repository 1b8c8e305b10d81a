#include "tearline/net/event_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "zmq_internal.h"

namespace tearline::net {

EventLoop::EventLoop(const Clock& clock) : clock_(clock) {}

void EventLoop::AddReader(Socket& socket, std::string name, Handler on_readable) {
  readers_.push_back({&socket, std::move(name), std::move(on_readable)});
}

void EventLoop::RemoveReader(Socket& socket) {
  std::erase_if(readers_, [&](const Reader& r) { return r.socket == &socket; });
}

EventLoop::TimerId EventLoop::AddTimer(Clock::Duration interval, std::string name, Handler on_due) {
  const TimerId id = next_timer_++;
  timers_.emplace(id, Timer{interval, clock_.Now() + interval, std::move(name), std::move(on_due)});
  return id;
}

void EventLoop::CancelTimer(TimerId id) { timers_.erase(id); }

std::chrono::milliseconds EventLoop::TimeToNextTimer(std::chrono::milliseconds max_wait) const {
  const Clock::TimePoint now = clock_.Now();
  std::chrono::milliseconds wait = max_wait;
  for (const auto& [id, t] : timers_) {
    if (t.due <= now) return std::chrono::milliseconds(0);
    // Round up, so the poll does not wake a little early and spin until the timer is due.
    wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(t.due - now));
  }
  return wait;
}

void EventLoop::Call(const std::string& name, const Handler& handler) {
  try {
    handler();
  } catch (const std::exception& e) {
    spdlog::error("event=loop_handler_failed handler={} error=\"{}\"", name, e.what());
  }
}

Status EventLoop::RunOnce(std::chrono::milliseconds max_wait) {
  std::vector<zmq::pollitem_t> items;
  items.reserve(readers_.size());
  for (const Reader& r : readers_) {
    items.push_back({r.socket->native(), 0, ZMQ_POLLIN, 0});
  }
  const std::chrono::milliseconds wait = TimeToNextTimer(max_wait);
  if (items.empty()) {
    // Nothing to poll: a test driving timers alone. Do not sleep on a fake clock.
  } else {
    try {
      zmq::poll(items.data(), items.size(), wait);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) {
        return Status(Code::kInternal, "NET_POLL", std::string("poll failed: ") + e.what());
      }
      return Status::Ok();  // A signal: the caller re-checks its stop flag.
    }
  }
  // Timers first, in id order; collect the due ones before calling any, so a handler that
  // adds or cancels timers does not disturb the iteration.
  const Clock::TimePoint now = clock_.Now();
  std::vector<TimerId> due;
  for (const auto& [id, t] : timers_) {
    if (t.due <= now) due.push_back(id);
  }
  for (TimerId id : due) {
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;  // Cancelled by an earlier handler.
    it->second.due = now + it->second.interval;
    const Handler handler = it->second.handler;  // The handler may cancel its own timer.
    Call(it->second.name, handler);
  }
  // Readers in registration order (a daemon registers its most urgent socket first). The
  // handlers run from a copy, so the list may change under them.
  const std::vector<Reader> readers = readers_;
  for (std::size_t i = 0; i < items.size() && i < readers.size(); ++i) {
    if ((items[i].revents & ZMQ_POLLIN) != 0) Call(readers[i].name, readers[i].handler);
  }
  return Status::Ok();
}

Status EventLoop::Run(const std::atomic<bool>& stop, std::chrono::milliseconds max_wait) {
  while (!stop.load()) {
    TEARLINE_RETURN_IF_ERROR(RunOnce(max_wait));
  }
  return Status::Ok();
}

}  // namespace tearline::net
