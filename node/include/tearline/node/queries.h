// Queries: the analysts' `track` and `prove` requests, answered from the broker.
//
//   - a report id may be given as a unique prefix (at least 4 hex characters) of a report this
//     node sent (outbox and sent records) or, for prove, received; an unknown full id is asked
//     about anyway (REPORT_BAD_ID, REPORT_AMBIGUOUS_ID, REPORT_NOT_FOUND otherwise);
//   - track sends one TrackRequest; prove sends one ProofRequest per audit record known for the
//     report (the outcomes of its sent record, at most 256) or the one given with --seq, and
//     verifies every ProofReply here (see proof_check.h), its checkpoint compared with the
//     witnessed one (LogWitness::JudgeProofCheckpoint);
//   - answers go to the CLI when every reply arrived, on an Error frame for one of the requests,
//     or after 8 s (BROKER_NO_REPLY); without a session the CLI is told BROKER_UNAVAILABLE;
//     at most 64 queries wait at once (NODE_BUSY).
//
// Ownership: references the Clock, the stores, the outbox, the witness, the channel and the
// replier (owned by the daemon). Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_QUERIES_H_
#define TEARLINE_NODE_QUERIES_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <string>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"
#include "tearline/node/broker_channel.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/inbox_store.h"
#include "tearline/node/log_witness.h"
#include "tearline/node/outbox.h"
#include "tearline/node/outbox_store.h"
#include "tearline/node/proof_check.h"

namespace tearline::node {

inline constexpr std::size_t kMaxPendingQueries = 64;
// How long the daemon waits for the broker's answers to track/prove (the CLI waits longer).
inline constexpr std::chrono::milliseconds kQueryDeadline{8000};
inline constexpr std::size_t kMaxProofsPerQuery = 256;

struct QuerySources {
  SentStore* sent = nullptr;
  InboxStore* inbox = nullptr;
  const Outbox* outbox = nullptr;
};

class Queries {
 public:
  Queries(const Clock& clock, std::string broker_endpoint, std::string broker_id,
          PublicKey broker_signing_key, QuerySources sources, LogWitness& witness,
          BrokerChannel& broker, ControlReplier& replier);

  void StartTrack(const std::string& client, const ControlRequest& request);
  void StartProve(const std::string& client, const ControlRequest& request);
  void OnTrackReply(std::uint64_t request_id, TrackReplyInfo info);
  void OnProofReply(std::uint64_t request_id, const RecordProof& proof);
  // An Error frame; ignored unless it answers one of the pending requests.
  void OnError(std::uint64_t request_id, const std::string& reason, const std::string& message);
  void Tick();
  void StopAll();

  std::size_t size() const { return queries_.size(); }

 private:
  struct Pending {
    ControlOp op = ControlOp::kTrack;
    std::string client;
    Clock::TimePoint deadline;
    std::string report_id_hex;
    std::uint64_t track_rid = 0;
    std::map<std::uint64_t, std::size_t> proof_rids;  // Request id -> index into result.items.
    ProveResult result;
  };
  using Iter = std::list<Pending>::iterator;

  Result<std::string> ResolveReportId(const std::string& raw, bool include_inbox) const;
  // Fills the items (or the note) of a prove request from what this node knows.
  void PlanProofs(const ControlRequest& request, Pending& q) const;
  bool HasCapacity(const std::string& client);
  Iter Find(std::uint64_t rid);
  void MaybeFinishProve(Iter q);
  void ReplyError(const std::string& client, const Status& s);

  const Clock& clock_;
  std::string endpoint_;
  std::string broker_id_;
  PublicKey broker_key_;
  QuerySources sources_;
  LogWitness& witness_;
  BrokerChannel& broker_;
  ControlReplier& replier_;
  std::list<Pending> queries_;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_QUERIES_H_
