// libFuzzer target: the node <-> broker wire codec (DecodeFrame, every body accessor, and the
// plain-data decoders ToSubmitReplyInfo / ToTrackReplyInfo), and PeekRequestId.
//
// Input: one frame, exactly as it would arrive from a socket.
// Properties checked beyond "no crash, no sanitizer report": every refusal carries a reason and a
// message; a decoded SubmitReply or TrackReply re-encodes to a frame that decodes to the same
// plain data (so the broker's encoder and the node's decoder agree on everything a frame can
// say); simple bodies re-encode to frames that decode.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "tearline/wire/release_frames.h"
#include "tearline/wire/wire.h"

namespace {

using tearline::schema::Body;
using tearline::schema::Frame;

void Require(bool condition) {
  if (!condition) std::abort();
}

// Reads every byte of a string / vector so the sanitizers see any out-of-bounds access.
std::size_t Touch(const flatbuffers::String* s) {
  if (s == nullptr) return 0;
  std::size_t sum = 0;
  for (char c : s->string_view()) sum += static_cast<unsigned char>(c);
  return sum;
}
template <typename T>
std::size_t Touch(const flatbuffers::Vector<T>* v) {
  if (v == nullptr) return 0;
  std::size_t sum = 0;
  for (auto x : *v) sum += static_cast<std::size_t>(x);
  return sum;
}

bool Same(const tearline::SubmitReplyInfo& a, const tearline::SubmitReplyInfo& b) {
  if (a.report_id != b.report_id || a.accepted != b.accepted || a.duplicate != b.duplicate ||
      a.error_reason != b.error_reason || a.error_message != b.error_message ||
      a.outcomes.size() != b.outcomes.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.outcomes.size(); ++i) {
    const auto& x = a.outcomes[i];
    const auto& y = b.outcomes[i];
    if (x.nation != y.nation || x.node_id != y.node_id || x.state != y.state ||
        x.portions != y.portions || x.reason != y.reason || x.explanation != y.explanation ||
        x.record_seq != y.record_seq || x.denials.size() != y.denials.size()) {
      return false;
    }
    for (std::size_t j = 0; j < x.denials.size(); ++j) {
      const auto& p = x.denials[j];
      const auto& q = y.denials[j];
      if (p.index != q.index || p.label != q.label || p.reason != q.reason ||
          p.explanation != q.explanation) {
        return false;
      }
    }
  }
  return true;
}

bool Same(const tearline::TrackReplyInfo& a, const tearline::TrackReplyInfo& b) {
  if (a.report_id != b.report_id || a.recipients.size() != b.recipients.size()) return false;
  for (std::size_t i = 0; i < a.recipients.size(); ++i) {
    const auto& x = a.recipients[i];
    const auto& y = b.recipients[i];
    if (x.node_id != y.node_id || x.nation != y.nation || x.state != y.state ||
        x.reason != y.reason || x.updated_unix != y.updated_unix || x.record_seq != y.record_seq) {
      return false;
    }
  }
  return true;
}

// Decodes re-encoded bytes (which must be valid) and returns the frame, a view into `holder`,
// which takes the bytes over and must outlive the view.
const Frame* Redecode(std::vector<std::uint8_t> bytes, std::vector<std::uint8_t>& holder,
                      Body expected) {
  holder = std::move(bytes);
  auto frame = tearline::DecodeFrame(holder);
  Require(frame.ok());
  Require((*frame)->body_type() == expected);
  return *frame;
}

std::string Str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

void CheckSubmitReply(const Frame& f) {
  const auto* reply = f.body_as_SubmitReply();
  tearline::SubmitReplyInfo info = tearline::ToSubmitReplyInfo(*reply);
  for (const auto& o : info.outcomes) (void)tearline::DeliveryStateName(o.state);
  std::vector<std::uint8_t> holder;
  const Frame* again =
      Redecode(tearline::EncodeSubmitReply(f.request_id(), info), holder, Body::SubmitReply);
  Require(again->request_id() == f.request_id());
  Require(Same(info, tearline::ToSubmitReplyInfo(*again->body_as_SubmitReply())));
}

void CheckTrackReply(const Frame& f) {
  tearline::TrackReplyInfo info = tearline::ToTrackReplyInfo(*f.body_as_TrackReply());
  std::vector<std::uint8_t> holder;
  const Frame* again =
      Redecode(tearline::EncodeTrackReply(f.request_id(), info), holder, Body::TrackReply);
  Require(Same(info, tearline::ToTrackReplyInfo(*again->body_as_TrackReply())));
}

std::size_t Visit(const Frame& f) {
  std::size_t sum = f.version() + f.request_id();
  std::vector<std::uint8_t> holder;  // Keeps a re-encoded frame alive while it is inspected.
  switch (f.body_type()) {
    case Body::Hello: {
      const auto* b = f.body_as_Hello();
      sum += b->protocol_version() + Touch(b->node_id());
      const Frame* again =
          Redecode(tearline::EncodeHello(f.request_id(), Str(b->node_id())), holder, Body::Hello);
      Require(Str(again->body_as_Hello()->node_id()) == Str(b->node_id()));
      break;
    }
    case Body::Welcome: {
      const auto* b = f.body_as_Welcome();
      sum += b->protocol_version() + Touch(b->broker_id()) +
             static_cast<std::size_t>(b->server_time_unix()) + b->heartbeat_interval_ms();
      break;
    }
    case Body::DirectoryRequest:
      break;
    case Body::Directory: {
      const auto* b = f.body_as_Directory();
      if (b->certificates() != nullptr) {
        for (const auto* c : *b->certificates()) {
          if (c != nullptr) sum += Touch(c->bytes());
        }
      }
      sum += Touch(b->revocation_list());
      break;
    }
    case Body::Submit: {
      const auto* r = f.body_as_Submit()->report();
      sum += Touch(r);
      if (r != nullptr) {
        Redecode(tearline::EncodeSubmit(f.request_id(), {r->data(), r->size()}), holder,
                 Body::Submit);
      }
      break;
    }
    case Body::SubmitReply:
      CheckSubmitReply(f);
      break;
    case Body::Deliver:
      sum += Touch(f.body_as_Deliver()->report());
      break;
    case Body::Ack: {
      const auto* b = f.body_as_Ack();
      sum += Touch(b->report_id()) + Touch(b->signature());
      break;
    }
    case Body::Ping: {
      const Frame* again = Redecode(tearline::EncodePing(f.request_id(), f.body_as_Ping()->nonce()),
                                    holder, Body::Ping);
      Require(again->body_as_Ping()->nonce() == f.body_as_Ping()->nonce());
      break;
    }
    case Body::Pong:
      sum += f.body_as_Pong()->nonce();
      break;
    case Body::Error: {
      const auto* b = f.body_as_Error();
      sum += Touch(b->reason()) + Touch(b->message());
      break;
    }
    case Body::CheckpointRequest:
      sum += f.body_as_CheckpointRequest()->old_size();
      break;
    case Body::CheckpointReply: {
      const auto* b = f.body_as_CheckpointReply();
      sum += Touch(b->note()) + b->old_size() + Touch(b->proof());
      break;
    }
    case Body::Cosignature: {
      const auto* b = f.body_as_Cosignature();
      sum += b->size() + Touch(b->line());
      break;
    }
    case Body::ProofRequest:
      sum += f.body_as_ProofRequest()->seq();
      break;
    case Body::ProofReply: {
      const auto* b = f.body_as_ProofReply();
      sum += Touch(b->note()) + b->seq() + Touch(b->record()) + Touch(b->proof());
      break;
    }
    case Body::TrackRequest:
      sum += Touch(f.body_as_TrackRequest()->report_id());
      break;
    case Body::TrackReply:
      CheckTrackReply(f);
      break;
    // Release frames: the decoders check every field; a decoded value re-encodes to one that
    // decodes the same.
    case Body::ReleaseRequest: {
      auto ask = tearline::ToReleaseAsk(*f.body_as_ReleaseRequest());
      if (ask.ok()) {
        const Frame* again = Redecode(tearline::EncodeReleaseRequest(f.request_id(), *ask), holder,
                                      Body::ReleaseRequest);
        auto back = tearline::ToReleaseAsk(*again->body_as_ReleaseRequest());
        Require(back.ok() && back->why == ask->why && back->to_nation == ask->to_nation);
      }
      break;
    }
    case Body::ReleaseNotice:
      sum += tearline::ToReleaseNoticeInfo(*f.body_as_ReleaseNotice()).ok() ? 1 : 0;
      break;
    case Body::ReleaseStatus:
      sum += tearline::ToReleaseStatusInfo(*f.body_as_ReleaseStatus()).ok() ? 1 : 0;
      break;
    case Body::ReleaseDecision: {
      const auto* b = f.body_as_ReleaseDecision();
      if (b->decision() != nullptr) {
        auto d =
            tearline::DecodeReleaseDecisionBody({b->decision()->data(), b->decision()->size()});
        if (d.ok()) {
          auto back = tearline::DecodeReleaseDecisionBody(tearline::EncodeReleaseDecisionBody(*d));
          Require(back.ok() && back->label == d->label && back->approved == d->approved);
        }
      }
      sum += Touch(b->signature()) + Touch(b->report());
      break;
    }
    default:
      // NONE or a body type from a newer schema: the accessors above all return nullptr.
      break;
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The id a refusal echoes is read from the raw, unaligned bytes before any verification.
  const std::uint64_t peeked = tearline::PeekRequestId({data, size});
  std::vector<std::uint8_t> storage;
  auto aligned = tearline::AlignedForDecode({data, size}, storage);
  auto frame = tearline::DecodeFrame(aligned);
  // A frame that decodes has a readable header: the peek and the decoder agree on its id.
  if (frame.ok()) Require(peeked == (*frame)->request_id());
  if (!frame.ok()) {
    Require(!frame.status().reason().empty() && !frame.status().message().empty());
    return 0;
  }
  // A union type with no table (or a table of another type) must not be dereferenced: the
  // Verifier accepts a NONE body, so every accessor result is checked before use.
  const Frame& f = **frame;
  if (f.body() == nullptr && f.body_type() != Body::NONE) return 0;
  volatile std::size_t sink = 0;
  if (f.body() != nullptr) sink = Visit(f);
  (void)sink;
  return 0;
}
