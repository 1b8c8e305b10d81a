// The audit record types: one definition of every record the broker writes to the audit log,
// shared by the writer (the broker, through AuditLog::Append) and every reader (the verifier,
// tearline-audit's query, custody and report). docs/AUDIT.md describes the same schema in prose.
//
// Each type is a struct with typed members, its type name (`kType`) and, in
// AuditRecordSchema<T>::kFields right after it, the JSON key of every member: the only place a
// key is spelled. ToJson() turns a record into the fields object the log writes (AuditLog adds
// `seq`, `time` and `type`; keys are written sorted, so member order does not matter) and
// DecodeAuditRecord() turns a logged object back into the typed record, refusing a missing or
// mistyped field with AUDIT_RECORD_MALFORMED.
//
// Presence of a member in a logged record:
//   - a plain member is always written and required to decode;
//   - std::optional marked "optional" is written only in some cases (docs/AUDIT.md says when);
//   - std::optional marked "descriptive" is always written by the broker but a record without it
//     still decodes: it restates what another record or file is authoritative for (the accepted
//     record for a report's originator, policy.toml for the policy's name), and logs written by
//     other writers and by earlier tests omit it. Writers set it; readers must not rely on it.
// A member that is present must have its type whatever its presence rule (a JSON null is a
// wrong type, not an absent field). Keys a type does not define are ignored, so that a reader
// accepts records from a newer writer that adds fields.
//
// Thread-safety: pure functions over values. The header keeps nlohmann/json to its forward
// declaration; callers of ToJson/DecodeAuditRecord include <nlohmann/json.hpp> themselves.
#ifndef TEARLINE_AUDIT_RECORD_TYPES_H_
#define TEARLINE_AUDIT_RECORD_TYPES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "tearline/audit/audit_json.h"
#include "tearline/base/status.h"

namespace tearline {

struct AuditRecord;  // tearline/audit/audit_records.h

// One member of a record and its JSON key.
template <typename Class, typename Member>
struct AuditField {
  std::string_view key;
  Member Class::*member;
};
template <typename Class, typename Member>
constexpr AuditField<Class, Member> MakeAuditField(std::string_view key, Member Class::*member) {
  return {key, member};
}

// Specialised right after each record (and nested) type: `kFields`, a tuple of AuditField.
template <typename T>
struct AuditRecordSchema;

// A member whose only valid value is JSON `true` (a flag that marks a variant of a record).
struct AuditTrueFlag {
  friend bool operator==(const AuditTrueFlag&, const AuditTrueFlag&) = default;
};

// ----- Broker lifecycle --------------------------------------------------------------------------

struct BrokerStartRecord {
  static constexpr std::string_view kType = "broker_start";
  std::string broker;                 // Broker id.
  std::uint64_t nodes = 0;            // Nodes in the directory.
  std::uint64_t torn_tail_bytes = 0;  // Bytes of a torn last line cut at start-up.
  friend bool operator==(const BrokerStartRecord&, const BrokerStartRecord&) = default;
};
template <>
struct AuditRecordSchema<BrokerStartRecord> {
  using T = BrokerStartRecord;
  static constexpr auto kFields =
      std::make_tuple(MakeAuditField("broker", &T::broker), MakeAuditField("nodes", &T::nodes),
                      MakeAuditField("torn_tail_bytes", &T::torn_tail_bytes));
};

struct PolicyLoadedRecord {
  static constexpr std::string_view kType = "policy_loaded";
  std::optional<std::string> policy;          // Descriptive: the policy's name.
  std::optional<std::string> policy_version;  // Descriptive.
  std::string policy_sha256;                  // Lower-case hex SHA-256 of the policy bytes.
  friend bool operator==(const PolicyLoadedRecord&, const PolicyLoadedRecord&) = default;
};
template <>
struct AuditRecordSchema<PolicyLoadedRecord> {
  using T = PolicyLoadedRecord;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("policy", &T::policy), MakeAuditField("policy_version", &T::policy_version),
      MakeAuditField("policy_sha256", &T::policy_sha256));
};

struct BrokerStopRecord {
  static constexpr std::string_view kType = "broker_stop";
  std::string broker;
  friend bool operator==(const BrokerStopRecord&, const BrokerStopRecord&) = default;
};
template <>
struct AuditRecordSchema<BrokerStopRecord> {
  static constexpr auto kFields =
      std::make_tuple(MakeAuditField("broker", &BrokerStopRecord::broker));
};

