// Report envelope: the end-to-end encrypted, signed form in which a report travels between
// nodes through the broker. docs/PROTOCOL.md ("Report envelope") is the normative wire format;
// docs/THREAT_MODEL.md says which attacker each check defeats.
//
// A report has a signed header (id, originator, times, one salted SHA-256 commitment per portion)
// and one body per portion (label, nonce, XChaCha20-Poly1305 ciphertext, per-recipient
// crypto_box_seal wraps of the portion's content key). The broker may drop bodies
// (SelectPortions) but the signature still verifies, because the header commits to each body
// separately; any change to a body, label, wrap list or id breaks a commitment, the signature or
// the AEAD tag.
//
// Keys are passed raw (Ed25519 / X25519, libsodium layouts). Secret keys are only ever read from
// SecretBytes. Decrypted content is returned in SecretBytes (sodium_malloc'd, wiped when freed).
//
// Errors: every function returns a typed Status; reasons are listed in docs/PROTOCOL.md and
// below. No input, however malformed, aborts or throws.
//
// Thread-safety: all functions are reentrant and may be called concurrently on distinct or
// shared const inputs. libsodium is initialised on first use.
#ifndef TEARLINE_ENVELOPE_H_
#define TEARLINE_ENVELOPE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/crypto/random_source.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"

