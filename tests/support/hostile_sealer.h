// A misbehaving node's sealer: builds a report with exactly the header and label bytes it is
// given (no canonical form, no policy, no release rules), with the envelope's real
// cryptography (label-bound AEAD per portion, crypto_box_seal wraps, commitments, Ed25519 over
// the header, docs/PROTOCOL.md "Report envelope"), so the report verifies and opens. Tests use it
// to show what the broker and recipients do with claims an honest Seal() would never produce: a
// foreign originator nation, a portion above the originator's clearance, a lower-case label.
//
// Thread-safety: pure function.
#ifndef TEARLINE_TESTS_SUPPORT_HOSTILE_SEALER_H_
#define TEARLINE_TESTS_SUPPORT_HOSTILE_SEALER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tearline/crypto/secure_memory.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"

namespace tearline::testing {

struct HostileRecipient {
  std::string node_id;
  std::array<std::uint8_t, kEncPublicKeyBytes> enc_public_key{};
};

struct HostileReport {
  std::optional<ReportId> report_id;  // Random when unset.
  std::string originator;
  std::string originator_nation;  // Whatever the node claims.
  std::int64_t created_unix = 0;
  std::int64_t expires_unix = 0;
  std::vector<std::string> labels;  // One portion per label, its bytes exactly as given.
  std::vector<std::string> intended_nations;
  std::vector<HostileRecipient> recipients;  // Every portion is wrapped for every one.
  std::size_t content_bytes = 16;            // Size of each portion's (filler) content.
};

// A recipient entry for a node's certificate.
HostileRecipient RecipientOf(const Certificate& cert);

// The signed Report bytes. `sign_sk` is the originator's Ed25519 secret key.
std::vector<std::uint8_t> HostileSeal(const HostileReport& report, const SecretBytes& sign_sk);

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_HOSTILE_SEALER_H_