// ----- Connections and input ---------------------------------------------------------------------

struct NodeConnectedRecord {
  static constexpr std::string_view kType = "node_connected";
  std::string node;
  friend bool operator==(const NodeConnectedRecord&, const NodeConnectedRecord&) = default;
};
template <>
struct AuditRecordSchema<NodeConnectedRecord> {
  static constexpr auto kFields =
      std::make_tuple(MakeAuditField("node", &NodeConnectedRecord::node));
};

struct ConnectionRefusedRecord {
  static constexpr std::string_view kType = "connection_refused";
  std::string peer_address;
  std::string client_key;  // Hex.
  std::string reason;      // AUTH_UNKNOWN_KEY, a certificate reason, or CONNECTION_LIMIT.
  std::string explanation;
  // Descriptive: refusals from the same address in the preceding second that were not written
  // (the broker always writes it; logs from before rate-limited refusals lack it).
  std::optional<std::uint64_t> suppressed;
  friend bool operator==(const ConnectionRefusedRecord&, const ConnectionRefusedRecord&) = default;
};
template <>
struct AuditRecordSchema<ConnectionRefusedRecord> {
  using T = ConnectionRefusedRecord;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("peer_address", &T::peer_address),
      MakeAuditField("client_key", &T::client_key), MakeAuditField("reason", &T::reason),
      MakeAuditField("explanation", &T::explanation), MakeAuditField("suppressed", &T::suppressed));
};

struct RejectedInputRecord {
  static constexpr std::string_view kType = "rejected_input";
  std::string node;
  std::string reason;
  std::string explanation;
  std::optional<std::string> report_id;     // Optional: when the input named a report.
  std::optional<std::uint64_t> suppressed;  // Optional: on RATE_LIMITED records only.
  friend bool operator==(const RejectedInputRecord&, const RejectedInputRecord&) = default;
};
template <>
struct AuditRecordSchema<RejectedInputRecord> {
  using T = RejectedInputRecord;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("node", &T::node), MakeAuditField("reason", &T::reason),
      MakeAuditField("explanation", &T::explanation), MakeAuditField("report_id", &T::report_id),
      MakeAuditField("suppressed", &T::suppressed));
};

struct DeliveryRejectedByRecipientRecord {
  static constexpr std::string_view kType = "delivery_rejected_by_recipient";
  std::string node;
  std::string reason;
  std::string explanation;
  friend bool operator==(const DeliveryRejectedByRecipientRecord&,
                         const DeliveryRejectedByRecipientRecord&) = default;
};
template <>
struct AuditRecordSchema<DeliveryRejectedByRecipientRecord> {
  using T = DeliveryRejectedByRecipientRecord;
  static constexpr auto kFields =
      std::make_tuple(MakeAuditField("node", &T::node), MakeAuditField("reason", &T::reason),
                      MakeAuditField("explanation", &T::explanation));
};

// ----- Report decisions --------------------------------------------------------------------------

struct AcceptedPortion {
  std::uint32_t index = 0;
  std::string label;
  std::optional<std::string> ciphertext_sha256;   // Descriptive: hex.
  std::optional<std::uint64_t> ciphertext_bytes;  // Descriptive.
  // Optional, on derived portions only (signed provenance): "<report id hex>/<index from 0>" per
  // source, the contributing nations (de-duplicated, first-seen order), and the originator's
  // override reason when present (the broker accepts a label that excludes a contributor only
  // with one).
  std::optional<std::vector<std::string>> sources;
  std::optional<std::vector<std::string>> contributors;
  std::optional<std::string> provenance_override;
  friend bool operator==(const AcceptedPortion&, const AcceptedPortion&) = default;
};
template <>
struct AuditRecordSchema<AcceptedPortion> {
  using T = AcceptedPortion;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("index", &T::index), MakeAuditField("label", &T::label),
      MakeAuditField("ciphertext_sha256", &T::ciphertext_sha256),
      MakeAuditField("ciphertext_bytes", &T::ciphertext_bytes),
      MakeAuditField("sources", &T::sources), MakeAuditField("contributors", &T::contributors),
      MakeAuditField("provenance_override", &T::provenance_override));
};

