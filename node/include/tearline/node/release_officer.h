// ReleaseOfficer: a node's side of release requests (docs/PROTOCOL.md "Release requests").
//
// As a requester: `request-release` sends a ReleaseRequest for a portion in this node's inbox and
// answers the analyst once the broker has accepted it (pending) or refused it; the decision
// arrives later as a ReleaseStatus and is recorded (`requests` shows it, with the turnaround).
// As an originator: a ReleaseNotice is recorded as an incoming request; when a standing
// authorisation of the policy (release_rules.h) covers it, it is approved at once, signed as such
// (the rule's name is in the signed decision); otherwise it waits for the disclosure officer's
// `approve` or `deny`. An approval re-seals the portion (kept by ReleaseSources) or a sanitised
// version under the new label for the requested nation's nodes and signs the decision; the
// broker checks and routes it and answers with a ReleaseStatus.
//
// Default label on approval: the portion's label with the nation added to its REL TO list
// (WidenedLabel); `--label` replaces it (it must still release to the originator and every
// holder, which the broker enforces). A sanitised version needs an explicit label.
//
// Refusals before anything is sent: RELEASE_UNKNOWN_NATION, RELEASE_UNKNOWN_REQUEST,
// RELEASE_ALREADY_DECIDED, RELEASE_NO_SOURCE, RELABEL_BAD_LABEL, BROKER_UNAVAILABLE, NODE_BUSY;
// an unanswered broker request gives BROKER_NO_REPLY after 8 s.
//
// Ownership: references its collaborators (owned by the daemon); owns the parsed rules.
// Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_RELEASE_OFFICER_H_
#define TEARLINE_NODE_RELEASE_OFFICER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/labels/release_rules.h"
#include "tearline/node/broker_channel.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/directory_cache.h"
#include "tearline/node/inbox_store.h"
#include "tearline/node/node_identity.h"
#include "tearline/node/release_book.h"
#include "tearline/node/release_sources.h"
#include "tearline/wire/release_frames.h"

namespace tearline::node {

inline constexpr std::chrono::milliseconds kReleaseReplyTimeout{8000};
inline constexpr std::size_t kMaxPendingReleaseCalls = 64;

class ReleaseOfficer {
 public:
  ReleaseOfficer(const Clock& clock, const NodeIdentity& identity, const DirectoryCache& directory,
                 const InboxStore& inbox, ReleaseBook& book, ReleaseSources& sources,
                 std::vector<ReleaseRule> rules, BrokerChannel& broker, ControlReplier& replier);

  void Start(const std::string& client, const ControlRequest& request);
  void OnNotice(const ReleaseNoticeInfo& notice);
  void OnStatus(std::uint64_t request_id, const ReleaseStatusInfo& status);
  // An Error frame; ignored unless it answers one of this unit's requests.
  void OnError(std::uint64_t request_id, const std::string& reason, const std::string& message);
  // Handles ReleaseNotice and ReleaseStatus frames; false for any other body.
  bool OnFrame(const schema::Frame& frame);
  void Tick();

  // Keeps the portions of a report this node just sealed (see ReleaseSources): with the batch
  // sync (the sealer's reports leave through the outbox after it) unless `sync` says now.
  void KeepSources(const std::string& report_hex, const std::vector<std::string>& labels,
                   const std::vector<std::span<const std::uint8_t>>& contents,
                   ReleaseSources::Sync sync = ReleaseSources::Sync::kBatch);

 private:
  struct Call {
    std::string client;  // "" for an automatic approval.
    Clock::TimePoint deadline;
    ReleaseRecord record;  // Stored once the broker answers.
  };

  void Ask(const std::string& client, const ReleaseControl& c);
  void List(const std::string& client);
  // Approves or denies `record` (an incoming, undecided request).
  Status Decide(const std::string& client, ReleaseRecord record, const ReleaseControl& c,
                const std::string& rule);
  Result<std::vector<std::uint8_t>> SealRelease(const ReleaseRecord& record,
                                                const std::string& label,
                                                std::span<const std::uint8_t> content,
                                                ReleaseId& report_id);
  void Send(const std::string& client, const std::vector<std::uint8_t>& frame, std::uint64_t rid,
            ReleaseRecord record);
  void ReplyError(const std::string& client, const Status& status);
  void ReplyRecords(const std::string& client, const std::vector<ReleaseRecord>& records);

  const Clock& clock_;
  const NodeIdentity& identity_;
  const DirectoryCache& directory_;
  const InboxStore& inbox_;
  ReleaseBook& book_;
  ReleaseSources& sources_;
  std::vector<ReleaseRule> rules_;
  BrokerChannel& broker_;
  ControlReplier& replier_;
  std::map<std::uint64_t, Call> calls_;               // Broker request id -> call.
  std::map<std::string, Clock::TimePoint> asked_at_;  // Outgoing request hex -> when asked.
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_RELEASE_OFFICER_H_
