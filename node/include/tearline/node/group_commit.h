// GroupCommit: the node's durability by batch. Everything the daemon's stores write during one
// wake-up of its loop (inbox reports, outbox copies, sent records) is made durable by ONE sync
// at the end of that wake-up, and what must wait for durability (an Ack to the broker, the first
// Submit of a sealed report, the removal of an outbox copy) runs only after that sync succeeded.
// Under load a wake-up drains many frames, so the cost is one sync per batch, not several per
// report; whatever arrives while a sync is in progress waits in the sockets and shares the next.
//
//   - a store that wrote something calls MarkWritten(); work that must not happen before those
//     bytes are durable is registered with AfterDurable() (in order);
//   - Flush() (the daemon calls it after every wake-up) syncs once if anything was written, then
//     runs the registered work in registration order. A failed sync runs nothing: the work stays
//     registered and the next Flush() syncs again (an Ack is delayed, never sent early);
//   - the sync is syncfs(2) on every distinct filesystem of the directories given to Open: it
//     flushes every written file and directory entry there in one call (data and metadata, as
//     fsync would for each file). It also flushes other processes' dirty data on the same
//     filesystem, which costs time, never correctness.
// Without a GroupCommit (a null pointer), the stores sync each write themselves and work runs at
// once: the behaviour tests of single units rely on.
//
// WriteReplacing is the stores' one way to write a file: a fresh temporary in the same
// directory, renamed over the target; with a GroupCommit it is left for the batch sync,
// without one it is fsync'd (file, then directory) before returning.
//
// Ownership: owns one directory descriptor per filesystem and the registered work. Thread-safety:
// not synchronised; the daemon's loop thread only.
#ifndef TEARLINE_NODE_GROUP_COMMIT_H_
#define TEARLINE_NODE_GROUP_COMMIT_H_

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tearline/base/status.h"

namespace tearline::node {

class GroupCommit {
 public:
  using SyncFn = std::function<Status()>;

  // One syncfs target per distinct filesystem among `dirs` (which must exist).
  // Errors: NODE_SYNC_IO when a directory cannot be opened.
  static Result<GroupCommit> Open(const std::vector<std::filesystem::path>& dirs);
  // With an injected sync (tests).
  explicit GroupCommit(SyncFn sync);
  ~GroupCommit();
  GroupCommit(GroupCommit&& other) noexcept;
  GroupCommit& operator=(GroupCommit&& other) noexcept;
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Bytes were written that the next Flush must make durable.
  void MarkWritten() { written_ = true; }
  // Runs `work` after the next successful Flush (after its sync, when anything was written).
  void AfterDurable(std::function<void()> work);
  // Syncs once if anything was written, then runs the registered work. Errors: NODE_SYNC_IO
  // (nothing ran; retried by the next Flush).
  [[nodiscard]] Status Flush();

  bool idle() const { return !written_ && work_.empty(); }
  // Syncs performed so far (for the status line and measurements).
  std::uint64_t syncs() const { return syncs_; }

 private:
  GroupCommit() = default;
  void CloseFds();

  SyncFn sync_;
  std::vector<int> fds_;  // One per filesystem; used by the default sync.
  bool written_ = false;
  std::vector<std::function<void()>> work_;
  std::uint64_t syncs_ = 0;
};

// Writes `bytes` to a fresh temporary next to `target` (created with `mode`) and renames it over
// `target`. `commit` null: the file and its directory are fsync'd before returning; else the
// write is left to the batch (MarkWritten). Errors: `reason` (Code::kIoError) naming the path.
[[nodiscard]] Status WriteReplacing(const std::filesystem::path& target,
                                    std::span<const std::uint8_t> bytes, mode_t mode,
                                    GroupCommit* commit, const std::string& reason);

// fsyncs directory `dir` unless `commit` is given (then MarkWritten). Errors: `reason`.
[[nodiscard]] Status SyncDirectoryOrBatch(const std::filesystem::path& dir, GroupCommit* commit,
                                          const std::string& reason);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_GROUP_COMMIT_H_
