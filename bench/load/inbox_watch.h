// Watches recipients' inbox directories with inotify and timestamps, for each report, two
// moments of its metadata file `<id>.json`:
//   - stored: the rename of `<id>.json` into place (IN_MOVED_TO). The node renames before its
//     batch sync, so the copy is not yet durable then;
//   - durable: the close of the node's batch descriptor of `<id>.json` (IN_CLOSE_NOWRITE). The
//     node's GroupCommit closes a batch's descriptors only after the sync that covers them
//     (tearline/node/group_commit.h), just before the batch's Acks leave, so this is the first
//     observable moment at which the copy is in the durable inbox. Nothing else opens an inbox
//     file for reading while the bench runs.
// Both are read from the events the kernel queues anyway: no polling of the daemons and no work
// added to the path that is measured.
//
// Thread-safety: Start/Stop from one thread; the watcher thread appends under a mutex; Events and
// the counts may be read from any thread.
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
    bool durable = false;  // The batch descriptor's close (else the rename).
  };

  InboxWatch() = default;
  ~InboxWatch();
  InboxWatch(const InboxWatch&) = delete;
  InboxWatch& operator=(const InboxWatch&) = delete;

  // Watches each directory (index = position). Errors: BENCH_INOTIFY.
  Status Start(const std::vector<std::filesystem::path>& dirs);
  void Stop();
  // Durable events so far (a copy sent again and stored again counts again).
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
