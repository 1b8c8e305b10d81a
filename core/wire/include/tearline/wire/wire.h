// Wire codec for node <-> broker frames (schemas/wire.fbs). Decoding enforces the size cap and
// runs the FlatBuffers Verifier with explicit limits before any field is read; the returned
// view points into the caller's buffer, which must outlive it.
//
// Thread-safety: pure functions.
#ifndef TEARLINE_WIRE_H_
#define TEARLINE_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/schemas/wire_generated.h"

namespace tearline {

inline constexpr std::uint16_t kWireVersion = 1;
// A frame carries at most one report (kMaxReportBytes = 16 MiB) plus a little framing.
inline constexpr std::size_t kMaxFrameBytes = (std::size_t{16} << 20) + (std::size_t{64} << 10);
inline constexpr std::size_t kMaxDirectoryEntries = 4096;

// FlatBuffers reads multi-byte fields in place, so a frame must start at an 8-byte aligned
// address. ZeroMQ keeps small messages inside zmq_msg_t at unaligned offsets: this returns
// `bytes` when aligned, otherwise a copy held in `storage` (which must outlive the result).
std::span<const std::uint8_t> AlignedForDecode(std::span<const std::uint8_t> bytes,
                                               std::vector<std::uint8_t>& storage);

// Verifies `bytes` as a Frame and returns it. Errors (Code::kInvalidArgument):
// WIRE_TOO_LARGE, WIRE_MALFORMED (not a Frame / fails the Verifier), WIRE_VERSION;
// WIRE_MISALIGNED (Code::kInternal) when the caller skipped AlignedForDecode.
Result<const schema::Frame*> DecodeFrame(std::span<const std::uint8_t> bytes);
// The same with a receiver's own size cap `max_bytes` (at most kMaxFrameBytes applies anyway).
Result<const schema::Frame*> DecodeFrame(std::span<const std::uint8_t> bytes,
                                         std::size_t max_bytes);
// The view would dangle: decoding a temporary buffer is a compile error.
Result<const schema::Frame*> DecodeFrame(std::vector<std::uint8_t>&& bytes) = delete;

// The request id of `bytes` when the Frame table's header and its request_id field lie within
// the buffer (whatever the body, the version or the rest of the frame hold), else 0. A refusal
// of a frame that DecodeFrame rejected echoes it, so the sender can match the answer. Reads
// only bounds-checked bytes (any alignment, any length): safe on hostile input.
std::uint64_t PeekRequestId(std::span<const std::uint8_t> bytes);

// Builders: each returns the finished frame bytes.
std::vector<std::uint8_t> EncodeHello(std::uint64_t request_id, std::string_view node_id);
// `submit_rate_per_node` 0: no rate announced (the field is left out).
std::vector<std::uint8_t> EncodeWelcome(std::uint64_t request_id, std::string_view broker_id,
                                        std::int64_t now_unix, std::uint32_t heartbeat_ms,
                                        std::uint32_t submit_rate_per_node = 0);
std::vector<std::uint8_t> EncodeDirectoryRequest(std::uint64_t request_id);
std::vector<std::uint8_t> EncodeDirectory(std::uint64_t request_id,
                                          const std::vector<std::vector<std::uint8_t>>& certs,
                                          std::span<const std::uint8_t> revocation_list);
std::vector<std::uint8_t> EncodeSubmit(std::uint64_t request_id,
                                       std::span<const std::uint8_t> report);
// A Forward ("TLFW") to route: the broker answers with a SubmitReply named by the forward id.
std::vector<std::uint8_t> EncodeForwardSubmit(std::uint64_t request_id,
                                              std::span<const std::uint8_t> forward);
std::vector<std::uint8_t> EncodeDeliver(std::uint64_t request_id,
                                        std::span<const std::uint8_t> report);
std::vector<std::uint8_t> EncodeAck(std::uint64_t request_id,
                                    std::span<const std::uint8_t> report_id,
                                    std::span<const std::uint8_t> signature);
// Unsolicited notice (request_id 0) that the node should fetch the directory now.
std::vector<std::uint8_t> EncodeDirectoryChanged(std::uint64_t revocation_sequence);
std::vector<std::uint8_t> EncodePing(std::uint64_t request_id, std::uint64_t nonce);
std::vector<std::uint8_t> EncodePong(std::uint64_t request_id, std::uint64_t nonce);
std::vector<std::uint8_t> EncodeError(std::uint64_t request_id, const Status& status);
// A node's refusal of a Deliver: the Error frame answering it, naming the copy's report id.
std::vector<std::uint8_t> EncodeDeliveryRefusal(std::uint64_t deliver_request_id,
                                                const Status& status,
                                                std::span<const std::uint8_t> report_id);
std::vector<std::uint8_t> EncodeCheckpointRequest(std::uint64_t request_id, std::uint64_t old_size);
std::vector<std::uint8_t> EncodeCheckpointReply(std::uint64_t request_id, std::string_view note,
                                                std::uint64_t old_size,
                                                std::span<const std::uint8_t> proof);
std::vector<std::uint8_t> EncodeCosignature(std::uint64_t request_id, std::uint64_t size,
                                            std::string_view line);

// Plain-data form of a submit reply, shared by the broker (encoding) and node (decoding).
struct PortionDenialInfo {
  std::uint32_t index = 0;
  std::string label;
  std::string reason;
  std::string explanation;
};
struct RecipientOutcomeInfo {
  std::string nation;
  std::string node_id;
  schema::DeliveryState state = schema::DeliveryState::Denied;
  std::vector<std::uint32_t> portions;
  std::vector<PortionDenialInfo> denials;
  std::string reason;
  std::string explanation;
  std::uint64_t record_seq = 0;  // 0 = no audit record named.
};
struct SubmitReplyInfo {
  std::vector<std::uint8_t> report_id;
  bool accepted = false;
  std::vector<RecipientOutcomeInfo> outcomes;
  std::string error_reason;
  std::string error_message;
  bool duplicate = false;  // Answer to an identical resubmission: stored outcomes, not re-routed.
  std::uint32_t retry_after_ms = 0;  // Error.retry_after_ms of a refusal for now (0: no hint).
};

std::vector<std::uint8_t> EncodeSubmitReply(std::uint64_t request_id, const SubmitReplyInfo& info);
SubmitReplyInfo ToSubmitReplyInfo(const schema::SubmitReply& reply);

std::vector<std::uint8_t> EncodeProofRequest(std::uint64_t request_id, std::uint64_t seq);
std::vector<std::uint8_t> EncodeProofReply(std::uint64_t request_id, std::string_view note,
                                           std::uint64_t seq, std::string_view record,
                                           std::span<const std::uint8_t> proof);
std::vector<std::uint8_t> EncodeTrackRequest(std::uint64_t request_id,
                                             std::span<const std::uint8_t> report_id);

// Plain-data form of a track reply (see TrackReply in schemas/wire.fbs for the states).
struct RecipientStatusInfo {
  std::string node_id;
  std::string nation;
  std::string state;
  std::string reason;
  std::int64_t updated_unix = 0;
  std::uint64_t record_seq = 0;
};
struct TrackReplyInfo {
  std::vector<std::uint8_t> report_id;
  std::vector<RecipientStatusInfo> recipients;
};
std::vector<std::uint8_t> EncodeTrackReply(std::uint64_t request_id, const TrackReplyInfo& info);
TrackReplyInfo ToTrackReplyInfo(const schema::TrackReply& reply);

// Name of a delivery state as printed to users: DELIVERED, QUEUED, DENIED.
std::string_view DeliveryStateName(schema::DeliveryState state);

// Acknowledgements are signed with SignWithDomain(kAckDomain, AckMessage(report_id, node_id)),
// i.e. Ed25519 over "tearline/v1/ack" || 0x00 || report_id(16) || node_id.
inline constexpr std::string_view kAckDomain = "tearline/v1/ack";
std::vector<std::uint8_t> AckMessage(std::span<const std::uint8_t> report_id,
                                     std::string_view node_id);

}  // namespace tearline

#endif  // TEARLINE_WIRE_H_
