// Control protocol between the analyst CLI (`tearline-node send|inbox|read|status|track|prove`)
// and its own
// node daemon, over the daemon's local control socket (ZeroMQ ipc, file mode 0600, inside the
// 0700 data directory). Keys never cross this socket; report content does (plaintext, base64 in
// JSON), which is why the socket is local and owner-only.
//
// One request and one response per exchange, each a single ZeroMQ frame holding one JSON object
// of at most kMaxControlMessageBytes:
//
//   request:  {"v":1, "op":"send", "to":["GBR","JPN"], "timeout_ms":15000,
//              "portions":[{"marking":"(S//REL TO USA, GBR)", "content":"<base64>"}, ...]}
//             {"v":1, "op":"inbox"}
//             {"v":1, "op":"read", "id":"<report id hex or unique prefix>"}
//             {"v":1, "op":"status"}
//             {"v":1, "op":"track", "id":"<report id hex or unique prefix>"}
//             {"v":1, "op":"prove", "id":"<report id hex or prefix>"}    every known record
//             {"v":1, "op":"prove", "id":"<report id hex or prefix>", "seq":17}  one record
//             {"v":1, "op":"forward", "id":"<received report id or prefix>", "to":["KOR"],
//              "portions":[0, 2], "timeout_ms":15000}      portions optional: every one held
//             {"v":1, "op":"release", "action":"request|list|approve|deny", ...}  see
//               ReleaseControl; answered with {"ok":true,"result":{"requests":[...]}} (one
//               ReleaseRecord as ReleaseRecordToJson writes it per request)
//   response: {"ok":true, "result":{...}}  or  {"ok":false, "reason":"REASON", "message":"..."}
//
// Portion indices inside this protocol are 0-based, as on the wire; the CLI shows them 1-based.
// Decoders never throw: malformed input yields CONTROL_MALFORMED naming the offending field.
// Encoders never throw either: bytes that are not UTF-8 (e.g. in a mistyped marking echoed in an
// error) are replaced by U+FFFD.
//
// Thread-safety: plain values and pure functions.
#ifndef TEARLINE_NODE_CONTROL_PROTOCOL_H_
#define TEARLINE_NODE_CONTROL_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tearline/base/encoding.h"
#include "tearline/base/status.h"
#include "tearline/node/inbox_store.h"
#include "tearline/wire/wire.h"

namespace tearline::node {

inline constexpr int kControlProtocolVersion = 1;
// A report is at most 16 MiB; base64 grows it by 4/3, plus JSON framing.
inline constexpr std::size_t kMaxControlMessageBytes = std::size_t{24} << 20;
inline constexpr std::uint32_t kDefaultSendTimeoutMs = 15000;
inline constexpr std::uint32_t kMaxSendTimeoutMs = 600000;

enum class ControlOp { kSend, kInbox, kRead, kStatus, kTrack, kProve, kForward, kRelease };

// One step of the release workflow (`tearline-node request-release|requests|approve|deny`).
struct ReleaseControl {
  std::string action;         // "request", "list", "approve", "deny".
  std::string id;             // request: report id (or prefix); approve/deny: request id prefix.
  std::uint32_t portion = 0;  // request: 0-based portion index.
  std::string to;             // request: nation trigraph.
  std::string why;            // request: justification; deny: the reason for the requester.
  std::string label;          // approve: the new label ("" = the current one widened).
  std::optional<std::vector<std::uint8_t>> sanitised;  // approve: a sanitised version.
};

// A source a portion is derived from: a report in this node's inbox (received) or sent store,
// by id or unique prefix, and a 0-based portion index. JSON (appended, optional):
//   "derived_from":[{"id":"<hex>","portion":0}], "override_provenance":"<reason>".
struct DerivedFromRef {
  std::string id;
  std::uint32_t portion = 0;
};

struct SendPortionRequest {
  // Marking and content alone (most portions are not derived), so `{marking, content}` lists
  // stay valid as provenance fields are added.
  SendPortionRequest() = default;
  SendPortionRequest(std::string marking_in, std::vector<std::uint8_t> content_in)
      : marking(std::move(marking_in)), content(std::move(content_in)) {}

