#include "tearline/wire/release_frames.h"

#include <flatbuffers/flatbuffers.h>

namespace tearline {
namespace {

constexpr char kDecisionIdentifier[] = "TLRD";

flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> Bytes(flatbuffers::FlatBufferBuilder& fbb,
                                                             std::span<const std::uint8_t> b) {
  return fbb.CreateVector(b.data(), b.size());
}

std::vector<std::uint8_t> FinishFrame(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id,
                                      schema::Body type, flatbuffers::Offset<void> body) {
  schema::FrameBuilder frame(fbb);
  frame.add_version(1);
  frame.add_request_id(request_id);
  frame.add_body_type(type);
  frame.add_body(body);
  fbb.Finish(frame.Finish(), schema::FrameIdentifier());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

Status Malformed(const std::string& what) {
  return InvalidArgument("RELEASE_MALFORMED", "release frame: " + what);
}

Status Id(const flatbuffers::Vector<std::uint8_t>* v, std::string_view name, ReleaseId& out,
          bool required = true) {
  if (v == nullptr || v->size() == 0) {
    if (!required) return Status::Ok();
    return Malformed(std::string(name) + " is missing");
  }
  if (v->size() != kReleaseIdBytes) {
    return Malformed(std::string(name) + " must be " + std::to_string(kReleaseIdBytes) + " bytes");
  }
  out.assign(v->begin(), v->end());
  return Status::Ok();
}

Status Text(const flatbuffers::String* s, std::string_view name, std::size_t max,
            std::string& out) {
  if (s == nullptr) return Status::Ok();
  if (s->size() > max) {
    return Malformed(std::string(name) + " is longer than " + std::to_string(max) + " bytes");
  }
  out = s->str();
  return Status::Ok();
}

// Nation trigraphs and node ids are short; 64 bytes covers both with room to spare.
constexpr std::size_t kMaxNameBytes = 64;

}  // namespace

std::vector<std::uint8_t> EncodeReleaseRequest(std::uint64_t request_id, const ReleaseAsk& a) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateReleaseRequest(fbb, Bytes(fbb, a.request_id), Bytes(fbb, a.report_id),
                                           a.portion, fbb.CreateString(a.to_nation),
                                           fbb.CreateString(a.why));
  return FinishFrame(fbb, request_id, schema::Body::ReleaseRequest, body.Union());
}

std::vector<std::uint8_t> EncodeReleaseNotice(const ReleaseNoticeInfo& n) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateReleaseNotice(
      fbb, Bytes(fbb, n.ask.request_id), Bytes(fbb, n.ask.report_id), n.ask.portion,
      fbb.CreateString(n.ask.to_nation), fbb.CreateString(n.ask.why), fbb.CreateString(n.requester),
      fbb.CreateString(n.requester_nation), n.requested_unix);
  return FinishFrame(fbb, 0, schema::Body::ReleaseNotice, body.Union());
}

std::vector<std::uint8_t> EncodeReleaseStatus(std::uint64_t request_id,
                                              const ReleaseStatusInfo& s) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateReleaseStatus(
      fbb, Bytes(fbb, s.request_id), Bytes(fbb, s.report_id), s.portion,
      fbb.CreateString(s.to_nation), fbb.CreateString(s.state), fbb.CreateString(s.reason),
      fbb.CreateString(s.explanation), fbb.CreateString(s.label), Bytes(fbb, s.release_report_id),
      s.sanitised, fbb.CreateString(s.rule), fbb.CreateString(s.requester),
      fbb.CreateString(s.originator), s.requested_unix, s.decided_unix, s.record_seq);
  return FinishFrame(fbb, request_id, schema::Body::ReleaseStatus, body.Union());
}

std::vector<std::uint8_t> EncodeReleaseDecisionBody(const ReleaseDecisionInfo& d) {
  // One child per statement, so the bytes (which are signed, logged and in the conformance
  // vectors) do not depend on the compiler's argument evaluation order.
  flatbuffers::FlatBufferBuilder fbb;
  const auto explanation = fbb.CreateString(d.explanation);
  const auto rule = fbb.CreateString(d.rule);
  const auto release_report_id = Bytes(fbb, d.release_report_id);
  const auto label = fbb.CreateString(d.label);
  const auto to_nation = fbb.CreateString(d.to_nation);
  const auto report_id = Bytes(fbb, d.report_id);
  const auto request_id = Bytes(fbb, d.request_id);
  auto body = schema::CreateReleaseDecisionBody(fbb, 1, request_id, report_id, d.portion, to_nation,
                                                d.approved, label, release_report_id, d.sanitised,
                                                rule, explanation, d.decided_unix);
  fbb.Finish(body, kDecisionIdentifier);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> EncodeReleaseDecision(std::uint64_t request_id,
                                                std::span<const std::uint8_t> body,
                                                std::span<const std::uint8_t> signature,
                                                std::span<const std::uint8_t> report) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto report_bytes = Bytes(fbb, report);  // One child per statement, as above.
  const auto signature_bytes = Bytes(fbb, signature);
  const auto body_bytes = Bytes(fbb, body);
  auto b = schema::CreateReleaseDecision(fbb, body_bytes, signature_bytes, report_bytes);
  return FinishFrame(fbb, request_id, schema::Body::ReleaseDecision, b.Union());
}

Result<ReleaseAsk> ToReleaseAsk(const schema::ReleaseRequest& r) {
  ReleaseAsk a;
  TEARLINE_RETURN_IF_ERROR(Id(r.request_id(), "request_id", a.request_id));
  TEARLINE_RETURN_IF_ERROR(Id(r.report_id(), "report_id", a.report_id));
  a.portion = r.portion();
  TEARLINE_RETURN_IF_ERROR(Text(r.to_nation(), "to_nation", kMaxNameBytes, a.to_nation));
  TEARLINE_RETURN_IF_ERROR(Text(r.why(), "why", kMaxReleaseWhyBytes, a.why));
  if (a.to_nation.empty()) return Malformed("to_nation is missing");
  return a;
}

