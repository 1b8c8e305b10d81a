#include "tearline/wire/wire.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>

namespace tearline {
namespace {

// Verifier limits: a frame is shallow; depth and table counts only need room for a directory.
constexpr flatbuffers::uoffset_t kMaxDepth = 16;
constexpr flatbuffers::uoffset_t kMaxTables = 64 * 1024;

std::vector<std::uint8_t> Finish(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id,
                                 schema::Body type, flatbuffers::Offset<void> body) {
  schema::FrameBuilder frame(fbb);
  frame.add_version(kWireVersion);
  frame.add_request_id(request_id);
  frame.add_body_type(type);
  frame.add_body(body);
  fbb.Finish(frame.Finish(), schema::FrameIdentifier());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> Bytes(flatbuffers::FlatBufferBuilder& fbb,
                                                             std::span<const std::uint8_t> b) {
  return fbb.CreateVector(b.data(), b.size());
}

}  // namespace

std::span<const std::uint8_t> AlignedForDecode(std::span<const std::uint8_t> bytes,
                                               std::vector<std::uint8_t>& storage) {
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % 8 == 0) return bytes;
  storage.assign(bytes.begin(), bytes.end());  // operator new aligns to at least 16 bytes.
  return storage;
}

Result<const schema::Frame*> DecodeFrame(std::span<const std::uint8_t> bytes) {
  return DecodeFrame(bytes, kMaxFrameBytes);
}

Result<const schema::Frame*> DecodeFrame(std::span<const std::uint8_t> bytes,
                                         std::size_t max_bytes) {
  if (const std::size_t cap = std::min(max_bytes, kMaxFrameBytes); bytes.size() > cap) {
    return Status(Code::kResourceExhausted, "WIRE_TOO_LARGE",
                  "frame of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                      std::to_string(cap));
  }
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % 8 != 0) {
    return Internal("WIRE_MISALIGNED", "frame buffer is not 8-byte aligned (use AlignedForDecode)");
  }
  if (bytes.size() < 8 ||
      !flatbuffers::BufferHasIdentifier(bytes.data(), schema::FrameIdentifier())) {
    return InvalidArgument("WIRE_MALFORMED", "frame is not a Tearline wire frame (bad identifier)");
  }
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), kMaxDepth, kMaxTables);
  if (!schema::VerifyFrameBuffer(verifier)) {
    return InvalidArgument("WIRE_MALFORMED", "frame failed structural verification");
  }
  const schema::Frame* frame = schema::GetFrame(bytes.data());
  if (frame->version() != kWireVersion) {
    return InvalidArgument("WIRE_VERSION", "unsupported wire version " +
                                               std::to_string(frame->version()) + " (expected " +
                                               std::to_string(kWireVersion) + ")");
  }
  if (frame->body_type() == schema::Body::NONE || frame->body() == nullptr) {
    return InvalidArgument("WIRE_MALFORMED", "frame has no body");
  }
  return frame;
}

namespace {

// Little-endian scalar at `at`, or nullopt when it does not lie within `bytes`.
template <typename T>
std::optional<T> ReadAt(std::span<const std::uint8_t> bytes, std::size_t at) {
  if (at > bytes.size() || bytes.size() - at < sizeof(T)) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= std::uint64_t{bytes[at + i]} << (8 * i);
  return static_cast<T>(v);  // Two's complement for the signed vtable offset.
}

}  // namespace