  std::string marking;
  std::vector<std::uint8_t> content;
  std::vector<DerivedFromRef> derived_from;  // At most kMaxSourcesPerPortion.
  std::string override_provenance;           // Empty: no override.
};

struct ControlRequest {
  ControlOp op = ControlOp::kStatus;
  // kSend
  std::vector<std::string> to;  // Nation trigraphs.
  std::vector<SendPortionRequest> portions;
  std::uint32_t timeout_ms = kDefaultSendTimeoutMs;
  // kRead, kTrack, kProve, kForward
  std::string id;
  // kForward: portion indices to forward (empty: every portion this node holds); `to` holds the
  // one target nation.
  std::vector<std::uint32_t> indices;
  // kProve: prove only this audit record (it must name the report); unset: every record the
  // node knows for the report.
  std::optional<std::uint64_t> seq;
  // kRelease
  ReleaseControl release;
};

std::string EncodeControlRequest(const ControlRequest& request);
Result<ControlRequest> DecodeControlRequest(std::string_view text);

// --- Responses --------------------------------------------------------------------------------

struct SendResult {
  std::string report_id_hex;
  std::string banner;                          // Roll-up of every portion, as sent.
  std::vector<RecipientOutcomeInfo> outcomes;  // From the broker's SubmitReply; 0-based indices.
  // The broker had stored this report id already (an idempotent resubmission): the outcomes are
  // the ones decided then; nothing was routed again.
  bool duplicate = false;
  // No final answer yet: the sealed report is kept in the outbox and is resubmitted with the
  // same id until the broker answers; `outcomes` is empty and `detail` says why.
  bool pending = false;
  std::string detail;
};

struct TrackResult {
  std::string report_id_hex;
  std::vector<RecipientStatusInfo> recipients;  // As the broker reported them.
};

// The check of one audit record's inclusion proof.
struct ProofItem {
  std::uint64_t seq = 0;
  std::string description;  // e.g. "delivered to gbr-1", from the verified record.
  bool verified = false;
  std::string reason;   // Failure reason code when !verified.
  std::string message;  // Failure explanation, or a note (e.g. on the witness state).
  std::uint64_t checkpoint_size = 0;
  std::string signer;  // Broker id whose checkpoint signature verified.
};

struct ProveResult {
  std::string report_id_hex;
  std::vector<ProofItem> items;
  std::string note;  // e.g. why no record number is known for a received report.
};

struct ReadPortion {
  std::uint32_t index = 0;  // 0-based.
  std::string label;
  std::vector<std::uint8_t> content;
};

struct ReadResult {
  InboxEntry entry;
  std::vector<ReadPortion> portions;
};

struct StatusResult {
  std::string node_id;
  std::string nation;
  std::string clearance;
  std::string broker_endpoint;
  std::string broker_id;   // From the last Welcome; empty before the first.
  bool connected = false;  // Welcome received and broker heard from recently.
  std::string transport;   // Transport state, e.g. "connected", "disconnected, reconnecting".
  std::int64_t last_broker_frame_ms_ago = -1;  // -1: never.
  std::uint64_t reconnects = 0;                // Times the session was re-established after a loss.
  std::uint64_t directory_nodes = 0;
  std::uint64_t inbox_reports = 0;
  std::uint64_t pending_sends = 0;
  std::uint64_t outbox_reports = 0;  // Sealed reports still awaiting the broker's final answer.
  std::int64_t uptime_s = 0;
  // The largest audit checkpoint size this node cosigned as a witness (0: none yet).
  std::uint64_t witnessed_size = 0;
  // Empty unless the node caught the broker's audit log inconsistent or rolled back; then one
  // sentence, and the node cosigns nothing more.
  std::string audit_alarm;
};

std::string EncodeErrorResponse(const Status& status);
std::string EncodeSendResponse(const SendResult& result);
std::string EncodeInboxResponse(const std::vector<InboxEntry>& entries);
std::string EncodeReadResponse(const ReadResult& result);
std::string EncodeStatusResponse(const StatusResult& result);
std::string EncodeTrackResponse(const TrackResult& result);
std::string EncodeProveResponse(const ProveResult& result);
// {"ok":true,"result":RESULT} for answers whose shape the serving unit defines (release).
std::string EncodeJsonResponse(nlohmann::json result);

// Each returns the decoded result, or the Status the daemon reported ({"ok":false,...}), or
// CONTROL_MALFORMED.
Result<SendResult> DecodeSendResponse(std::string_view text);
Result<std::vector<InboxEntry>> DecodeInboxResponse(std::string_view text);
Result<ReadResult> DecodeReadResponse(std::string_view text);
Result<StatusResult> DecodeStatusResponse(std::string_view text);
Result<TrackResult> DecodeTrackResponse(std::string_view text);
Result<ProveResult> DecodeProveResponse(std::string_view text);
Result<nlohmann::json> DecodeJsonResponse(std::string_view text);

// JSON forms shared with the CLI's --json output. Portion numbers are written as index +
// `index_base` (0 inside the control protocol, 1 for analysts):
//   {"nation","node_id","state":"DELIVERED|QUEUED|DENIED","portions":[n...],
//    "withheld":[{"portion":n,"label","reason","explanation"}],"reason","explanation",
//    "record_seq":n}
nlohmann::json OutcomeToJson(const RecipientOutcomeInfo& outcome, std::uint32_t index_base);
// Inverse of OutcomeToJson; "record_seq" may be absent (0). Errors: CONTROL_MALFORMED.
Result<RecipientOutcomeInfo> OutcomeFromJson(const nlohmann::json& j, std::uint32_t index_base);
//   {"node_id","nation","state","reason","updated_unix","record_seq"}
nlohmann::json RecipientStatusToJson(const RecipientStatusInfo& status);
// One proven record as `prove` prints it and the control socket carries it.
nlohmann::json ProveItemToJson(const ProofItem& item);
nlohmann::json StatusToJson(const StatusResult& status);

// Standard base64 (with padding), via libsodium.
std::string Base64Encode(std::span<const std::uint8_t> bytes);
// Errors: CONTROL_MALFORMED.
Result<std::vector<std::uint8_t>> Base64Decode(std::string_view text);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_CONTROL_PROTOCOL_H_