struct AcceptedRecord {
  static constexpr std::string_view kType = "accepted";
  std::string report_id;  // 32 lower-case hex digits.
  std::string originator;
  std::string originator_nation;
  std::optional<std::vector<std::string>> intended_nations;  // Descriptive.
  std::optional<std::int64_t> created;                       // Descriptive: unix seconds.
  std::optional<std::int64_t> expires;                       // Descriptive: unix seconds.
  std::optional<std::uint64_t> report_bytes;                 // Descriptive.
  std::vector<AcceptedPortion> portions;
  std::string policy_sha256;
  friend bool operator==(const AcceptedRecord&, const AcceptedRecord&) = default;
};
template <>
struct AuditRecordSchema<AcceptedRecord> {
  using T = AcceptedRecord;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("report_id", &T::report_id), MakeAuditField("originator", &T::originator),
      MakeAuditField("originator_nation", &T::originator_nation),
      MakeAuditField("intended_nations", &T::intended_nations),
      MakeAuditField("created", &T::created), MakeAuditField("expires", &T::expires),
      MakeAuditField("report_bytes", &T::report_bytes), MakeAuditField("portions", &T::portions),
      MakeAuditField("policy_sha256", &T::policy_sha256));
};

struct DeniedRecord {
  static constexpr std::string_view kType = "denied";
  std::string report_id;
  std::optional<std::string> originator;  // Descriptive (the accepted record is authoritative).
  std::string recipient;                  // Node id, "" when the nation has none.
  std::string nation;
  // Optional: a per-portion denial names the portion; a whole-recipient denial (NO_NODE,
  // UNKNOWN_NATION, QUEUE_FULL, BROKER_STORAGE) has neither.
  std::optional<std::uint32_t> portion;
  std::optional<std::string> label;
  std::string reason;
  std::string explanation;
  friend bool operator==(const DeniedRecord&, const DeniedRecord&) = default;
};
template <>
struct AuditRecordSchema<DeniedRecord> {
  using T = DeniedRecord;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("report_id", &T::report_id), MakeAuditField("originator", &T::originator),
      MakeAuditField("recipient", &T::recipient), MakeAuditField("nation", &T::nation),
      MakeAuditField("portion", &T::portion), MakeAuditField("label", &T::label),
      MakeAuditField("reason", &T::reason), MakeAuditField("explanation", &T::explanation));
};

struct ReleasedPortion {
  std::uint32_t index = 0;
  std::string label;
  friend bool operator==(const ReleasedPortion&, const ReleasedPortion&) = default;
};
template <>
struct AuditRecordSchema<ReleasedPortion> {
  static constexpr auto kFields = std::make_tuple(MakeAuditField("index", &ReleasedPortion::index),
                                                  MakeAuditField("label", &ReleasedPortion::label));
};

// A copy released to one recipient: the fields of `delivered` (sent to a connected node) and
// `queued` (stored for an offline node), which differ only in their type.
struct ReleasedCopy {
  std::string report_id;
  std::optional<std::string> originator;         // Descriptive (accepted is authoritative).
  std::optional<std::string> originator_nation;  // Descriptive (accepted is authoritative).
  std::string recipient;
  std::string nation;
  std::string clearance;  // The recipient certificate's level name.
  std::vector<ReleasedPortion> portions;
  friend bool operator==(const ReleasedCopy&, const ReleasedCopy&) = default;
};
template <>
struct AuditRecordSchema<ReleasedCopy> {
  using T = ReleasedCopy;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("report_id", &T::report_id), MakeAuditField("originator", &T::originator),
      MakeAuditField("originator_nation", &T::originator_nation),
      MakeAuditField("recipient", &T::recipient), MakeAuditField("nation", &T::nation),
      MakeAuditField("clearance", &T::clearance), MakeAuditField("portions", &T::portions));
};

struct DeliveredRecord : ReleasedCopy {
  static constexpr std::string_view kType = "delivered";
  friend bool operator==(const DeliveredRecord&, const DeliveredRecord&) = default;
};
template <>
struct AuditRecordSchema<DeliveredRecord> : AuditRecordSchema<ReleasedCopy> {};

