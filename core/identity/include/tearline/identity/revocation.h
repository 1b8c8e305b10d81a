// The coalition root's signed revocation list: which (node id, serial) certificates must no
// longer be trusted. Brokers and nodes load it next to the root certificate and refuse
// revoked certificates.
//
// Wire form (schemas/certificate.fbs): outer RevocationList {body, signature} with a nested
// RevocationListBody; the Ed25519 signature covers "tearline/v1/revocation" || 0x00 || body.
// As with certificates, Decode requires the canonical outer layout.
//
// Ownership: immutable value. Thread-safety: const methods may be called concurrently.
#ifndef TEARLINE_REVOCATION_H_
#define TEARLINE_REVOCATION_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"

namespace tearline {

inline constexpr std::string_view kRevocationDomain = "tearline/v1/revocation";
inline constexpr std::uint32_t kRevocationListVersion = 1;
inline constexpr std::size_t kMaxRevocationEntries = 65536;
inline constexpr std::size_t kMaxRevocationListSize = 8u << 20;  // 8 MiB.

struct RevocationEntry {
  std::string node_id;
  std::uint64_t serial = 0;
  friend bool operator==(const RevocationEntry&, const RevocationEntry&) = default;
  // Order of the list: node id (bytewise), then serial.
  friend bool operator<(const RevocationEntry& a, const RevocationEntry& b) {
    return a.node_id != b.node_id ? a.node_id < b.node_id : a.serial < b.serial;
  }
};

class RevocationList {
 public:
  // Signs a list. Entries are sorted and de-duplicated; each node id must be valid and each
  // serial non-zero (reason REVOCATION_INVALID_FIELDS).
  static Result<RevocationList> Issue(const SigningKeyPair& root, std::uint64_t sequence,
                                      std::int64_t issued_at, std::vector<RevocationEntry> entries);
  // Parses a list (structure only; the signature is checked by SignatureVerifiesWith or
  // TrustStore). Errors: REVOCATION_MALFORMED, REVOCATION_TOO_LARGE.
  static Result<RevocationList> Decode(std::span<const std::uint8_t> bytes);

  std::uint64_t sequence() const { return sequence_; }
  std::int64_t issued_at() const { return issued_at_; }
  const PublicKey& issuer_key() const { return issuer_key_; }
  // Sorted by (node_id, serial), no duplicates.
  const std::vector<RevocationEntry>& entries() const { return entries_; }
  const std::vector<std::uint8_t>& encoded() const { return encoded_; }

  bool IsRevoked(std::string_view node_id, std::uint64_t serial) const;
  bool SignatureVerifiesWith(const PublicKey& root) const;

 private:
  std::uint64_t sequence_ = 0;
  std::int64_t issued_at_ = 0;
  PublicKey issuer_key_{};
  Signature signature_{};
  std::vector<RevocationEntry> entries_;
  std::vector<std::uint8_t> body_;
  std::vector<std::uint8_t> encoded_;
};

// Reads (size-capped) and decodes a revocation list file. Errors: REVOCATION_FILE_*, Decode's.
Result<RevocationList> ReadRevocationListFile(const std::string& path);

}  // namespace tearline

#endif  // TEARLINE_REVOCATION_H_