std::uint64_t PeekRequestId(std::span<const std::uint8_t> bytes) {
  // root uoffset -> table; the table starts with an soffset to its vtable; the vtable holds
  // (vtable size, table size, field offsets...). request_id is field 1 of Frame.
  if (bytes.size() < 8 || std::memcmp(bytes.data() + 4, schema::FrameIdentifier(), 4) != 0) {
    return 0;
  }
  const auto root = ReadAt<std::uint32_t>(bytes, 0);
  if (!root) return 0;
  const auto vt_rel = ReadAt<std::int32_t>(bytes, *root);
  if (!vt_rel) return 0;
  const std::int64_t vtable = static_cast<std::int64_t>(*root) - *vt_rel;
  if (vtable < 0) return 0;
  // As FlatBuffers reads it: present when the vtable reaches the field and names an offset;
  // bounded by the buffer (not the table's stated size), like the Verifier's field check.
  const auto vt_size = ReadAt<std::uint16_t>(bytes, static_cast<std::size_t>(vtable));
  constexpr std::size_t kField = schema::Frame::VT_REQUEST_ID;
  if (!vt_size || *vt_size <= kField) return 0;
  const auto field = ReadAt<std::uint16_t>(bytes, static_cast<std::size_t>(vtable) + kField);
  if (!field || *field == 0) return 0;  // Absent: the schema default, 0.
  return ReadAt<std::uint64_t>(bytes, std::size_t{*root} + *field).value_or(0);
}

std::vector<std::uint8_t> EncodeHello(std::uint64_t request_id, std::string_view node_id) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateHello(fbb, kWireVersion, fbb.CreateString(node_id));
  return Finish(fbb, request_id, schema::Body::Hello, body.Union());
}

std::vector<std::uint8_t> EncodeWelcome(std::uint64_t request_id, std::string_view broker_id,
                                        std::int64_t now_unix, std::uint32_t heartbeat_ms,
                                        std::uint32_t submit_rate_per_node) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateWelcome(fbb, kWireVersion, fbb.CreateString(broker_id), now_unix,
                                    heartbeat_ms, submit_rate_per_node);
  return Finish(fbb, request_id, schema::Body::Welcome, body.Union());
}

std::vector<std::uint8_t> EncodeDirectoryRequest(std::uint64_t request_id) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateDirectoryRequest(fbb);
  return Finish(fbb, request_id, schema::Body::DirectoryRequest, body.Union());
}

std::vector<std::uint8_t> EncodeDirectory(std::uint64_t request_id,
                                          const std::vector<std::vector<std::uint8_t>>& certs,
                                          std::span<const std::uint8_t> revocation_list) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<schema::CertificateBlob>> blobs;
  blobs.reserve(certs.size());
  for (const auto& c : certs) blobs.push_back(schema::CreateCertificateBlob(fbb, Bytes(fbb, c)));
  auto body = schema::CreateDirectory(fbb, fbb.CreateVector(blobs), Bytes(fbb, revocation_list));
  return Finish(fbb, request_id, schema::Body::Directory, body.Union());
}

std::vector<std::uint8_t> EncodeSubmit(std::uint64_t request_id,
                                       std::span<const std::uint8_t> report) {
  flatbuffers::FlatBufferBuilder fbb(report.size() + 256);
  auto body = schema::CreateSubmit(fbb, Bytes(fbb, report));
  return Finish(fbb, request_id, schema::Body::Submit, body.Union());
}

std::vector<std::uint8_t> EncodeForwardSubmit(std::uint64_t request_id,
                                              std::span<const std::uint8_t> forward) {
  flatbuffers::FlatBufferBuilder fbb(forward.size() + 256);
  auto body = schema::CreateForwardSubmit(fbb, Bytes(fbb, forward));
  return Finish(fbb, request_id, schema::Body::ForwardSubmit, body.Union());
}

std::vector<std::uint8_t> EncodeDeliver(std::uint64_t request_id,
                                        std::span<const std::uint8_t> report) {
  flatbuffers::FlatBufferBuilder fbb(report.size() + 256);
  auto body = schema::CreateDeliver(fbb, Bytes(fbb, report));
  return Finish(fbb, request_id, schema::Body::Deliver, body.Union());
}

std::vector<std::uint8_t> EncodeAck(std::uint64_t request_id,
                                    std::span<const std::uint8_t> report_id,
                                    std::span<const std::uint8_t> signature) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateAck(fbb, Bytes(fbb, report_id), Bytes(fbb, signature));
  return Finish(fbb, request_id, schema::Body::Ack, body.Union());
}

std::vector<std::uint8_t> EncodePing(std::uint64_t request_id, std::uint64_t nonce) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreatePing(fbb, nonce);
  return Finish(fbb, request_id, schema::Body::Ping, body.Union());
}