struct QueuedRecord : ReleasedCopy {
  static constexpr std::string_view kType = "queued";
  friend bool operator==(const QueuedRecord&, const QueuedRecord&) = default;
};
template <>
struct AuditRecordSchema<QueuedRecord> : AuditRecordSchema<ReleasedCopy> {};

// A queued copy sent later (type `delivered`, told apart by `from_queue: true`); follows a
// `queued` record for the same report and recipient.
struct DeliveredFromQueueRecord {
  static constexpr std::string_view kType = "delivered";
  static constexpr std::string_view kFromQueueKey = "from_queue";  // Tells the two apart.
  std::string report_id;
  std::string recipient;
  AuditTrueFlag from_queue;
  friend bool operator==(const DeliveredFromQueueRecord&,
                         const DeliveredFromQueueRecord&) = default;
};
template <>
struct AuditRecordSchema<DeliveredFromQueueRecord> {
  using T = DeliveredFromQueueRecord;
  static constexpr auto kFields = std::make_tuple(MakeAuditField("report_id", &T::report_id),
                                                  MakeAuditField("recipient", &T::recipient),
                                                  MakeAuditField(T::kFromQueueKey, &T::from_queue));
};

struct AcknowledgedRecord {
  static constexpr std::string_view kType = "acknowledged";
  std::string report_id;
  std::string recipient;
  std::string signature;  // Hex.
  friend bool operator==(const AcknowledgedRecord&, const AcknowledgedRecord&) = default;
};
template <>
struct AuditRecordSchema<AcknowledgedRecord> {
  using T = AcknowledgedRecord;
  static constexpr auto kFields = std::make_tuple(MakeAuditField("report_id", &T::report_id),
                                                  MakeAuditField("recipient", &T::recipient),
                                                  MakeAuditField("signature", &T::signature));
};

// A stored copy removed unacknowledged because the report's expiry passed; follows a `queued`
// or `delivered` record for the same report and recipient.
struct ExpiredRecord {
  static constexpr std::string_view kType = "expired";
  std::string report_id;
  std::optional<std::string> originator;  // Descriptive (accepted is authoritative).
  std::string recipient;
  std::string nation;
  std::string reason;  // REPORT_EXPIRED.
  std::string explanation;
  friend bool operator==(const ExpiredRecord&, const ExpiredRecord&) = default;
};
template <>
struct AuditRecordSchema<ExpiredRecord> {
  using T = ExpiredRecord;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("report_id", &T::report_id), MakeAuditField("originator", &T::originator),
      MakeAuditField("recipient", &T::recipient), MakeAuditField("nation", &T::nation),
      MakeAuditField("reason", &T::reason), MakeAuditField("explanation", &T::explanation));
};

// A stored copy given up because its recipient refused it for a permanent reason (it cannot
// decrypt it, a key or label does not match, a signature does not verify) `refusals` times;
// written once per copy, follows a `queued` or `delivered` record for the same report and
// recipient.
struct FailedRecord {
  static constexpr std::string_view kType = "failed";
  std::string report_id;
  std::optional<std::string> originator;  // Descriptive (accepted is authoritative).
  std::string recipient;
  std::string nation;
  std::string reason;  // The recipient's last refusal reason, e.g. ENVELOPE_DECRYPT_FAILED.
  std::string explanation;
  std::uint64_t refusals = 0;  // Permanent refusals received for this copy.
  friend bool operator==(const FailedRecord&, const FailedRecord&) = default;
};
template <>
struct AuditRecordSchema<FailedRecord> {
  using T = FailedRecord;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("report_id", &T::report_id), MakeAuditField("originator", &T::originator),
      MakeAuditField("recipient", &T::recipient), MakeAuditField("nation", &T::nation),
      MakeAuditField("reason", &T::reason), MakeAuditField("explanation", &T::explanation),
      MakeAuditField("refusals", &T::refusals));
};

// ----- Forwards (re-share within the label)
// -------------------------------------------------------