namespace tearline {

// Wire version written into ReportHeader.version and the only one accepted.
inline constexpr std::uint16_t kEnvelopeVersion = 1;

// Size caps. Inputs above them are refused before any parsing (ENVELOPE_TOO_LARGE) or as
// malformed; senders are refused with the same reasons.
inline constexpr std::size_t kMaxReportBytes = std::size_t{16} << 20;  // Whole Report.
inline constexpr std::size_t kMaxHeaderBytes = std::size_t{64} << 10;  // Nested ReportHeader.
inline constexpr std::size_t kMaxPortions = 64;
inline constexpr std::size_t kMaxRecipientsPerPortion = 256;
inline constexpr std::size_t kMaxIntendedNations = 64;
inline constexpr std::size_t kMaxLabelBytes = 256;
inline constexpr std::size_t kMaxNodeIdBytes = 64;
inline constexpr std::size_t kMaxNationBytes = 16;
// Tolerated clock difference when checking that a report is not from the future.
inline constexpr std::int64_t kMaxClockSkewSeconds = 300;

inline constexpr std::size_t kReportIdBytes = 16;
inline constexpr std::size_t kKeyFingerprintBytes = 16;
inline constexpr std::size_t kSignPublicKeyBytes = 32;  // crypto_sign_PUBLICKEYBYTES
inline constexpr std::size_t kSignSecretKeyBytes = 64;  // crypto_sign_SECRETKEYBYTES
inline constexpr std::size_t kEncPublicKeyBytes = 32;   // crypto_box_PUBLICKEYBYTES
inline constexpr std::size_t kEncSecretKeyBytes = 32;   // crypto_box_SECRETKEYBYTES

using ReportId = std::array<std::uint8_t, kReportIdBytes>;
using Digest = std::array<std::uint8_t, 32>;
using KeyFingerprint = std::array<std::uint8_t, kKeyFingerprintBytes>;

// Lower-case hex of a report id (32 characters), for logs and messages.
std::string ReportIdHex(const ReportId& id);

// First kKeyFingerprintBytes of SHA-256(public key): how a wrap names the recipient key.
KeyFingerprint EncKeyFingerprint(std::span<const std::uint8_t, kEncPublicKeyBytes> enc_pk);

// Provenance of a derived portion: the sources it was written from and, when its label no
// longer releases to every contributing nation, the originator's stated reason. Travels inside
// the portion body, so the body's signed commitment covers it; absent on a portion that is not
// derived (and on every report written before provenance existed, which still verify).
inline constexpr std::size_t kMaxSourcesPerPortion = 16;
inline constexpr std::size_t kMaxOverrideReasonBytes = 256;  // Printable ASCII.

struct ProvenanceSource {
  ReportId report_id{};       // The source report (the originator's id, also for a forward).
  std::uint32_t portion = 0;  // Source portion index, from 0.
  std::string nation;         // Contributing nation: the source's originator nation.
};

struct PortionProvenance {
  std::vector<ProvenanceSource> sources;  // Empty: not derived.
  std::string override_reason;            // Empty: no override.
};

// ---------------------------------------------------------------------------------------------
// Sealing (originator side).

struct SealPortion {
  std::string marking;  // Banner or portion form; travels as the canonical portion form.
  std::vector<std::uint8_t> plaintext;  // Must not be empty. The caller owns/wipes its copy.
  // Recipients (node ids from SealInput::recipients) to wrap this portion for. When unset,
  // every recipient the label releases to receives it. When set, every named recipient must be
  // released to by DecideRelease, otherwise Seal fails with ENVELOPE_RELEASE_DENIED.
  std::optional<std::vector<std::string>> recipients;
};

struct SealRecipient {
  std::string node_id;
  std::string nation;            // Trigraph known to the policy.
  std::optional<int> clearance;  // Rank in Policy::levels(); nullopt = unchecked.
  std::array<std::uint8_t, kEncPublicKeyBytes> enc_public_key{};  // X25519.
};

struct SealInput {
  std::optional<ReportId> report_id;  // Random when unset.
  std::string originator;             // Originating node id.
  std::string originator_nation;      // Trigraph known to the policy.
  std::int64_t created_unix = 0;
  std::int64_t expires_unix = 0;          // Must be >= created_unix.
  std::vector<SealPortion> portions;      // 1..kMaxPortions, index = position.
  std::vector<SealRecipient> recipients;  // Distinct node ids, at most kMaxRecipientsPerPortion.
  std::vector<std::string> intended_nations;  // What the sender asked for; informational.
  // Empty, or one per portion (same index): written into each body as given (validated: counts,
  // nations, reason text); the rule that the label keeps releasing to contributors is the
  // caller's (CheckProvenance).
  std::vector<PortionProvenance> provenance;
  // Where content keys, nonces, salts, the report id (when unset) and the wraps' ephemeral keys
  // come from; nullptr means OsRandom(). Only conformance vectors and tests pass a seeded source.
  // Borrowed for the duration of Seal.
  RandomSource* random = nullptr;
};

struct RecipientPortions {
  std::string node_id;
  std::vector<std::uint32_t> portions;  // Indices wrapped for this recipient, increasing.
};

struct SealedReport {
  std::vector<std::uint8_t> bytes;  // The Report FlatBuffer to hand to the broker.
  ReportId report_id{};
  std::string banner;                         // Roll-up of all portion labels (banner form).
  std::vector<std::string> portion_labels;    // Canonical portion markings, by index.
  std::vector<RecipientPortions> recipients;  // Same order as SealInput::recipients.
};

// Encrypts, wraps and signs a report. `sign_sk` is the originator's Ed25519 secret key
// (crypto_sign_SECRETKEYBYTES). Sender-side checks, each naming the portion ("portion 2: ...",
// indices from 0) and where relevant the recipient:
//   label reasons from ParseMarking (LABEL_*), ENVELOPE_LABEL_TOO_LONG, ENVELOPE_EMPTY_PORTION,
//   ENVELOPE_RELEASE_DENIED (explicit recipient not released to; message has the DenyReason
//   name), ENVELOPE_UNKNOWN_RECIPIENT, ENVELOPE_BAD_INPUT (ids, nations, times, counts, duplicate
//   recipients), ENVELOPE_BAD_KEY, ENVELOPE_TOO_LARGE, RELEASE_* from DecideRelease.
Result<SealedReport> Seal(const SealInput& input, const SecretBytes& sign_sk, const Policy& policy);

// ---------------------------------------------------------------------------------------------
// Opening (recipient side).

struct RecipientIdentity {
  std::string node_id;
  std::string nation;
  std::optional<int> clearance;
  std::array<std::uint8_t, kEncPublicKeyBytes> enc_public_key{};
  const SecretBytes& enc_secret_key;  // X25519, crypto_box_SECRETKEYBYTES; not owned.
};

// The signed header's fields, written once for every view of a report (the opened copy, the
// broker's inspection, the decoder's internal form).
struct ReportHeaderInfo {
  ReportId report_id{};
  std::string originator;
  std::string originator_nation;
  std::int64_t created_unix = 0;
  std::int64_t expires_unix = 0;
  std::uint32_t portion_count = 0;  // Portions in the original report (a recipient learns this).
  std::vector<std::string> intended_nations;
};

struct OpenedPortion {
  std::uint32_t index = 0;
  std::string label;  // Portion marking exactly as signed.
  Label parsed_label;
  SecretBytes plaintext;         // Wiped on destruction.
  PortionProvenance provenance;  // As signed.
};

struct OpenedReport : ReportHeaderInfo {
  std::string banner;                   // Roll-up of the portions opened here.
  std::vector<OpenedPortion> portions;  // Increasing index.
  // Portions present in this copy, verified against the signature, but not wrapped for this
  // recipient (a broker normally withholds them; their labels are not returned).
  std::vector<std::uint32_t> not_addressed;
};

// Verifies and decrypts the portions of `report` addressed to `me`. Order of checks (see
// docs/PROTOCOL.md): size cap, FlatBuffers Verifier on Report and ReportHeader, header fields,
// version, signature, validity window, per portion: index, duplicates, commitment, Verifier on
// PortionBody, body fields; then per addressed portion: key fingerprint, label parse and
// DecideRelease for `me`, unwrap, AEAD decrypt.
// Reasons: ENVELOPE_TOO_LARGE, ENVELOPE_MALFORMED, ENVELOPE_VERSION, ENVELOPE_BAD_SIGNATURE,
// ENVELOPE_EXPIRED, ENVELOPE_NOT_YET_VALID, ENVELOPE_PORTION_INDEX, ENVELOPE_DUPLICATE_PORTION,
// ENVELOPE_COMMITMENT_MISMATCH, ENVELOPE_KEY_MISMATCH, ENVELOPE_BAD_LABEL,
// ENVELOPE_LABEL_NOT_RELEASABLE, ENVELOPE_DECRYPT_FAILED, ENVELOPE_NOT_A_RECIPIENT (nothing
// addressed to `me`), ENVELOPE_BAD_KEY (caller keys of the wrong size). A secret key that does not
// match `me.enc_public_key` is not detected up front; it yields ENVELOPE_DECRYPT_FAILED.
Result<OpenedReport> Open(std::span<const std::uint8_t> report, const RecipientIdentity& me,
                          std::span<const std::uint8_t> originator_sign_pk, const Policy& policy,
                          std::int64_t now_unix);

// ---------------------------------------------------------------------------------------------
// Broker side: no keys needed.

struct PortionView {
  std::uint32_t index = 0;
  std::string label;                         // Portion marking as signed (not parsed here).
  std::vector<std::string> recipients;       // Node ids holding a wrap, in wire order.
  std::vector<KeyFingerprint> fingerprints;  // Parallel to `recipients`.
  std::size_t ciphertext_bytes = 0;          // Including the 16-byte tag.
  Digest ciphertext_digest{};                // SHA-256 of the ciphertext.
  Digest commitment{};                       // The signed commitment of this body.
  std::size_t body_bytes = 0;
  PortionProvenance provenance;  // As signed (the broker can read it, not the content).
};

struct ReportView : ReportHeaderInfo {
  std::vector<PortionView> portions;  // Those present in this copy, increasing index.
  std::size_t report_bytes = 0;
};

// Originator node id read from the header after structural verification only: UNAUTHENTICATED,
// use it solely to look up the key to pass to InspectReport/Open.
Result<std::string> PeekOriginator(std::span<const std::uint8_t> report);

// Verifies structure, signature and every present body's commitment, then returns what a broker
// may see: header fields, labels, wrap recipients, ciphertext sizes and digests. Does not check
// the validity window (compare expires_unix yourself). Reasons as for Open up to the
// commitments.
Result<ReportView> InspectReport(std::span<const std::uint8_t> report,
                                 std::span<const std::uint8_t> originator_sign_pk);

// The originator's signing key for a report whose header names `originator` (read after
// structural verification only: UNAUTHENTICATED), or the status that refuses the report. The
// span must stay valid until InspectReport returns.
using OriginatorKeyLookup =
    std::function<Result<std::span<const std::uint8_t>>(std::string_view originator)>;

// PeekOriginator, the key lookup and InspectReport in one pass: the bytes are decoded and
// verified once, not once to find the key and again to check the signature. Errors: those of
// PeekOriginator, then `key_for`'s, then those of InspectReport, in that order.
Result<ReportView> InspectReport(std::span<const std::uint8_t> report,
                                 const OriginatorKeyLookup& key_for);

// Rebuilds the outer Report keeping the header and signature bytes and only the bodies whose
// index is in `indices` (duplicates ignored, order of the original kept); body bytes are copied
// verbatim so recipients still verify them. Structural verification only: run InspectReport
// first. Reasons: ENVELOPE_TOO_LARGE, ENVELOPE_MALFORMED, ENVELOPE_NO_SUCH_PORTION (an index not
// present), ENVELOPE_EMPTY_SELECTION.
Result<std::vector<std::uint8_t>> SelectPortions(std::span<const std::uint8_t> report,
                                                 std::span<const std::uint32_t> indices);

}  // namespace tearline

#endif  // TEARLINE_ENVELOPE_H_
