// Internal to the envelope: wire constants (domain strings, identifiers, Verifier limits) and
// the verifying decoder shared by Open, InspectReport, PeekOriginator and SelectPortions.
// Not a public header; docs/PROTOCOL.md is the contract for everything here.
//
// Thread-safety: pure functions; a DecodedReport is a value owned by one caller.
#ifndef TEARLINE_CORE_SRC_ENVELOPE_CODEC_H_
#define TEARLINE_CORE_SRC_ENVELOPE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/crypto/random_source.h"
#include "tearline/envelope/envelope.h"
#include "tearline/schemas/envelope_generated.h"

namespace tearline::envelope_internal {

using namespace std::string_view_literals;

// Domain-separation prefixes; each ends in one NUL byte, which is part of the prefix.
inline constexpr std::string_view kHeaderSignatureDomain = "tearline/v1/report-header\0"sv;
inline constexpr std::string_view kCommitmentDomain = "tearline/v1/portion-commitment\0"sv;
inline constexpr std::string_view kPortionAdDomain = "tearline/v1/portion-ad\0"sv;

// FlatBuffers file identifiers of the three buffers.
inline constexpr const char* kReportIdentifier = "TLRP";
inline constexpr const char* kHeaderIdentifier = "TLRH";
inline constexpr const char* kBodyIdentifier = "TLPB";

inline constexpr std::size_t kSaltBytes = 32;
inline constexpr std::size_t kNonceBytes = 24;       // XChaCha20-Poly1305-IETF
inline constexpr std::size_t kContentKeyBytes = 32;  // XChaCha20-Poly1305-IETF
inline constexpr std::size_t kAeadTagBytes = 16;
inline constexpr std::size_t kSealedKeyBytes = 80;  // 32 + crypto_box_SEALBYTES
inline constexpr std::size_t kSignatureBytes = 64;

// Verifier limits. Depth: Report -> portions vector -> PortionEnvelope -> body vector is 4;
// PortionBody -> wraps -> KeyWrap -> vectors is 4. A little headroom, never more.
inline constexpr std::uint32_t kMaxDepth = 8;
inline constexpr std::uint32_t kMaxReportTables = 1 + kMaxPortions;
inline constexpr std::uint32_t kMaxHeaderTables = 1;
inline constexpr std::uint32_t kMaxBodyTables =
    1 + kMaxRecipientsPerPortion + kMaxSourcesPerPortion;

// Node ids: 1..kMaxNodeIdBytes of [A-Za-z0-9._:-]. Nations: 1..kMaxNationBytes of [A-Z0-9].
// Labels: 1..kMaxLabelBytes printable ASCII.
bool IsValidNodeId(std::string_view id);
bool IsValidNationCode(std::string_view nation);
bool IsValidLabelText(std::string_view label);

Digest Sha256(std::span<const std::uint8_t> data);
// SHA-256(kCommitmentDomain || body).
Digest CommitmentOf(std::span<const std::uint8_t> body);
// kHeaderSignatureDomain || header.
std::vector<std::uint8_t> SignatureMessage(std::span<const std::uint8_t> header);
// kPortionAdDomain || report_id || u32be(len originator) || originator || u32be(index) ||
// u32be(len label) || label.
std::vector<std::uint8_t> PortionAd(const ReportId& report_id, std::string_view originator,
                                    std::uint32_t index, std::string_view label);

std::string_view View(const flatbuffers::String* s);
// The provenance of a body that DecodePortions verified.
PortionProvenance ReadProvenance(const schema::PortionBody& body);
std::span<const std::uint8_t> Bytes(const flatbuffers::Vector<std::uint8_t>* v);

struct DecodedPortion {
  std::uint32_t index = 0;
  std::span<const std::uint8_t> body_bytes;
  const schema::PortionBody* body = nullptr;  // Set once the body is verified.
};

// A structurally verified report. Pointers refer into `storage`/`header_storage` (or the
// caller's buffer when it was already aligned); moving keeps them valid, copying is forbidden.
struct DecodedReport : ReportHeaderInfo {
  DecodedReport() = default;
  DecodedReport(DecodedReport&&) = default;
  DecodedReport& operator=(DecodedReport&&) = default;
  DecodedReport(const DecodedReport&) = delete;
  DecodedReport& operator=(const DecodedReport&) = delete;

  std::vector<std::uint8_t> storage;           // Aligned copy of the input, when needed.
  std::vector<std::uint8_t> header_storage;    // Aligned copy of the nested header.
  std::span<const std::uint8_t> header_bytes;  // As travelled (signed bytes).
  std::span<const std::uint8_t> signature;
  const schema::Report* report = nullptr;
  const schema::ReportHeader* header = nullptr;

  std::vector<DecodedPortion> portions;  // Envelope order (checked increasing by index).
};

// Size cap, Verifier on Report only. Reasons: ENVELOPE_TOO_LARGE, ENVELOPE_MALFORMED.
Result<DecodedReport> DecodeOuter(std::span<const std::uint8_t> bytes);
// DecodeOuter, then Verifier on ReportHeader, then header field checks and version.
// Reasons: also ENVELOPE_VERSION.
Result<DecodedReport> DecodeHeader(std::span<const std::uint8_t> bytes);
// Ed25519 over SignatureMessage(header). Reasons: ENVELOPE_BAD_KEY, ENVELOPE_BAD_SIGNATURE.
Status VerifySignature(const DecodedReport& report,
                       std::span<const std::uint8_t> originator_sign_pk);
// Per portion: index range, increasing order (no duplicates), commitment, Verifier on the
// body, body field checks. Reasons: ENVELOPE_PORTION_INDEX, ENVELOPE_DUPLICATE_PORTION,
// ENVELOPE_COMMITMENT_MISMATCH, ENVELOPE_MALFORMED, ENVELOPE_TOO_LARGE.
Status DecodePortions(DecodedReport& report);
// All of the above in the order of docs/PROTOCOL.md.
Result<DecodedReport> DecodeVerified(std::span<const std::uint8_t> bytes,
                                     std::span<const std::uint8_t> originator_sign_pk);

// A content key sealed outside the portion body (a forward grant's wrap).
struct GrantedKey {
  std::uint32_t index = 0;
  std::string_view recipient;
  std::span<const std::uint8_t> fingerprint;
  std::span<const std::uint8_t> sealed_key;
};
// Open (envelope.cc), taking each portion's key for `me` from `granted` instead of the body's own
// wraps when `granted` is non-null.
Result<OpenedReport> OpenWithKeys(std::span<const std::uint8_t> report, const RecipientIdentity& me,
                                  std::span<const std::uint8_t> originator_sign_pk,
                                  const Policy& policy, std::int64_t now_unix,
                                  const std::vector<GrantedKey>* granted);

// crypto_box_seal of `key` for `recipient_pk`, with the ephemeral X25519 key drawn from `random`
// (32 bytes, used as a crypto_box_seed_keypair seed) instead of libsodium's own draw; the output
// is the standard sealed box (ephemeral public key || crypto_box_easy under nonce =
// BLAKE2b-192(epk || recipient_pk)), opened by crypto_box_seal_open. False when the recipient key
// is rejected.
bool SealKey(RandomSource& random, std::span<const std::uint8_t> key,
             std::span<const std::uint8_t, kEncPublicKeyBytes> recipient_pk,
             std::span<std::uint8_t, kSealedKeyBytes> out);

}  // namespace tearline::envelope_internal

#endif  // TEARLINE_CORE_SRC_ENVELOPE_CODEC_H_