// A node forwarded portions of a report it received to another nation, and the broker accepted
// the forward: the forward id then plays the part of a report id for the `delivered`, `queued`,
// `denied`, `acknowledged`, `expired` and `failed` records of the forwarded copies, and their
// `originator` is the report's originator.
struct ForwardedRecord {
  static constexpr std::string_view kType = "forwarded";
  std::string forward_id;  // 32 lower-case hex digits.
  std::string report_id;   // The originator's report.
  std::string originator;
  std::string originator_nation;
  std::string forwarder;
  std::string forwarder_nation;
  std::string target_nation;
  std::vector<AcceptedPortion> portions;  // As the originator labelled them.
  std::string policy_sha256;
  friend bool operator==(const ForwardedRecord&, const ForwardedRecord&) = default;
};
template <>
struct AuditRecordSchema<ForwardedRecord> {
  using T = ForwardedRecord;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("forward_id", &T::forward_id), MakeAuditField("report_id", &T::report_id),
      MakeAuditField("originator", &T::originator),
      MakeAuditField("originator_nation", &T::originator_nation),
      MakeAuditField("forwarder", &T::forwarder),
      MakeAuditField("forwarder_nation", &T::forwarder_nation),
      MakeAuditField("target_nation", &T::target_nation), MakeAuditField("portions", &T::portions),
      MakeAuditField("policy_sha256", &T::policy_sha256));
};

// A forward the broker refused (not held by the forwarder, ORCON, not released to the target
// by the originator's label, malformed, ...). `node` is the authenticated forwarder.
struct ForwardRefusedRecord {
  static constexpr std::string_view kType = "forward_refused";
  std::string node;
  std::optional<std::string> forward_id;
  std::optional<std::string> report_id;
  std::optional<std::string> target_nation;
  std::optional<std::vector<std::uint32_t>> indices;  // Forwarded portion indices.
  std::string reason;
  std::string explanation;
  friend bool operator==(const ForwardRefusedRecord&, const ForwardRefusedRecord&) = default;
};
template <>
struct AuditRecordSchema<ForwardRefusedRecord> {
  using T = ForwardRefusedRecord;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("node", &T::node), MakeAuditField("forward_id", &T::forward_id),
      MakeAuditField("report_id", &T::report_id),
      MakeAuditField("target_nation", &T::target_nation), MakeAuditField("portions", &T::indices),
      MakeAuditField("reason", &T::reason), MakeAuditField("explanation", &T::explanation));
};

// The broker started accepting a new current certificate for a node id while it ran (a file
// dropped into its directory: key rotation, docs/OPERATIONS.md). The previous certificate, if
// any, stays in force for authentication until `previous_until`.
struct CertificateAcceptedRecord {
  static constexpr std::string_view kType = "certificate_accepted";
  std::string node;
  std::uint64_t serial = 0;
  std::string fingerprint;            // Lower-case hex SHA-256 of the certificate file.
  std::uint64_t previous_serial = 0;  // The current serial before; 0: a new node id.
  std::int64_t previous_until = 0;    // Unix seconds the previous key's overlap ends; 0: none.
  friend bool operator==(const CertificateAcceptedRecord&,
                         const CertificateAcceptedRecord&) = default;
};
template <>
struct AuditRecordSchema<CertificateAcceptedRecord> {
  using T = CertificateAcceptedRecord;
  static constexpr auto kFields =
      std::make_tuple(MakeAuditField("node", &T::node), MakeAuditField("serial", &T::serial),
                      MakeAuditField("fingerprint", &T::fingerprint),
                      MakeAuditField("previous_serial", &T::previous_serial),
                      MakeAuditField("previous_until", &T::previous_until));
};

// ----- Release requests (docs/AUDIT.md "Release records") ------------------------------------

// A node asked the originator of a portion it holds to release it to another nation.
struct ReleaseRequestedRecord {
  static constexpr std::string_view kType = "release_requested";
  std::string request_id;  // 32 lower-case hex digits.
  std::string report_id;
  std::uint32_t portion = 0;
  std::string originator;  // Node id of the report's originator.
  std::string requester;   // Node id (authenticated).
  std::string requester_nation;
  std::string to_nation;
  std::string why;  // The requester's justification (at most 512 bytes).
  friend bool operator==(const ReleaseRequestedRecord&, const ReleaseRequestedRecord&) = default;
};
template <>
struct AuditRecordSchema<ReleaseRequestedRecord> {
  using T = ReleaseRequestedRecord;
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("request_id", &T::request_id), MakeAuditField("report_id", &T::report_id),
      MakeAuditField("portion", &T::portion), MakeAuditField("originator", &T::originator),
      MakeAuditField("requester", &T::requester),
      MakeAuditField("requester_nation", &T::requester_nation),
      MakeAuditField("to_nation", &T::to_nation), MakeAuditField("why", &T::why));
};

