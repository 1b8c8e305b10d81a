#include "hostile_log_client.h"

#include <utility>

namespace tearline::testing {

void HostileLogClient::Take(const std::vector<std::uint8_t>& bytes) {
  auto frame = DecodeFrame(bytes);
  if (!frame.ok()) return;
  const schema::Frame& f = **frame;
  if (f.body_type() == schema::Body::SubmitReply) {
    submit_replies_.push_back(ToSubmitReplyInfo(*f.body_as_SubmitReply()));
    return;
  }
  auto it = proof_requests_.find(f.request_id());
  if (it == proof_requests_.end()) return;
  ProofAnswer& a = answers_[it->second];
  a.answered = true;
  if (f.body_type() == schema::Body::ProofReply) {
    const auto* p = f.body_as_ProofReply();
    a.proved = true;
    a.record = p->record() ? p->record()->str() : "";
  } else if (f.body_type() == schema::Body::Error) {
    const auto* e = f.body_as_Error();
    a.reason = e->reason() ? e->reason()->str() : "";
    a.message = e->message() ? e->message()->str() : "";
    ++errors_;
  }
  proof_requests_.erase(it);
}

std::map<std::uint64_t, ProofAnswer> HostileLogClient::AskProofs(
    const std::vector<std::uint64_t>& seqs, std::chrono::milliseconds timeout) {
  answers_.clear();
  for (std::uint64_t seq : seqs) {
    const std::uint64_t rid = next_request_id_++;
    proof_requests_[rid] = seq;
    client_.Send(EncodeProofRequest(rid, seq));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!proof_requests_.empty() && std::chrono::steady_clock::now() < deadline) {
    auto bytes = client_.Recv(std::chrono::milliseconds(100));
    if (!bytes.empty()) Take(bytes);
  }
  return answers_;
}

std::pair<std::string, std::string> HostileLogClient::Track(
    const std::vector<std::uint8_t>& report_id) {
  const std::uint64_t rid = next_request_id_++;
  client_.Send(EncodeTrackRequest(rid, report_id));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto bytes = client_.Recv(std::chrono::milliseconds(100));
    if (bytes.empty()) continue;
    auto frame = DecodeFrame(bytes);
    if (!frame.ok() || (*frame)->request_id() != rid) continue;
    if ((*frame)->body_type() == schema::Body::TrackReply) return {"TRACK_REPLY", ""};
    if (const auto* e = (*frame)->body_as_Error()) {
      return {e->reason() ? e->reason()->str() : "", e->message() ? e->message()->str() : ""};
    }
  }
  return {"", ""};
}

HostileLogClient::FloodResult HostileLogClient::FloodProofAndCheckpointRequests(
    const std::function<std::vector<std::uint8_t>(int)>& report, int rounds,
    std::chrono::milliseconds drain) {
  FloodResult result;
  answers_.clear();
  errors_ = 0;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) {
    submit_replies_.clear();
    client_.Send(EncodeSubmit(next_request_id_++, report(i)));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (submit_replies_.empty() && std::chrono::steady_clock::now() < deadline) {
      auto bytes = client_.Recv(std::chrono::milliseconds(100));
      if (!bytes.empty()) Take(bytes);
    }
    if (submit_replies_.empty() || !submit_replies_.front().accepted) continue;
    ++result.submits;
    for (const RecipientOutcomeInfo& o : submit_replies_.front().outcomes) {
      if (o.record_seq == 0) continue;
      const std::uint64_t rid = next_request_id_++;
      proof_requests_[rid] = o.record_seq;
      client_.Send(EncodeProofRequest(rid, o.record_seq));
      ++result.proof_requests;
    }
    client_.Send(EncodeCheckpointRequest(next_request_id_++, 0));
  }
  const auto deadline = std::chrono::steady_clock::now() + drain;
  while (!proof_requests_.empty() && std::chrono::steady_clock::now() < deadline) {
    auto bytes = client_.Recv(std::chrono::milliseconds(100));
    if (!bytes.empty()) Take(bytes);
  }
  for (const auto& [seq, a] : answers_) {
    if (a.proved) ++result.proofs_answered;
  }
  result.other_answers = errors_;
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return result;
}

}  // namespace tearline::testing
