#include "tearline/node/log_witness.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "tearline/base/file_util.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/wire/wire.h"

namespace tearline::node {

LogWitness::LogWitness(const Clock& clock, LogWitnessConfig config, const SigningKeyPair& signing,
                       BrokerChannel& broker)
    : clock_(clock), config_(std::move(config)), signing_(signing), broker_(broker) {}

void LogWitness::Load() {
  std::ifstream in(config_.state_file, std::ios::binary);
  if (!in) return;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string note = ss.str();
  auto cp = ParseCheckpointBody(note.substr(0, note.find("\n\n") + 1));
  if (cp.ok()) {
    size_ = cp->tree_size;
    root_ = cp->root_hash;
  }
}

void LogWitness::Tick(std::chrono::milliseconds heartbeat) {
  if (!broker_.welcomed()) return;
  const auto now = clock_.Now();
  if (now - last_request_ < heartbeat * kCheckpointEveryHeartbeats) return;
  last_request_ = now;
  pending_request_ = broker_.NewRequestId();
  pending_size_ = size_;
  (void)broker_.Send(EncodeCheckpointRequest(pending_request_, size_));
}

void LogWitness::OnError(std::uint64_t request_id, const std::string& reason) {
  if (request_id == 0 || request_id != pending_request_) return;
  pending_request_ = 0;
  // A broker that signed the cosigned size always has a checkpoint at least that large: saying
  // otherwise means its log went back (restored, truncated or replaced).
  if (reason == "CHECKPOINT_UNAVAILABLE" && pending_size_ > 0 && pending_size_ == size_) {
    Alarm("broker has no checkpoint of at least size " + std::to_string(size_) +
          ", which this node cosigned: its audit log was rolled back (it answered " + reason + ")");
  }
}

void LogWitness::Alarm(const std::string& why) {
  alarm_ = why;
  spdlog::critical("event=audit_log_inconsistent broker_id={} cosigned_size={} detail=\"{}\"",
                   config_.broker_id, size_, why);
}

void LogWitness::OnCheckpointReply(const CheckpointAnswer& r) {
  const std::string origin = "tearline/audit/" + config_.broker_id;
  auto key = MakeNoteVerifierKey(origin, NoteKeyType::kEd25519, config_.broker_signing_key);
  if (!key.ok()) return;
  auto opened = OpenCheckpoint(r.note, origin, *key);
  if (!opened.ok()) {
    Alarm("checkpoint signature does not verify: " + opened.status().ToString());
    return;
  }
  const Checkpoint& cp = opened->checkpoint;
  if (r.old_size != size_) return;  // Stale reply to an older request.
  if (cp.tree_size < size_) {
    Alarm("broker presented a checkpoint of size " + std::to_string(cp.tree_size) +
          " after this node cosigned size " + std::to_string(size_));
    return;
  }
  if (cp.tree_size == size_ && size_ > 0) {
    if (cp.root_hash != root_) {
      Alarm("two different roots signed for size " + std::to_string(cp.tree_size));
    }
    return;  // Nothing new to cosign.
  }
  if (size_ > 0) {
    if (r.proof.size() % 32 != 0) {
      Alarm("malformed consistency proof");
      return;
    }
    std::vector<Hash> proof;
    for (std::size_t i = 0; i < r.proof.size(); i += 32) {
      Hash h{};
      std::copy_n(r.proof.begin() + static_cast<std::ptrdiff_t>(i), 32, h.begin());
      proof.push_back(h);
    }
    Status st = VerifyConsistency(size_, cp.tree_size, root_, cp.root_hash, proof);
    if (!st.ok()) {
      Alarm("checkpoint " + std::to_string(cp.tree_size) +
            " is not consistent with the cosigned checkpoint " + std::to_string(size_) + ": " +
            st.ToString());
      return;
    }
  }
  auto line = Cosign(cp, config_.node_id, signing_, static_cast<std::uint64_t>(clock_.UnixNow()));
  if (!line.ok()) {
    spdlog::error("event=cosign_failed reason={}", line.status().reason());
    return;
  }
  CosignAndStore(r.note, cp.tree_size, cp.root_hash, *line);
}

void LogWitness::CosignAndStore(const std::string& note, std::uint64_t size, const Hash& root,
                                const std::string& cosignature) {
  std::error_code ec;
  std::filesystem::create_directories(config_.state_file.parent_path(), ec);
  if (Status st =
          WriteFileAtomic(config_.state_file,
                          {reinterpret_cast<const std::uint8_t*>(note.data()), note.size()}, 0600);
      !st.ok()) {
    spdlog::error("event=witness_store_failed reason={}", st.reason());
    return;
  }
  size_ = size;
  root_ = root;
  std::string text = cosignature;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  (void)broker_.Send(EncodeCosignature(broker_.NewRequestId(), size, text));
  spdlog::info("event=checkpoint_cosigned size={}", size);
}

void LogWitness::JudgeProofCheckpoint(std::uint64_t size, const Hash& root, ProofItem& item) {
  if (size_ == 0) {
    item.verified = true;
    item.message = "this node has not witnessed a checkpoint yet";
  } else if (size == size_) {
    item.verified = root == root_;
    if (item.verified) {
      item.message = "it is the checkpoint this node witnessed";
    } else {
      item.reason = "PROOF_CHECKPOINT_FORK";
      item.message = "the broker signed two different roots for size " + std::to_string(size_);
      Alarm(item.message);
    }
  } else if (size > size_) {
    item.verified = true;
    item.message = "newer than the checkpoint this node witnessed (size " + std::to_string(size_) +
                   "); the next witness round proves the two consistent";
  } else {
    item.verified = true;
    item.message = "older than the checkpoint this node witnessed (size " + std::to_string(size_) +
                   "); consistency with it not re-checked";
  }
}

}  // namespace tearline::node