// The originator's decision on a release request, verified by the broker. Written as
// `release_decided` (an officer approved or denied), `release_auto_approved` (a standing
// authorisation of the originator's policy approved; `rule` names it) or `release_sanitised`
// (an officer approved a sanitised version: a new portion with its own content and label).
struct ReleaseDecisionFields {
  std::string request_id;
  std::string report_id;  // The original report.
  std::uint32_t portion = 0;
  std::string originator;
  std::string requester;
  std::string to_nation;
  std::string decision;                          // "approved" or "denied".
  std::optional<std::string> label;              // Optional: approvals, the new label.
  std::optional<std::string> release_report_id;  // Optional: approvals, the report released.
  std::optional<std::string> explanation;        // Optional: denials, the originator's reason.
  std::optional<std::string> rule;               // Optional: release_auto_approved only.
  std::int64_t requested = 0;                    // Unix seconds of the release_requested record.
  std::string signature;                         // Hex: the originator's decision signature.
  // Base64: the exact ReleaseDecisionBody bytes the originator signed (at most 768 bytes, so the
  // text fits one audit string). Optional only so a reader can name its absence
  // (AUDIT_RELEASE_UNSIGNED); the broker always writes it.
  std::optional<std::string> decision_body;
  friend bool operator==(const ReleaseDecisionFields&, const ReleaseDecisionFields&) = default;
};
struct ReleaseDecidedRecord : ReleaseDecisionFields {
  static constexpr std::string_view kType = "release_decided";
  friend bool operator==(const ReleaseDecidedRecord&, const ReleaseDecidedRecord&) = default;
};
struct ReleaseAutoApprovedRecord : ReleaseDecisionFields {
  static constexpr std::string_view kType = "release_auto_approved";
  friend bool operator==(const ReleaseAutoApprovedRecord&,
                         const ReleaseAutoApprovedRecord&) = default;
};
struct ReleaseSanitisedRecord : ReleaseDecisionFields {
  static constexpr std::string_view kType = "release_sanitised";
  friend bool operator==(const ReleaseSanitisedRecord&, const ReleaseSanitisedRecord&) = default;
};
template <typename T>
struct ReleaseDecisionSchema {
  static constexpr auto kFields = std::make_tuple(
      MakeAuditField("request_id", &T::request_id), MakeAuditField("report_id", &T::report_id),
      MakeAuditField("portion", &T::portion), MakeAuditField("originator", &T::originator),
      MakeAuditField("requester", &T::requester), MakeAuditField("to_nation", &T::to_nation),
      MakeAuditField("decision", &T::decision), MakeAuditField("label", &T::label),
      MakeAuditField("release_report_id", &T::release_report_id),
      MakeAuditField("explanation", &T::explanation), MakeAuditField("rule", &T::rule),
      MakeAuditField("requested", &T::requested), MakeAuditField("signature", &T::signature),
      MakeAuditField("decision_body", &T::decision_body));
};
template <>
struct AuditRecordSchema<ReleaseDecidedRecord> : ReleaseDecisionSchema<ReleaseDecidedRecord> {};
template <>
struct AuditRecordSchema<ReleaseAutoApprovedRecord>
    : ReleaseDecisionSchema<ReleaseAutoApprovedRecord> {};
template <>
struct AuditRecordSchema<ReleaseSanitisedRecord> : ReleaseDecisionSchema<ReleaseSanitisedRecord> {};

// ----- All records -------------------------------------------------------------------------------

// Every record the broker writes. The order is that of kAuditRecordTypes.
using AnyAuditRecord =
    std::variant<BrokerStartRecord, PolicyLoadedRecord, BrokerStopRecord, NodeConnectedRecord,
                 ConnectionRefusedRecord, RejectedInputRecord, AcceptedRecord, DeniedRecord,
                 DeliveredRecord, DeliveredFromQueueRecord, QueuedRecord, AcknowledgedRecord,
                 ExpiredRecord, DeliveryRejectedByRecipientRecord, FailedRecord, ForwardedRecord,
                 ForwardRefusedRecord, ReleaseRequestedRecord, ReleaseDecidedRecord,
                 ReleaseAutoApprovedRecord, ReleaseSanitisedRecord, CertificateAcceptedRecord>;

