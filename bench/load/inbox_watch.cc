#include "inbox_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cstring>

namespace tearline::bench {

InboxWatch::~InboxWatch() { Stop(); }

Status InboxWatch::Start(const std::vector<std::filesystem::path>& dirs) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return IoError("BENCH_INOTIFY", std::string("inotify: ") + std::strerror(errno));
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    std::error_code ec;
    std::filesystem::create_directories(dirs[i], ec);
    const int wd = ::inotify_add_watch(fd_, dirs[i].c_str(), IN_MOVED_TO | IN_CLOSE_NOWRITE);
    if (wd < 0) {
      return IoError("BENCH_INOTIFY",
                     "cannot watch " + dirs[i].string() + ": " + std::strerror(errno));
    }
    watch_to_node_[wd] = static_cast<int>(i);
  }
  thread_ = std::thread([this] { Loop(); });
  return {};
}

void InboxWatch::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::vector<InboxWatch::Event> InboxWatch::Events() const {
  std::lock_guard lock(mu_);
  return events_;
}

void InboxWatch::Loop() {
  alignas(inotify_event) std::array<char, 64 * 1024> buf{};
  while (!stop_.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n <= 0) continue;
    const auto at = std::chrono::steady_clock::now();
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf.data() + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->len == 0) continue;
      const std::string name(ev->name);
      // `<32 hex>.json`; temporaries start with '.', report bodies end in ".report".
      if (name.size() != 37 || name.compare(32, 5, ".json") != 0) continue;
      auto it = watch_to_node_.find(ev->wd);
      if (it == watch_to_node_.end()) continue;
      const bool durable = (ev->mask & IN_CLOSE_NOWRITE) != 0;
      if (!durable && (ev->mask & IN_MOVED_TO) == 0) continue;
      std::lock_guard lock(mu_);
      events_.push_back({it->second, name.substr(0, 32), at, durable});
      if (durable) count_.fetch_add(1);
    }
  }
}

}  // namespace tearline::bench
