// Forward: re-sharing portions a node received with another nation, within the originator's
// label. docs/PROTOCOL.md ("Forward") is the normative format; docs/THREAT_MODEL.md says which
// attacker each check defeats.
//
// A forward carries the originator's report exactly as signed (header, signature, the forwarded
// portion bodies) and a ForwardGrant signed by the forwarder: the forward id, the report id, the
// target nation and, per forwarded portion, the portion's content key sealed for each node of
// the target nation. The originator's label cannot be changed by the forwarder (the body is
// committed to in the originator's signed header) and the grant cannot be changed by the broker
// (the forwarder signs it), so a recipient verifies both signatures and sees the chain
// originator -> forwarder. The broker may drop bodies (SelectForwardPortions) as for a report.
//
// Keys are raw libsodium layouts; secret keys only ever come from SecretBytes.
// Errors: typed Status values, never exceptions; reasons are listed in docs/PROTOCOL.md.
// Thread-safety: all functions are reentrant.
#ifndef TEARLINE_ENVELOPE_FORWARD_H_
#define TEARLINE_ENVELOPE_FORWARD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/envelope/envelope.h"
#include "tearline/labels/policy.h"

namespace tearline {

inline constexpr std::uint16_t kForwardVersion = 1;
// Key wraps one grant may carry (every forwarded portion times every target node).
inline constexpr std::size_t kMaxForwardWraps = 1024;
inline constexpr std::size_t kMaxGrantBytes = std::size_t{256} << 10;

using ForwardId = ReportId;

struct ForwardTarget {
  std::string node_id;
  std::array<std::uint8_t, kEncPublicKeyBytes> enc_public_key{};  // X25519.
};

struct ForwardInput {
  std::optional<ForwardId> forward_id;  // Random when unset.
  std::string forwarder;                // This node's id.
  std::string forwarder_nation;
  std::string target_nation;
  std::int64_t created_unix = 0;
  std::vector<std::uint32_t> portions;  // Indices to forward; each present in the copy.
  std::vector<ForwardTarget> targets;   // The target nation's nodes; distinct, non-empty.
  // Source of the forward id (when unset) and of the wraps' ephemeral keys; nullptr means
  // OsRandom(). Only conformance vectors and tests pass a seeded source. Borrowed for the call.
  RandomSource* random = nullptr;
};

struct SealedForward {
  std::vector<std::uint8_t> bytes;  // The Forward FlatBuffer ("TLFW") to hand to the broker.
  ForwardId forward_id{};
};

// Builds a forward of `portions` of `copy` (a report this node received and verified): unwraps
// each portion's content key with `me`'s keys, seals it for every target, signs the grant with
// `sign_sk` (the forwarder's Ed25519 key). Reasons: ENVELOPE_BAD_INPUT, ENVELOPE_NO_SUCH_PORTION
// (an index not in the copy), ENVELOPE_NOT_A_RECIPIENT (no wrap for `me`), ENVELOPE_DECRYPT_FAILED,
// ENVELOPE_BAD_KEY, those of the report decoder.
Result<SealedForward> SealForward(std::span<const std::uint8_t> copy, const ForwardInput& input,
                                  const RecipientIdentity& me, const SecretBytes& sign_sk);

// True when `bytes` carry the Forward identifier ("TLFW"); says nothing about validity.
bool IsForward(std::span<const std::uint8_t> bytes);

// Originator (from the nested header) and forwarder (from the grant) after structural
// verification only: UNAUTHENTICATED, use them solely to look up the keys to verify with.
struct ForwardParties {
  std::string originator;
  std::string forwarder;
};
Result<ForwardParties> PeekForward(std::span<const std::uint8_t> forward);

// The signed grant's fields.
struct ForwardInfo {
  ForwardId forward_id{};
  ReportId report_id{};
  std::string forwarder;
  std::string forwarder_nation;
  std::string target_nation;
  std::int64_t created_unix = 0;
  std::vector<std::uint32_t> portions;  // As granted (the copy may hold fewer).
};

// What a broker may see. `report` is the nested report as InspectReport returns it, except that
// each portion's `recipients`/`fingerprints` are the grant's wraps for that portion (the nodes the
// forwarder sealed it for), so the broker's routing decides a forward exactly as a report.
struct ForwardView : ForwardInfo {
  ReportView report;
  std::size_t forward_bytes = 0;
};

// Verifies the Forward and grant structure, the forwarder's signature over the grant, the nested
// report (InspectReport: structure, originator signature, commitments), that the grant names the
// report's id, that every body present is granted, and that every wrap names a granted portion.
// Reasons: ENVELOPE_TOO_LARGE, ENVELOPE_MALFORMED, ENVELOPE_VERSION, ENVELOPE_BAD_SIGNATURE
// (either signature), ENVELOPE_BAD_KEY, FORWARD_REPORT_MISMATCH, those of InspectReport.
Result<ForwardView> InspectForward(std::span<const std::uint8_t> forward,
                                   std::span<const std::uint8_t> originator_sign_pk,
                                   std::span<const std::uint8_t> forwarder_sign_pk);

// Rebuilds the Forward keeping the grant, its signature and only the nested bodies whose index is
// in `indices` (as SelectPortions). Structural verification only: run InspectForward first.
Result<std::vector<std::uint8_t>> SelectForwardPortions(std::span<const std::uint8_t> forward,
                                                        std::span<const std::uint32_t> indices);

struct OpenedForward : ForwardInfo {
  OpenedReport report;  // Decrypted with the keys the grant sealed for `me`.
};

// Recipient side: InspectForward, then the report's validity window, then for each portion sealed
// for `me` in the grant: key fingerprint, label parse and DecideRelease for `me` with the
// originator's nation, unwrap, AEAD decrypt (as Open). Reasons: those of InspectForward and Open.
Result<OpenedForward> OpenForward(std::span<const std::uint8_t> forward,
                                  const RecipientIdentity& me,
                                  std::span<const std::uint8_t> originator_sign_pk,
                                  std::span<const std::uint8_t> forwarder_sign_pk,
                                  const Policy& policy, std::int64_t now_unix);

}  // namespace tearline

#endif  // TEARLINE_ENVELOPE_FORWARD_H_
