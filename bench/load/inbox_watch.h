// Watches recipients' inbox directories with inotify and timestamps each report the moment its
// metadata file is renamed into place: the node writes the report, syncs it, and renames
// `<id>.json` last, so that rename is when the copy is in the durable inbox. No polling of the
// daemons, which would add load to what is measured.
//
// Thread-safety: Start/Stop from one thread; the watcher thread appends under a mutex; Events and
// count may be read from any thread.
#ifndef TEARLINE_BENCH_LOAD_INBOX_WATCH_H_
#define TEARLINE_BENCH_LOAD_INBOX_WATCH_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tearline/base/status.h"

namespace tearline::bench {

class InboxWatch {
 public:
  struct Event {
    int node = 0;               // Index of the watched directory.
    std::string report_id_hex;  // From the file name.
    std::chrono::steady_clock::time_point at;
  };

  InboxWatch() = default;
  ~InboxWatch();
  InboxWatch(const InboxWatch&) = delete;
  InboxWatch& operator=(const InboxWatch&) = delete;

  // Watches each directory (index = position). Errors: BENCH_INOTIFY.
  Status Start(const std::vector<std::filesystem::path>& dirs);
  void Stop();
  std::uint64_t count() const { return count_.load(); }
  std::vector<Event> Events() const;

 private:
  void Loop();

  int fd_ = -1;
  std::map<int, int> watch_to_node_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> count_{0};
  mutable std::mutex mu_;
  std::vector<Event> events_;
};

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_INBOX_WATCH_H_