std::vector<std::uint8_t> EncodeDirectoryChanged(std::uint64_t revocation_sequence) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateDirectoryChanged(fbb, revocation_sequence);
  return Finish(fbb, 0, schema::Body::DirectoryChanged, body.Union());
}

std::vector<std::uint8_t> EncodePong(std::uint64_t request_id, std::uint64_t nonce) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreatePong(fbb, nonce);
  return Finish(fbb, request_id, schema::Body::Pong, body.Union());
}

std::vector<std::uint8_t> EncodeError(std::uint64_t request_id, const Status& status) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateError(fbb, fbb.CreateString(status.reason()),
                                  fbb.CreateString(status.message()));
  return Finish(fbb, request_id, schema::Body::Error, body.Union());
}

std::vector<std::uint8_t> EncodeDeliveryRefusal(std::uint64_t deliver_request_id,
                                                const Status& status,
                                                std::span<const std::uint8_t> report_id) {
  flatbuffers::FlatBufferBuilder fbb;
  auto reason = fbb.CreateString(status.reason());
  auto message = fbb.CreateString(status.message());
  auto id = fbb.CreateVector(report_id.data(), report_id.size());
  auto body = schema::CreateError(fbb, reason, message, id);
  return Finish(fbb, deliver_request_id, schema::Body::Error, body.Union());
}

std::vector<std::uint8_t> EncodeCheckpointRequest(std::uint64_t request_id,
                                                  std::uint64_t old_size) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateCheckpointRequest(fbb, old_size);
  return Finish(fbb, request_id, schema::Body::CheckpointRequest, body.Union());
}

std::vector<std::uint8_t> EncodeCheckpointReply(std::uint64_t request_id, std::string_view note,
                                                std::uint64_t old_size,
                                                std::span<const std::uint8_t> proof) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body =
      schema::CreateCheckpointReply(fbb, fbb.CreateString(note), old_size, Bytes(fbb, proof));
  return Finish(fbb, request_id, schema::Body::CheckpointReply, body.Union());
}

std::vector<std::uint8_t> EncodeCosignature(std::uint64_t request_id, std::uint64_t size,
                                            std::string_view line) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateCosignature(fbb, size, fbb.CreateString(line));
  return Finish(fbb, request_id, schema::Body::Cosignature, body.Union());
}

std::vector<std::uint8_t> EncodeSubmitReply(std::uint64_t request_id, const SubmitReplyInfo& info) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<schema::RecipientOutcome>> outcomes;
  for (const auto& o : info.outcomes) {
    std::vector<flatbuffers::Offset<schema::PortionDenial>> denials;
    for (const auto& d : o.denials) {
      denials.push_back(schema::CreatePortionDenial(fbb, d.index, fbb.CreateString(d.label),
                                                    fbb.CreateString(d.reason),
                                                    fbb.CreateString(d.explanation)));
    }
    outcomes.push_back(schema::CreateRecipientOutcome(
        fbb, fbb.CreateString(o.nation), fbb.CreateString(o.node_id), o.state,
        fbb.CreateVector(o.portions), fbb.CreateVector(denials), fbb.CreateString(o.reason),
        fbb.CreateString(o.explanation), o.record_seq));
  }
  flatbuffers::Offset<schema::Error> error = 0;
  if (!info.error_reason.empty() || !info.error_message.empty()) {
    error = schema::CreateError(fbb, fbb.CreateString(info.error_reason),
                                fbb.CreateString(info.error_message), 0, info.retry_after_ms);
  }
  auto body = schema::CreateSubmitReply(fbb, Bytes(fbb, info.report_id), info.accepted,
                                        fbb.CreateVector(outcomes), error, info.duplicate);
  return Finish(fbb, request_id, schema::Body::SubmitReply, body.Union());
}

namespace {
std::string Str(const flatbuffers::String* s) { return s == nullptr ? "" : s->str(); }
}  // namespace

