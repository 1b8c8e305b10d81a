// Release-request frames (schemas/wire.fbs, docs/PROTOCOL.md "Release requests"): plain values
// for ReleaseRequest, ReleaseNotice, ReleaseDecision(Body) and ReleaseStatus, their encoders,
// and decoders that check every field a receiver relies on (sizes, presence) so that units
// above never read an unchecked FlatBuffers field.
//
// The decision body is its own FlatBuffer (file identifier "TLRD") carried as bytes: those exact
// bytes are what the originator signs, so a re-encoding can never change what was signed.
// Signing and verification (libsodium) are the callers' (node release desk, broker release
// desk); both sign and verify with SignWithDomain / VerifyWithDomain
// (kReleaseDecisionDomain, which adds the NUL separator) over the body bytes.
//
// Thread-safety: pure functions.
#ifndef TEARLINE_WIRE_RELEASE_FRAMES_H_
#define TEARLINE_WIRE_RELEASE_FRAMES_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/schemas/wire_generated.h"

namespace tearline {

inline constexpr std::size_t kReleaseIdBytes = 16;  // request_id, report_id, release_report_id.
inline constexpr std::size_t kMaxReleaseWhyBytes = 512;
inline constexpr std::size_t kMaxReleaseLabelBytes = 256;
inline constexpr std::size_t kMaxReleaseRuleBytes = 64;
// 768: the broker copies the signed body into its audit record as base64 (docs/AUDIT.md), and
// 1,024 characters is the longest string a record holds. An honest body is far smaller (ids,
// a nation, and a label, a rule or an explanation of at most 512 bytes).
inline constexpr std::size_t kMaxReleaseDecisionBodyBytes = 768;
inline constexpr std::string_view kReleaseDecisionDomain = "tearline/v1/release-decision";

using ReleaseId = std::vector<std::uint8_t>;  // kReleaseIdBytes bytes once decoded.

// What a requester asks for (ReleaseRequest).
struct ReleaseAsk {
  ReleaseId request_id;
  ReleaseId report_id;
  std::uint32_t portion = 0;
  std::string to_nation;
  std::string why;
};

// A request as the broker hands it to the originator (ReleaseNotice).
struct ReleaseNoticeInfo {
  ReleaseAsk ask;
  std::string requester;
  std::string requester_nation;
  std::int64_t requested_unix = 0;
};

// The signed decision (ReleaseDecisionBody).
struct ReleaseDecisionInfo {
  ReleaseId request_id;
  ReleaseId report_id;
  std::uint32_t portion = 0;
  std::string to_nation;
  bool approved = false;
  std::string label;            // Approval only.
  ReleaseId release_report_id;  // Approval only.
  bool sanitised = false;       // Approval only.
  std::string rule;             // Approval by a standing authorisation.
  std::string explanation;      // Denial only.
  std::int64_t decided_unix = 0;
};

// ReleaseStatus.
struct ReleaseStatusInfo {
  ReleaseId request_id;
  ReleaseId report_id;
  std::uint32_t portion = 0;
  std::string to_nation;
  std::string state;  // pending, approved, denied.
  std::string reason;
  std::string explanation;
  std::string label;
  ReleaseId release_report_id;
  bool sanitised = false;
  std::string rule;
  std::string requester;
  std::string originator;
  std::int64_t requested_unix = 0;
  std::int64_t decided_unix = 0;
  std::uint64_t record_seq = 0;
};

std::vector<std::uint8_t> EncodeReleaseRequest(std::uint64_t request_id, const ReleaseAsk& ask);
std::vector<std::uint8_t> EncodeReleaseNotice(const ReleaseNoticeInfo& notice);
std::vector<std::uint8_t> EncodeReleaseStatus(std::uint64_t request_id,
                                              const ReleaseStatusInfo& status);
// The nested, signed body ("TLRD").
std::vector<std::uint8_t> EncodeReleaseDecisionBody(const ReleaseDecisionInfo& decision);
std::vector<std::uint8_t> EncodeReleaseDecision(std::uint64_t request_id,
                                                std::span<const std::uint8_t> body,
                                                std::span<const std::uint8_t> signature,
                                                std::span<const std::uint8_t> report);

// Decoders. Errors: RELEASE_MALFORMED naming the field (missing id, wrong id size, text too long,
// body failing the Verifier or the size cap).
Result<ReleaseAsk> ToReleaseAsk(const schema::ReleaseRequest& request);
Result<ReleaseNoticeInfo> ToReleaseNoticeInfo(const schema::ReleaseNotice& notice);
Result<ReleaseStatusInfo> ToReleaseStatusInfo(const schema::ReleaseStatus& status);
Result<ReleaseDecisionInfo> DecodeReleaseDecisionBody(std::span<const std::uint8_t> body);

}  // namespace tearline

#endif  // TEARLINE_WIRE_RELEASE_FRAMES_H_
