// Internal to the conformance-vector generator (conformance_vectors.cc and the vectors_*.cc
// groups): the fixed coalition every vector is built from, its policy, fixed times, and the
// JSON emitter. docs/PROTOCOL.md ("Conformance vectors") documents what is published.
//
// Everything here is deterministic: keys come from seeds, randomness from SeededRandom.
// Thread-safety: values and pure functions.
#ifndef TEARLINE_TOOLS_SRC_VECTORS_COMMON_H_
#define TEARLINE_TOOLS_SRC_VECTORS_COMMON_H_

#include <array>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"
#include "tearline/identity/certificate.h"
#include "tearline/labels/policy.h"

namespace tearline::tools::vectors {

using Json = nlohmann::json;
using Bytes = std::vector<std::uint8_t>;

// The coalition's fixed times: certificates are valid from 2026-01-01 to 2030-01-01 (UTC), and
// every vector that needs "now" uses kNow.
inline constexpr std::int64_t kNotBefore = 1767225600;
inline constexpr std::int64_t kNotAfter = 1893456000;
inline constexpr std::int64_t kNow = 1780000000;
inline constexpr char kBrokerId[] = "broker-1";

std::string Hex(std::span<const std::uint8_t> b);
std::string Base64Of(std::span<const std::uint8_t> b);
Bytes BytesOf(std::string_view text);

// SHA-256("tearline/vectors/v1 " || name || " " || purpose).
std::array<std::uint8_t, 32> Seed(std::string_view name, std::string_view purpose);

struct Identity {
  std::string name;
  CertRole role = CertRole::kNode;
  std::string nation;
  std::string clearance;
  std::uint64_t serial = 0;
  SigningKeyPair signing;
  std::optional<BoxKeyPair> encryption;
  std::optional<BoxKeyPair> transport;
  std::optional<Certificate> cert;
};

// The fixed coalition: a root, the broker and three nodes, and the vectors' policy.
struct Coalition {
  Identity root;
  std::vector<Identity> members;  // broker-1, usa-1, gbr-1, jpn-1.
  Policy policy;
  const Identity& Member(std::string_view name) const;
};

Result<Identity> MakeIdentity(std::string name, CertRole role, std::string nation,
                              std::string clearance, std::uint64_t serial);
Result<Coalition> MakeCoalition();
CertificateFields FieldsOf(const Identity& id);

// The policy every label in the vectors is decided under (coalition/policy.json publishes it).
std::string_view PolicyText();

// A node as a recipient of a report in a vector: its id, nation, clearance (level name and rank
// in the policy) and raw X25519 keys.
Json RecipientJson(const Identity& id, const Policy& policy);

using Emit = std::function<void(std::string path, Json vector)>;
using Group = Status (*)(const Coalition&, const Emit&);

// The groups defined outside conformance_vectors.cc, one file each.
Status PolicyVectors(const Coalition& c, const Emit& emit);          // vectors_common.cc
Status SealedReportVectors(const Coalition& c, const Emit& emit);    // vectors_reports.cc
Status ForwardVectors(const Coalition& c, const Emit& emit);         // vectors_forwards.cc
Status RevocationVectors(const Coalition& c, const Emit& emit);      // vectors_revocation.cc
Status AuditDirectoryVectors(const Coalition& c, const Emit& emit);  // vectors_audit.cc

}  // namespace tearline::tools::vectors

#endif  // TEARLINE_TOOLS_SRC_VECTORS_COMMON_H_
