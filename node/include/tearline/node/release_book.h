// ReleaseBook: a node's durable record of the release requests it made (outgoing) and of those
// made to it as an originator (incoming), one JSON file per request in DATA_DIR/releases/
// (<request-id-hex>.json, mode 0600, written atomically). Both the requester and the originator
// list their requests with their age and state (`tearline-node requests`), so an unanswered
// request stays visible on both sides.
//
// Bounded: at most kMaxReleaseRecords files; Put of a new record beyond it fails with
// RELEASE_REQUEST_LIMIT (the broker bounds requests per node well below it).
//
// Ownership: holds its directory path. Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_RELEASE_BOOK_H_
#define TEARLINE_NODE_RELEASE_BOOK_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/wire/release_frames.h"

namespace tearline::node {

inline constexpr std::size_t kMaxReleaseRecords = 4096;

struct ReleaseRecord {
  bool incoming = false;     // This node is the originator asked to release.
  ReleaseStatusInfo status;  // Ids, portion, nation, state and decision as last known.
  std::string why;           // The requester's justification.
  std::string requester_nation;
  // Requester side: milliseconds from asking to the decision, measured by this node when both
  // happened while it ran; -1 when unknown.
  std::int64_t turnaround_ms = -1;
  std::string request_hex() const;
};

// The record as the control socket and `requests --json` show it, with its age at `now_unix`
// (seconds since the request; for a decided request, how long the decision took).
nlohmann::json ReleaseRecordJson(const ReleaseRecord& record, std::int64_t now_unix);

class ReleaseBook {
 public:
  // Uses DATA_DIR/releases, creating it owner-only. Errors: RELEASE_BOOK_IO.
  static Result<ReleaseBook> Open(const std::filesystem::path& data_dir);

  // Stores (or replaces) the record. Errors: RELEASE_REQUEST_LIMIT, RELEASE_BOOK_IO.
  Status Put(const ReleaseRecord& record);
  // The record whose request id is `id` or starts with it (at least 4 hex digits, unique).
  // Errors: RELEASE_UNKNOWN_REQUEST, RELEASE_BOOK_IO.
  Result<ReleaseRecord> Find(std::string_view id) const;
  // Every readable record, oldest request first; unreadable files are skipped and counted.
  std::vector<ReleaseRecord> List(std::size_t* skipped = nullptr) const;

 private:
  explicit ReleaseBook(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_RELEASE_BOOK_H_
