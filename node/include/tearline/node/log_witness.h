// LogWitness: this node's watch over the broker's audit log.
//
// The node keeps the latest audit checkpoint it verified and cosigned (persisted in
// DATA_DIR/witness/checkpoint, so a restart does not forget it). Every newer checkpoint must be
// signed by the broker's log key and proven consistent with it, so a broker that rewrites or
// forks its log is caught:
//   - Tick() asks for the broker's latest checkpoint every 4 heartbeats while welcomed;
//   - OnCheckpointReply() verifies the signature, refuses a smaller size or a different root
//     for the same size, checks the consistency proof, then persists the new checkpoint and
//     sends a Cosignature (the state is persisted before the cosignature leaves);
//   - JudgeProofCheckpoint() compares the checkpoint of an inclusion proof (track/prove) with
//     the witnessed one.
// Any inconsistency raises the alarm: event=audit_log_inconsistent (critical) and alarm() is
// set for good (the daemon shows it in `status`). That includes a rollback: a checkpoint
// smaller than the one this node cosigned, or a broker that answers the checkpoint request
// naming the cosigned size with CHECKPOINT_UNAVAILABLE (it no longer holds that checkpoint).
// Nothing is cosigned then; the persisted checkpoint, the largest cosigned, stays as evidence.
//
// Ownership: references the Clock, the channel and the signing keys (owned by the daemon).
// Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_LOG_WITNESS_H_
#define TEARLINE_NODE_LOG_WITNESS_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/crypto/keys.h"
#include "tearline/node/broker_channel.h"
#include "tearline/node/control_protocol.h"
#include "tearline/tlog/merkle.h"

namespace tearline::node {

// Ask for the broker's latest audit checkpoint every this many heartbeats.
inline constexpr int kCheckpointEveryHeartbeats = 4;

// A CheckpointReply's content, copied out of the frame.
struct CheckpointAnswer {
  std::string note;                 // Signed checkpoint note.
  std::uint64_t old_size = 0;       // The size the request named.
  std::vector<std::uint8_t> proof;  // Consistency proof: concatenated 32-byte hashes.
};

struct LogWitnessConfig {
  std::string node_id;  // Cosigner name.
  std::string broker_id;
  PublicKey broker_signing_key{};
  std::filesystem::path state_file;  // DATA_DIR/witness/checkpoint.
};

class LogWitness {
 public:
  LogWitness(const Clock& clock, LogWitnessConfig config, const SigningKeyPair& signing,
             BrokerChannel& broker);

  // Reads the persisted checkpoint, if any (a missing or unreadable file: nothing witnessed).
  void Load();
  void Tick(std::chrono::milliseconds heartbeat);
  void OnCheckpointReply(const CheckpointAnswer& answer);
  // An Error frame answering `request_id`; only the answer to this witness's own checkpoint
  // request is judged.
  // (The broker's message is not kept: it is the broker's text, not evidence.)
  void OnError(std::uint64_t request_id, const std::string& reason);
  // Sets item.verified / reason / message for a proof whose verified checkpoint has
  // `size` and `root`.
  void JudgeProofCheckpoint(std::uint64_t size, const Hash& root, ProofItem& item);

  std::uint64_t witnessed_size() const { return size_; }
  const Hash& witnessed_root() const { return root_; }
  // Empty unless an inconsistency was seen.
  const std::string& alarm() const { return alarm_; }
  // Sets status.witnessed_size and status.audit_alarm.
  void FillStatus(StatusResult& status) const {
    status.witnessed_size = size_;
    status.audit_alarm = alarm_;
  }

 private:
  void Alarm(const std::string& why);
  void CosignAndStore(const std::string& note, std::uint64_t size, const Hash& root,
                      const std::string& cosignature);

  const Clock& clock_;
  LogWitnessConfig config_;
  const SigningKeyPair& signing_;
  BrokerChannel& broker_;
  std::uint64_t size_ = 0;
  Hash root_{};
  std::string alarm_;
  Clock::TimePoint last_request_{};
  std::uint64_t pending_request_ = 0;  // Request id of the last checkpoint request; 0: none.
  std::uint64_t pending_size_ = 0;     // The size that request named.
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_LOG_WITNESS_H_
