// LogService: the broker's side of the transparency log. Signs checkpoints (after
// checkpoint_every new records, or after checkpoint_interval when anything was appended, and at
// start and stop), serves the latest checkpoint with a consistency proof, stores witnesses'
// cosignatures after checking them, and serves inclusion proofs of the records the asking node
// may prove. Also publishes what auditors need besides the records (the exact policy bytes and
// the certificates of the root and of every node) into the audit directory.
//
// What a node may prove (docs/PROTOCOL.md, ProofRequest): the originator of a report every
// record of that report; a recipient the records of the copy released to it (queued, delivered,
// acknowledged, expired), never a denied record, not even one naming it, so it learns nothing
// about what was withheld from it; any node the records about its own connection and input
// (`node`). Every other record gets the same PROOF_FORBIDDEN answer, whatever it says.
//
// Requests never sign on demand: a proof of a record no checkpoint covers yet waits (parked,
// bounded) for the next scheduled checkpoint and is answered through the FrameSender right
// after it is signed, so no node can make the broker sign more than once per
// checkpoint_interval (plus once per checkpoint_every records, which grow only with the log).
//
// Ownership: holds references to the audit log, directory and clock, and the sender pointer
// (all must outlive it).
// Thread-safety: none; the broker's Run() thread only (AuditLog itself is locked, so records may
// be appended from other threads meanwhile).
#ifndef TEARLINE_BROKER_LOG_SERVICE_H_
#define TEARLINE_BROKER_LOG_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/broker/delivery_queues.h"
#include "tearline/identity/directory.h"
#include "tearline/identity/trust_store.h"
#include "tearline/wire/wire.h"

namespace tearline {
class AuditLog;
}  // namespace tearline

namespace tearline::broker {

struct LogServiceOptions {
  std::uint64_t checkpoint_every = 1024;
  std::chrono::milliseconds checkpoint_interval{2000};
};

// The originator of an accepted report (by lower-case hex id), or nullopt when unknown.
using OriginatorLookup = std::function<std::optional<std::string>(std::string_view report_id)>;

class LogService {
 public:
  // Proof requests that may wait for the next checkpoint, per node and in all; further ones
  // are refused with PROOF_BUSY until it is signed.
  static constexpr std::size_t kMaxParkedPerNode = 256;
  static constexpr std::size_t kMaxParked = 4096;
  // A parked answer the transport would not take (the node's send queue is full, or it left)
  // is offered again at every housekeeping for this long, then dropped: the node asks again.
  static constexpr std::chrono::seconds kUnsentAnswerLifetime{10};

  // `sender` answers parked proof requests (null: they are answered only by the frames
  // Proof() returns, i.e. never; for tests without a transport). `originator_of` resolves the
  // originator of records that do not name it (acknowledged, delivered from the queue).
  LogService(AuditLog& log, const Directory& directory, const Clock& clock,
             LogServiceOptions options, FrameSender* sender = nullptr,
             OriginatorLookup originator_of = {});
  LogService(const LogService&) = delete;
  LogService& operator=(const LogService&) = delete;

  // Writes policy.toml (the bytes at `policy_path`) and certs/ (root + every directory node)
  // into the audit directory. Errors: POLICY_*, AUDIT_IO and file errors.
  Status PublishAuditContext(const std::filesystem::path& policy_path, const TrustStore& trust);

  // Signs a checkpoint when due (or `force`d and anything is new), then answers parked proof
  // requests (and offers again the answers the transport refused earlier). Only the broker's own
  // schedule forces (start, stop). A checkpoint that cannot be written is logged and kept in
  // failure(): the broker treats it as fatal (docs/AUDIT.md, "When the broker stops").
  void MaybeCheckpoint(bool force);
  // The first checkpoint that could not be signed or written (Ok while none failed).
  Status failure() const { return failure_; }
  // Signs a checkpoint now; for start-up, where a failure must stop the broker.
  Status Checkpoint();

  // Frames answering the node's requests (a reply, or an Error frame).
  std::vector<std::uint8_t> CheckpointReply(std::uint64_t request_id, std::uint64_t old_size);
  // The ProofReply, an Error frame (AUDIT_NO_RECORD, PROOF_FORBIDDEN, PROOF_BUSY), or an empty
  // vector when the request waits for the next checkpoint (answered through the sender).
  std::vector<std::uint8_t> Proof(const std::string& node_id, std::uint64_t request_id,
                                  std::uint64_t seq);
  std::size_t parked() const { return parked_.size(); }
  // Checks a witness's cosignature of one of our checkpoints and stores it. Errors (to be
  // rejected to the node): COSIGNATURE_MALFORMED, COSIGNATURE_UNKNOWN_CHECKPOINT,
  // COSIGNATURE_CHECK and the verification error.
  Status StoreCosignature(const std::string& node_id, const schema::Cosignature& cosignature);

  // For the metrics page: when this service last signed a checkpoint (none yet: nullopt), and
  // when each witness's last valid cosignature arrived since the broker started.
  std::optional<Clock::TimePoint> last_checkpoint() const { return last_checkpoint_; }
  const std::map<std::string, Clock::TimePoint>& last_cosignatures() const {
    return last_cosigned_;
  }

 private:
  struct Parked {
    std::string node_id;
    std::uint64_t request_id = 0;
    std::uint64_t seq = 0;
    // Set when a covering checkpoint exists but the send was refused.
    std::optional<Clock::TimePoint> unsent_since;
  };
  bool MayProve(const std::string& node_id, const std::string& record) const;
  std::vector<std::uint8_t> ProofReply(std::uint64_t request_id, std::uint64_t seq,
                                       const std::string& record) const;
  void AnswerParked();

  AuditLog& log_;
  const Directory& directory_;
  const Clock& clock_;
  const LogServiceOptions options_;
  Status failure_;
  FrameSender* sender_;
  OriginatorLookup originator_of_;
  std::optional<Clock::TimePoint> last_checkpoint_;  // None signed by this service yet.
  std::vector<Parked> parked_;
  std::map<std::string, std::size_t> parked_per_node_;
  std::map<std::string, Clock::TimePoint> last_cosigned_;  // Witness -> last valid cosignature.
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_LOG_SERVICE_H_