namespace audit_internal {
template <typename Variant>
struct AllTypeNames;
template <typename... T>
struct AllTypeNames<std::variant<T...>> {
  static constexpr std::array<std::string_view, sizeof...(T)> kNames{T::kType...};
};
template <std::size_t N>
constexpr std::size_t CountDistinct(const std::array<std::string_view, N>& names) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < N; ++i) {
    bool seen = false;
    for (std::size_t j = 0; j < i; ++j) seen = seen || names[j] == names[i];
    if (!seen) ++n;
  }
  return n;
}
template <typename Variant>
constexpr auto DistinctTypeNames() {
  constexpr const auto& all = AllTypeNames<Variant>::kNames;
  std::array<std::string_view, CountDistinct(all)> out{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    bool seen = false;
    for (std::size_t j = 0; j < n; ++j) seen = seen || out[j] == all[i];
    if (!seen) out[n++] = all[i];
  }
  return out;
}
}  // namespace audit_internal

// Every record type name the broker writes, each once, derived from AnyAuditRecord.
inline constexpr auto kAuditRecordTypes = audit_internal::DistinctTypeNames<AnyAuditRecord>();
bool IsKnownAuditRecordType(std::string_view type);

// The record's `type`.
std::string_view AuditRecordTypeName(const AnyAuditRecord& record);

// The fields object the broker writes for `record` (without seq, time and type): every plain
// member, and every std::optional member that holds a value.
nlohmann::json ToJson(const AnyAuditRecord& record);

// Decodes the fields of a record of `type` from `object` (a JSON object; seq, time, type and
// keys the type does not define are ignored). A `delivered` object with a `from_queue` key is a
// DeliveredFromQueueRecord, any other `delivered` a DeliveredRecord; a `queued` object with
// `from_queue` is refused (only a delivery comes from the queue).
// Reasons: AUDIT_RECORD_MALFORMED (kInvalidArgument; the message names the type and the field
// that is missing or has the wrong type), AUDIT_RECORD_UNKNOWN_TYPE (kNotFound: a type this
// version does not know; readers skip such records).
Result<AnyAuditRecord> DecodeAuditRecord(std::string_view type, const nlohmann::json& object);
// The same over a value read by the flat reader (audit_json.h): same results, same messages.
Result<AnyAuditRecord> DecodeAuditRecord(std::string_view type, const AuditJsonValue& object);
// The same for a record loaded from a log (its `type` and parsed object).
Result<AnyAuditRecord> DecodeAuditRecord(const AuditRecord& record);

// DecodeAuditRecord for a reader of many records (the verifier): each type is decoded into the
// record of that type decoded last, reusing its strings and vectors, so that once they have grown
// decoding allocates nothing. Same results and messages as DecodeAuditRecord. On success `out`
// points at the decoded record, owned by the decoder and valid until its next Decode; on failure
// `out` is untouched.
// Thread-safety: one thread at a time.
class AuditRecordDecoder {
 public:
  AuditRecordDecoder();
  [[nodiscard]] Status Decode(std::string_view type, const AuditJsonValue& object,
                              const AnyAuditRecord*& out);
  [[nodiscard]] Status Decode(std::string_view type, const nlohmann::json& object,
                              const AnyAuditRecord*& out);
  [[nodiscard]] Status Decode(const AuditRecord& record, const AnyAuditRecord*& out);

 private:
  std::vector<AnyAuditRecord> slots_;  // slots_[i] holds alternative i.
};

// The identifying fields several record types share, for readers that filter and tabulate
// across types (query, custody, report). Each view is empty when the record's type has no such
// member or the optional member holds no value. The views point into `record`, which must
// outlive them.
struct AuditRecordKeys {
  std::optional<std::string_view> report_id;
  std::optional<std::string_view> originator;
  std::optional<std::string_view> originator_nation;
  std::optional<std::string_view> recipient;
  std::optional<std::string_view> nation;
  std::optional<std::string_view> node;
  std::optional<std::string_view> reason;
  std::vector<std::string_view> labels;  // Portion labels, in record order.
};
AuditRecordKeys KeysOf(const AnyAuditRecord& record);

}  // namespace tearline

#endif  // TEARLINE_AUDIT_RECORD_TYPES_H_