SubmitReplyInfo ToSubmitReplyInfo(const schema::SubmitReply& reply) {
  SubmitReplyInfo info;
  if (reply.report_id() != nullptr) {
    info.report_id.assign(reply.report_id()->begin(), reply.report_id()->end());
  }
  info.accepted = reply.accepted();
  if (reply.outcomes() != nullptr) {
    for (const auto* o : *reply.outcomes()) {
      RecipientOutcomeInfo out;
      out.nation = Str(o->nation());
      out.node_id = Str(o->node_id());
      out.state = o->state();
      if (o->portions() != nullptr)
        out.portions.assign(o->portions()->begin(), o->portions()->end());
      if (o->denials() != nullptr) {
        for (const auto* d : *o->denials()) {
          out.denials.push_back(
              {d->index(), Str(d->label()), Str(d->reason()), Str(d->explanation())});
        }
      }
      out.reason = Str(o->reason());
      out.explanation = Str(o->explanation());
      out.record_seq = o->record_seq();
      info.outcomes.push_back(std::move(out));
    }
  }
  if (reply.error() != nullptr) {
    info.error_reason = Str(reply.error()->reason());
    info.error_message = Str(reply.error()->message());
    info.retry_after_ms = reply.error()->retry_after_ms();
  }
  info.duplicate = reply.duplicate();
  return info;
}

std::vector<std::uint8_t> EncodeProofRequest(std::uint64_t request_id, std::uint64_t seq) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateProofRequest(fbb, seq);
  return Finish(fbb, request_id, schema::Body::ProofRequest, body.Union());
}

std::vector<std::uint8_t> EncodeProofReply(std::uint64_t request_id, std::string_view note,
                                           std::uint64_t seq, std::string_view record,
                                           std::span<const std::uint8_t> proof) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateProofReply(fbb, fbb.CreateString(note), seq, fbb.CreateString(record),
                                       Bytes(fbb, proof));
  return Finish(fbb, request_id, schema::Body::ProofReply, body.Union());
}

std::vector<std::uint8_t> EncodeTrackRequest(std::uint64_t request_id,
                                             std::span<const std::uint8_t> report_id) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = schema::CreateTrackRequest(fbb, Bytes(fbb, report_id));
  return Finish(fbb, request_id, schema::Body::TrackRequest, body.Union());
}

std::vector<std::uint8_t> EncodeTrackReply(std::uint64_t request_id, const TrackReplyInfo& info) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<schema::RecipientStatus>> recipients;
  for (const auto& r : info.recipients) {
    recipients.push_back(schema::CreateRecipientStatus(
        fbb, fbb.CreateString(r.node_id), fbb.CreateString(r.nation), fbb.CreateString(r.state),
        fbb.CreateString(r.reason), r.updated_unix, r.record_seq));
  }
  auto body =
      schema::CreateTrackReply(fbb, Bytes(fbb, info.report_id), fbb.CreateVector(recipients));
  return Finish(fbb, request_id, schema::Body::TrackReply, body.Union());
}

TrackReplyInfo ToTrackReplyInfo(const schema::TrackReply& reply) {
  TrackReplyInfo info;
  if (reply.report_id() != nullptr) {
    info.report_id.assign(reply.report_id()->begin(), reply.report_id()->end());
  }
  if (reply.recipients() != nullptr) {
    for (const auto* r : *reply.recipients()) {
      info.recipients.push_back({Str(r->node_id()), Str(r->nation()), Str(r->state()),
                                 Str(r->reason()), r->updated_unix(), r->record_seq()});
    }
  }
  return info;
}

std::string_view DeliveryStateName(schema::DeliveryState state) {
  switch (state) {
    case schema::DeliveryState::Delivered:
      return "DELIVERED";
    case schema::DeliveryState::Queued:
      return "QUEUED";
    case schema::DeliveryState::Denied:
      return "DENIED";
  }
  return "UNKNOWN";
}

std::vector<std::uint8_t> AckMessage(std::span<const std::uint8_t> report_id,
                                     std::string_view node_id) {
  std::vector<std::uint8_t> out(report_id.begin(), report_id.end());
  out.insert(out.end(), node_id.begin(), node_id.end());
  return out;
}

}  // namespace tearline
