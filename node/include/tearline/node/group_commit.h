// GroupCommit: the node's durability by batch. Everything the daemon's stores write during one
// wake-up of its loop (inbox reports, outbox copies, sent records, release sources) is made
// durable by ONE sync step at the end of that wake-up, and what must wait for durability (an Ack
// to the broker, the first Submit of a sealed report, the removal of an outbox copy) runs only
// after that step succeeded. Under load a wake-up drains many frames, so the cost is one step per
// batch, not several per report; whatever arrives while a sync is in progress waits in the
// sockets and shares the next.
//
//   - a store that wrote a file through WriteReplacing hands its descriptor over (AddFile) and
//     names the directory whose entry changed (AddDirectory); work that must not happen before
//     those bytes are durable is registered with AfterDurable() (in order);
//   - Flush() (the daemon calls it after every wake-up) makes exactly those durable, then runs
//     the registered work in registration order: fsync of each file written in the batch, then
//     fsync of each directory whose entries changed (the same calls WriteReplacing makes without
//     a batch, each once per batch). On a journalling filesystem the first of them commits the
//     journal for all and the rest find little left to do. A failed sync runs nothing: the files,
//     directories and work stay registered and the next Flush() syncs again (an Ack is delayed,
//     never sent early);
//   - MarkWritten() says that something was written without saying what (at start-up: whatever
//     an earlier life wrote and had not synced): the next Flush() then syncs every filesystem
//     of the directories given to Open with syncfs(2) instead. So does a batch of more than
//     kMaxTargetedFiles files (under load): one call then costs less than one per file. A small
//     batch does not use syncfs because it waits for every dirty page of every process on the
//     filesystem, which on a machine shared with other writers cost milliseconds per batch on
//     the path of every report;
//   - a file's descriptor is closed only after a successful sync that covers it, in both kinds
//     of batch, so the close of a batch's descriptor is an outside observer's sign that the file
//     is durable (tearline-bench times a copy's arrival in the durable inbox by it, with
//     inotify's IN_CLOSE_NOWRITE, adding no work to the path). A syncfs batch holds at most
//     kMaxHeldFiles descriptors: reaching it syncs the filesystem at once and closes them (an
//     extra sync, never a missing one).
// Without a GroupCommit (a null pointer), the stores sync each write themselves and work runs at
// once: the behaviour tests of single units rely on.
//
// WriteReplacing is the stores' one way to write a file: a fresh temporary in the same
// directory, renamed over the target; with a GroupCommit its descriptor and directory are left
// for the batch sync, without one it is fsync'd (file, then directory) before returning.
//
// Ownership: owns one directory descriptor per filesystem and per directory synced so far, the
// descriptors of the files written in the current batch (at most kMaxHeldFiles, closed after
// the sync that covers them) and the registered work. Thread-safety: not synchronised; the daemon's
// loop thread only.
#ifndef TEARLINE_NODE_GROUP_COMMIT_H_
#define TEARLINE_NODE_GROUP_COMMIT_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <utility>
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

  // Bytes were written, somewhere under the directories given to Open, that the next Flush must
  // make durable (with syncfs: see the class comment).
  void MarkWritten() { written_ = true; }
  // The next Flush fsyncs file `fd` (a file written in this batch; owned from now on, closed
  // after the sync that covers it). A batch that writes more than kMaxTargetedFiles files is
  // synced with syncfs instead (see the class comment); its descriptors are still held until
  // then, at most kMaxHeldFiles (reaching it syncs at once and closes them).
  void AddFile(int fd);
  static constexpr std::size_t kMaxTargetedFiles = 16;
  // Bounds the descriptors a syncfs batch holds: a wake-up handles at most 64 messages of a
  // few files each, so this is only reached by an unusual batch.
  static constexpr std::size_t kMaxHeldFiles = 256;
  // The next Flush fsyncs directory `dir` (an entry in it was created, renamed or removed).
  void AddDirectory(const std::filesystem::path& dir);
  // Runs `work` after the next successful Flush (after its sync, when anything was written).
  void AfterDurable(std::function<void()> work);
  // Syncs once if anything was written, then runs the registered work. Errors: NODE_SYNC_IO
  // (nothing ran; retried by the next Flush).
  [[nodiscard]] Status Flush();

  bool idle() const { return !pending() && work_.empty(); }
  // Sync steps performed so far (for the status line and measurements), and how many of them
  // synced whole filesystems (MarkWritten).
  std::uint64_t syncs() const { return syncs_; }
  std::uint64_t filesystem_syncs() const { return filesystem_syncs_; }

 private:
  GroupCommit() = default;
  bool pending() const { return written_ || !files_.empty() || !dirs_.empty(); }
  Status SyncPending();
  void CloseFiles();
  void CloseFds();

  SyncFn sync_;           // Injected (tests); else SyncPending().
  std::vector<int> fds_;  // One per filesystem; used by syncfs after MarkWritten.
  bool written_ = false;
  std::vector<int> files_;                            // Written in this batch.
  std::vector<std::string> dirs_;                     // Changed in this batch.
  std::vector<std::pair<std::string, int>> dir_fds_;  // Kept open: the stores' few directories.
  std::vector<std::function<void()>> work_;
  std::uint64_t syncs_ = 0;
  std::uint64_t filesystem_syncs_ = 0;
};

// Writes `bytes` to a fresh temporary next to `target` (created with `mode`) and renames it over
// `target`. `commit` null: the file and its directory are fsync'd before returning; else both are
// left to the batch (AddFile, AddDirectory). Errors: `reason` (Code::kIoError) naming the path.
[[nodiscard]] Status WriteReplacing(const std::filesystem::path& target,
                                    std::span<const std::uint8_t> bytes, mode_t mode,
                                    GroupCommit* commit, const std::string& reason);

// fsyncs directory `dir` unless `commit` is given (then AddDirectory). Errors: `reason`.
[[nodiscard]] Status SyncDirectoryOrBatch(const std::filesystem::path& dir, GroupCommit* commit,
                                          const std::string& reason);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_GROUP_COMMIT_H_
