// Receiver: reports the broker delivers to this node, and reading them back.
//
// OnDeliver: the originator's certificate from the verified directory (an unknown originator
// triggers one directory refresh and one retry, at most 256 reports waiting), Open (signature,
// window, commitments, local release check, decryption), an explicit second label check for
// this node's nation and clearance, the originator's nation checked against its certificate, a
// durable store in the inbox, then a signed Ack. A copy of a report id already stored is
// acknowledged again once its signature verifies, never stored twice. A copy is verified once,
// by Open, whose authenticated report id the duplicate check uses; only a copy Open refuses has
// its signature checked on its own (InspectReport), to name it in the refusal and to acknowledge
// again a stored copy that expired since. Failures are logged by
// reason (never content) and answered with an Error frame, without an Ack; the Error echoes the
// Deliver's request id and, once the originator's signature verified, names the report id.
// With the daemon's GroupCommit (UseGroupCommit) the Ack leaves after the batch sync that made
// the report durable (AfterDurable), never before. A duplicate whose stored copy differs from
// the delivered bytes (a crash before that sync left it incomplete) is verified and stored again.
// Read: a stored report, opened again with the receipt time (an expired report stays readable).
// A forwarded copy (a Forward, tearline/envelope/forward.h) is handled the same way with both
// the originator's and the forwarder's certificates, stored and acknowledged under its forward
// id, with the chain (originator, forwarder) in its inbox metadata.
//
// Ownership: references the Clock, the identity, the inbox, the directory and the channel
// (owned by the daemon); owns the reports waiting for a directory refresh.
// Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_RECEIVER_H_
#define TEARLINE_NODE_RECEIVER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/node/broker_channel.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/directory_cache.h"
#include "tearline/node/group_commit.h"
#include "tearline/node/inbox_store.h"
#include "tearline/node/node_identity.h"
#include "tearline/wire/wire.h"

namespace tearline::node {

inline constexpr std::size_t kMaxStashedDelivers = 256;

class Receiver {
 public:
  Receiver(const Clock& clock, const NodeIdentity& identity, InboxStore& inbox,
           DirectoryCache& directory, BrokerChannel& broker);

  void OnDeliver(std::uint64_t request_id, std::vector<std::uint8_t> report);
  // After a directory update: retries the reports whose originator was unknown (once).
  void RetryStashed();
  // Acks wait for `commit`'s batch sync from now on (not owned; must outlive the receiver).
  void UseGroupCommit(GroupCommit* commit) { commit_ = commit; }
  // Errors: those of InboxStore::Find/ReadReport and Open; INBOX_CORRUPT.
  [[nodiscard]] Result<ReadResult> Read(const std::string& id) const;

 private:
  struct Stashed {
    std::uint64_t request_id = 0;
    std::vector<std::uint8_t> report;
  };
  void Handle(std::uint64_t rid, std::vector<std::uint8_t> report, bool after_refresh);
  // Sets `report_id` once the originator's signature verified (so a refusal can name it).
  Status OpenVerifyStore(const std::vector<std::uint8_t>& report, const Certificate& oc,
                         std::uint64_t rid, std::optional<ReportId>* report_id);
  // After Open refused `report` with `refusal`: verifies the signature alone (InspectReport);
  // when it holds, names the report (`report_id`) and acknowledges an identical stored copy
  // again (OK), else returns `refusal`.
  Status RefusedOrDuplicate(const std::vector<std::uint8_t>& report, const Certificate& oc,
                            std::uint64_t rid, Status refusal, std::optional<ReportId>* report_id);
  Status AckDuplicate(std::uint64_t rid, const ReportId& report_id, const std::string& originator);
  // The checks every opened copy gets (originator nation, this node's own label decision), then
  // the durable store of `e` (id and chain filled in by the caller) and the Ack naming `ack_id`.
  Status StoreOpened(const OpenedReport& opened, const Certificate& oc,
                     const std::vector<std::uint8_t>& report, std::uint64_t rid,
                     const ReportId& ack_id, InboxEntry e, InboxStore::StoreMode mode);
  void HandleForward(std::uint64_t rid, std::vector<std::uint8_t> bytes, bool after_refresh);
  Status OpenVerifyStoreForward(const std::vector<std::uint8_t>& bytes, const Certificate& oc,
                                const Certificate& fc, std::uint64_t rid,
                                std::optional<ReportId>* forward_id);
  Status SendAck(std::uint64_t rid, const ReportId& report_id);
  void SendError(std::uint64_t rid, const Status& s);

  const Clock& clock_;
  const NodeIdentity& identity_;
  InboxStore& inbox_;
  DirectoryCache& directory_;
  BrokerChannel& broker_;
  std::deque<Stashed> stashed_;
  GroupCommit* commit_ = nullptr;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_RECEIVER_H_
