// A hostile node against the broker's log service, over a real CURVE connection: it asks for
// inclusion proofs of records it has no business proving (those that record what was withheld
// from it, or that concern others), asks to track reports it was denied, and floods the requests
// that used to make the broker sign a checkpoint each (ProofRequest of a record no checkpoint
// covers yet, CheckpointRequest).
//
// Ownership: borrows the WireClient. Thread-safety: one thread at a time.
#ifndef TEARLINE_TESTS_SUPPORT_HOSTILE_LOG_CLIENT_H_
#define TEARLINE_TESTS_SUPPORT_HOSTILE_LOG_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tearline/wire/wire.h"
#include "wire_client.h"

namespace tearline::testing {

// The broker's answer to one ProofRequest.
struct ProofAnswer {
  bool answered = false;
  bool proved = false;  // A ProofReply came.
  std::string record;   // Its record line.
  std::string reason;   // Otherwise the Error's reason and message.
  std::string message;
};

class HostileLogClient {
 public:
  explicit HostileLogClient(WireClient& client) : client_(client) {}

  // Asks for a proof of every seq in `seqs` at once, then collects the answers for up to
  // `timeout` (the broker may hold some until its next checkpoint).
  std::map<std::uint64_t, ProofAnswer> AskProofs(const std::vector<std::uint64_t>& seqs,
                                                 std::chrono::milliseconds timeout);

  // TrackRequest for `report_id`: the Error's reason and message, or "TRACK_REPLY" when the
  // broker answered with the report's status, "" when nothing came.
  std::pair<std::string, std::string> Track(const std::vector<std::uint8_t>& report_id);

  struct FloodResult {
    std::size_t submits = 0;          // Reports the broker accepted.
    std::size_t proof_requests = 0;   // ProofRequests sent (one per record a reply named).
    std::size_t proofs_answered = 0;  // ProofReply frames received.
    std::size_t other_answers = 0;    // Error frames answering a ProofRequest.
    std::chrono::milliseconds elapsed{0};
  };
  // `rounds` times: submits report(i) (each adds records naming this node as originator), then
  // at once asks for a proof of every record the SubmitReply names and for the latest
  // checkpoint, without waiting for those answers. Finally collects every proof answer, for up
  // to `drain` after the last round.
  FloodResult FloodProofAndCheckpointRequests(
      const std::function<std::vector<std::uint8_t>(int)>& report, int rounds,
      std::chrono::milliseconds drain);

 private:
  // Handles one incoming frame: proof answers (by request id) go to `answers`.
  void Take(const std::vector<std::uint8_t>& bytes);

  WireClient& client_;
  std::uint64_t next_request_id_ = 5000;
  std::map<std::uint64_t, std::uint64_t> proof_requests_;  // request id -> seq.
  std::map<std::uint64_t, ProofAnswer> answers_;           // seq -> latest answer.
  std::size_t errors_ = 0;
  std::vector<SubmitReplyInfo> submit_replies_;
};

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_HOSTILE_LOG_CLIENT_H_
