// ReleaseDesk: the broker's part in release requests (docs/PROTOCOL.md "Release requests").
//
// A node asks the originator of a portion it holds to release it to another nation
// (ReleaseRequest); the desk checks the request, audits it (release_requested), answers the
// requester with a pending ReleaseStatus and hands the originator a ReleaseNotice. The originator
// answers with a signed ReleaseDecision; the desk verifies it and, on approval, routes the
// release report it carries through the normal submit pipeline (which enforces the new label
// exactly like any report), audits the decision and tells both sides (ReleaseStatus).
//
// Checks on a request, in order: fields (RELEASE_MALFORMED), the nation (RELEASE_UNKNOWN_NATION),
// the report (RELEASE_UNKNOWN_REPORT), that the requester holds the portion (RELEASE_NOT_HELD: it
// was delivered or queued to it), that the nation does not hold it already (RELEASE_ALREADY_HELD),
// a fresh request id (RELEASE_DUPLICATE_REQUEST), the requester's undecided requests
// (RELEASE_REQUEST_LIMIT: at most max_per_node) and the desk's total (RELEASE_REQUEST_LIMIT).
// Checks on a decision, in order: fields and the signed body (RELEASE_MALFORMED), a known request
// (RELEASE_UNKNOWN_REQUEST), not yet decided (RELEASE_REPLAYED: a decision counts once), sent by
// the report's originator (RELABEL_NOT_ORIGINATOR), signed by its key (RELABEL_BAD_SIGNATURE),
// about this request (RELABEL_MISMATCH); for an approval: the new label is canonical
// (RELABEL_BAD_LABEL), still releases to the originator's nation (RELABEL_DROPS_ORIGINATOR) and,
// unless sanitised, to every nation that holds the portion (RELABEL_DROPS_HOLDER), releases to the
// requested nation (RELABEL_NOT_RELEASED); the release report is the originator's, has the
// decision's id and exactly one portion with the decision's label (RELABEL_MISMATCH), and the
// submit pipeline accepts it (its own reasons).
//
// Requests are held in memory (bounded by max_requests) and written through to the report store
// (ReportStore::PutRelease, schema version 3) after their audit record, as are the nations a
// portion was released to through an approval: a restarted broker Restore()s both, so an
// undecided request can still be decided, a decision is still refused as a replay, and notices
// and decided statuses a node missed while offline are sent again after its Hello (Owed). A
// store write that fails after the audit record is logged (release_store_failed): the record
// stands, and a request whose write failed is refused with the store's reason.
//
// Ownership: references the directory, policy, store, auditor, pipeline and clock (the broker
// owns them). Thread-safety: the broker's Run() thread only.
#ifndef TEARLINE_BROKER_RELEASE_DESK_H_
#define TEARLINE_BROKER_RELEASE_DESK_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/broker/auditor.h"
#include "tearline/broker/delivery_queues.h"
#include "tearline/broker/report_store.h"
#include "tearline/broker/submit_pipeline.h"
#include "tearline/identity/directory.h"
#include "tearline/labels/policy.h"
#include "tearline/wire/release_frames.h"

namespace tearline::broker {

struct ReleaseDeskOptions {
  std::size_t max_per_node = 16;    // Undecided requests one node may have open.
  std::size_t max_requests = 4096;  // Requests (undecided and decided) the desk remembers.
};

// One frame for a node. A notice (to the originator) or a decided status (to the requester) is
// owed until Sent() is called for it; a reply to the sender's own frame is not tracked.
struct ReleaseFrame {
  std::string node_id;
  std::vector<std::uint8_t> frame;
  std::string request_hex;
  bool notice = false;   // A ReleaseNotice to the originator.
  bool tracked = false;  // Owed until Sent().
};

// What to send after a request or decision: the release report's deliveries first, then frames,
// or a refusal for the sender (the broker audits it as rejected_input and answers with Error).
struct ReleaseEffects {
  std::vector<Delivery> deliveries;
  std::vector<ReleaseFrame> frames;
  std::optional<Status> refusal;
  std::string report_id_hex;  // The report a refusal names ("" when none).
};

class ReleaseDesk {
 public:
  ReleaseDesk(const Directory& directory, const Policy& policy, ReportStore& store,
              Auditor& auditor, SubmitPipeline& submits, const Clock& clock,
              ReleaseDeskOptions options);
  ReleaseDesk(const ReleaseDesk&) = delete;
  ReleaseDesk& operator=(const ReleaseDesk&) = delete;

  // Loads the requests and released portions a previous run stored. A stored request that no
  // longer decodes is skipped with a warning (release_restore_skipped). Errors: the store's.
  [[nodiscard]] Status Restore();

  ReleaseEffects Request(const std::string& node_id, std::uint64_t rid,
                         const schema::ReleaseRequest& request);
  ReleaseEffects Decide(const std::string& node_id, std::uint64_t rid,
                        const schema::ReleaseDecision& decision);
  // Frames owed to a node that (re)connected: notices of undecided requests about its reports,
  // decided statuses it has not been sent. Call Sent() for each frame that went out.
  std::vector<ReleaseFrame> Owed(const std::string& node_id) const;
  // A tracked frame reached its node (or is held for it by the commit group): owed no more.
  void Sent(const ReleaseFrame& frame);
  // A held tracked frame the transport refused when its group closed: owed again.
  void Unsent(const ReleaseFrame& frame);
  // Sends what Request/Decide/Owed produced (without a refusal): the release report's copies
  // through `queues`, then the frames through `sender`; a tracked frame the sender did not take
  // (now, or when its commit group closed: on_unsent) stays owed until the node's next Hello.
  void Send(ReleaseEffects effects, DeliveryQueues& queues, FrameSender& sender);

  std::size_t size() const { return requests_.size(); }

 private:
  struct Entry {
    ReleaseNoticeInfo notice;
    std::string originator;
    std::string originator_nation;
    ReleaseStatusInfo status;  // state pending until decided.
    bool originator_told = false;
    bool requester_told = false;
    std::int64_t order = 0;
  };

  Result<std::set<std::string>> HoldersOf(const StoredReport& report, std::uint32_t portion,
                                          const std::string& requester, bool* requester_holds);
  Status CheckApproval(const Entry& e, const ReleaseDecisionInfo& d,
                       std::span<const std::uint8_t> report);
  bool MakeRoom();
  // "report/portion", the key of released_.
  static std::string PortionKey(const std::string& report_hex, std::uint32_t portion);
  // Writes the entry through to the store (after its audit record; release_desk_book.cc).
  Status Persist(const std::string& hex, const Entry& e);
  ReleaseFrame NoticeFrame(const std::string& hex, const Entry& e) const;
  ReleaseFrame StatusFrame(const std::string& hex, const Entry& e) const;
  Status CheckDecision(const std::string& sender, const ReleaseDecisionInfo& d,
                       std::span<const std::uint8_t> body, std::span<const std::uint8_t> signature,
                       const Entry& e) const;

  const Directory& directory_;
  const Policy& policy_;
  ReportStore& store_;
  Auditor& auditor_;
  SubmitPipeline& submits_;
  const Clock& clock_;
  ReleaseDeskOptions options_;
  std::map<std::string, Entry> requests_;  // Request id hex -> entry.
  // Nations a portion was released to through an approved request ("report/portion" -> nations).
  std::map<std::string, std::set<std::string>> released_;
  std::int64_t next_order_ = 0;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_RELEASE_DESK_H_