Result<ReleaseNoticeInfo> ToReleaseNoticeInfo(const schema::ReleaseNotice& n) {
  ReleaseNoticeInfo out;
  TEARLINE_RETURN_IF_ERROR(Id(n.request_id(), "request_id", out.ask.request_id));
  TEARLINE_RETURN_IF_ERROR(Id(n.report_id(), "report_id", out.ask.report_id));
  out.ask.portion = n.portion();
  TEARLINE_RETURN_IF_ERROR(Text(n.to_nation(), "to_nation", kMaxNameBytes, out.ask.to_nation));
  TEARLINE_RETURN_IF_ERROR(Text(n.why(), "why", kMaxReleaseWhyBytes, out.ask.why));
  TEARLINE_RETURN_IF_ERROR(Text(n.requester(), "requester", kMaxNameBytes, out.requester));
  TEARLINE_RETURN_IF_ERROR(
      Text(n.requester_nation(), "requester_nation", kMaxNameBytes, out.requester_nation));
  out.requested_unix = n.requested_unix();
  if (out.ask.to_nation.empty() || out.requester.empty()) {
    return Malformed("to_nation and requester are required");
  }
  return out;
}

Result<ReleaseStatusInfo> ToReleaseStatusInfo(const schema::ReleaseStatus& s) {
  ReleaseStatusInfo o;
  TEARLINE_RETURN_IF_ERROR(Id(s.request_id(), "request_id", o.request_id));
  TEARLINE_RETURN_IF_ERROR(Id(s.report_id(), "report_id", o.report_id, false));
  o.portion = s.portion();
  TEARLINE_RETURN_IF_ERROR(Text(s.to_nation(), "to_nation", kMaxNameBytes, o.to_nation));
  TEARLINE_RETURN_IF_ERROR(Text(s.state(), "state", kMaxNameBytes, o.state));
  TEARLINE_RETURN_IF_ERROR(Text(s.reason(), "reason", kMaxNameBytes, o.reason));
  TEARLINE_RETURN_IF_ERROR(
      Text(s.explanation(), "explanation", kMaxReleaseWhyBytes, o.explanation));
  TEARLINE_RETURN_IF_ERROR(Text(s.label(), "label", kMaxReleaseLabelBytes, o.label));
  TEARLINE_RETURN_IF_ERROR(
      Id(s.release_report_id(), "release_report_id", o.release_report_id, false));
  o.sanitised = s.sanitised();
  TEARLINE_RETURN_IF_ERROR(Text(s.rule(), "rule", kMaxReleaseRuleBytes, o.rule));
  TEARLINE_RETURN_IF_ERROR(Text(s.requester(), "requester", kMaxNameBytes, o.requester));
  TEARLINE_RETURN_IF_ERROR(Text(s.originator(), "originator", kMaxNameBytes, o.originator));
  o.requested_unix = s.requested_unix();
  o.decided_unix = s.decided_unix();
  o.record_seq = s.record_seq();
  return o;
}

Result<ReleaseDecisionInfo> DecodeReleaseDecisionBody(std::span<const std::uint8_t> body) {
  if (body.size() > kMaxReleaseDecisionBodyBytes) {
    return Malformed("decision body is larger than " +
                     std::to_string(kMaxReleaseDecisionBodyBytes) + " bytes");
  }
  // The nested bytes sit at an arbitrary offset of the frame: verify an aligned copy.
  std::vector<std::uint8_t> aligned(body.begin(), body.end());
  if (aligned.size() < 8 ||
      !flatbuffers::BufferHasIdentifier(aligned.data(), kDecisionIdentifier)) {
    return Malformed("decision is not a ReleaseDecisionBody (bad identifier)");
  }
  flatbuffers::Verifier verifier(aligned.data(), aligned.size(), 8, 64);
  if (!verifier.VerifyBuffer<schema::ReleaseDecisionBody>(kDecisionIdentifier)) {
    return Malformed("decision body failed structural verification");
  }
  const auto* d = flatbuffers::GetRoot<schema::ReleaseDecisionBody>(aligned.data());
  if (d->version() != 1) return Malformed("decision body version must be 1");
  ReleaseDecisionInfo o;
  TEARLINE_RETURN_IF_ERROR(Id(d->request_id(), "request_id", o.request_id));
  TEARLINE_RETURN_IF_ERROR(Id(d->report_id(), "report_id", o.report_id));
  o.portion = d->portion();
  TEARLINE_RETURN_IF_ERROR(Text(d->to_nation(), "to_nation", kMaxNameBytes, o.to_nation));
  o.approved = d->approved();
  TEARLINE_RETURN_IF_ERROR(Text(d->label(), "label", kMaxReleaseLabelBytes, o.label));
  TEARLINE_RETURN_IF_ERROR(
      Id(d->release_report_id(), "release_report_id", o.release_report_id, o.approved));
  o.sanitised = d->sanitised();
  TEARLINE_RETURN_IF_ERROR(Text(d->rule(), "rule", kMaxReleaseRuleBytes, o.rule));
  TEARLINE_RETURN_IF_ERROR(
      Text(d->explanation(), "explanation", kMaxReleaseWhyBytes, o.explanation));
  o.decided_unix = d->decided_unix();
  if (o.approved && (o.label.empty() || o.release_report_id.empty())) {
    return Malformed("an approval needs a label and a release report id");
  }
  return o;
}

}  // namespace tearline
