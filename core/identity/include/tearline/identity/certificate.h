// Certificates: the coalition root's signed statement binding a node id, nation, clearance,
// role and validity window to three public keys (signing, encryption, CURVE transport).
//
// Wire form (schemas/certificate.fbs, docs/PROTOCOL.md "Certificates"): an outer FlatBuffer
// Certificate {body:[ubyte], signature:[ubyte]} whose body is itself a CertificateBody
// FlatBuffer. The Ed25519 signature covers "tearline/v1/certificate" || 0x00 || body bytes, i.e.
// exactly the bytes that travel. Decode additionally requires the outer buffer to be in the one
// canonical layout Encode produces, so that no byte of a certificate file can change while it
// still decodes (padding and offsets are not covered by the signature otherwise).
//
// Decode checks structure only (size cap, Verifier with limits, field formats). Whether a
// certificate is trustworthy is TrustStore::VerifyCertificate's job.
//
// Ownership: Certificate is an immutable value holding its own copy of the bytes.
// Thread-safety: const methods may be called concurrently.
#ifndef TEARLINE_CERTIFICATE_H_
#define TEARLINE_CERTIFICATE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"

namespace tearline {

inline constexpr std::string_view kCertificateDomain = "tearline/v1/certificate";
inline constexpr std::uint32_t kCertificateVersion = 1;
// Larger inputs are refused before any parsing.
inline constexpr std::size_t kMaxCertificateSize = 4096;
inline constexpr std::size_t kMaxNodeIdLength = 64;
inline constexpr std::size_t kMaxClearanceLength = 64;
// The node id of the root certificate; reserved, never issued to a node or broker.
inline constexpr std::string_view kRootNodeId = "root";

enum class CertRole : std::uint8_t { kRoot = 0, kBroker = 1, kNode = 2 };

// "root", "broker", "node".
std::string_view RoleName(CertRole role);
std::optional<CertRole> ParseRole(std::string_view name);

// Node ids become file names: [a-z0-9-]{1,64}. Reason NODE_ID_INVALID.
Status ValidateNodeId(std::string_view node_id);

// The parsed, signed fields. For the root, nation and clearance are empty and the encryption
// and transport keys are all-zero (absent on the wire).
struct CertificateFields {
  std::uint64_t serial = 0;
  CertRole role = CertRole::kNode;
  std::string node_id;
  std::string nation;           // Trigraph, [A-Z]{3}.
  std::string clearance;        // Canonical level name, 1..64 printable ASCII characters.
  std::int64_t not_before = 0;  // Unix seconds, inclusive.
  std::int64_t not_after = 0;   // Unix seconds, exclusive.
  PublicKey signing_key{};
  PublicKey encryption_key{};
  PublicKey transport_key{};
};

class Certificate {
 public:
  // Parses `bytes` (a whole certificate file). Errors: CERT_MALFORMED (InvalidArgument) with a
  // sentence naming what is wrong; CERT_TOO_LARGE (ResourceExhausted).
  static Result<Certificate> Decode(std::span<const std::uint8_t> bytes);

  const CertificateFields& fields() const { return fields_; }
  const std::string& node_id() const { return fields_.node_id; }
  CertRole role() const { return fields_.role; }
  // Ed25519 public key of the signer, as stated in the body (root: its own key).
  const PublicKey& issuer_key() const { return issuer_key_; }
  const Signature& signature() const { return signature_; }
  // The exact certificate file bytes.
  const std::vector<std::uint8_t>& encoded() const { return encoded_; }
  // The exact signed body bytes (the nested CertificateBody buffer).
  const std::vector<std::uint8_t>& body() const { return body_; }

  // SHA-256 of encoded(): the certificate's identity in logs and audit records.
  std::array<std::uint8_t, 32> Fingerprint() const;
  std::string FingerprintHex() const;

  // True if the signature verifies under `issuer` with the certificate domain.
  bool SignatureVerifiesWith(const PublicKey& issuer) const;
  // Valid at `now` in the sense of the window only: not_before <= now < not_after.
  bool WithinValidity(std::int64_t now_unix) const {
    return fields_.not_before <= now_unix && now_unix < fields_.not_after;
  }

 private:
  CertificateFields fields_;
  PublicKey issuer_key_{};
  Signature signature_{};
  std::vector<std::uint8_t> encoded_;
  std::vector<std::uint8_t> body_;
};

// Signs `fields` with `issuer`. For role kRoot the certificate is self-signed and
// fields.signing_key must equal issuer.public_key. Field formats are checked exactly as Decode
// checks them (reason CERT_INVALID_FIELDS); policy membership of nation and clearance is the
// caller's business.
Result<Certificate> IssueCertificate(const SigningKeyPair& issuer, const CertificateFields& fields);

// Reads a certificate file (size-capped) and decodes it. Errors: CERT_FILE_READ,
// CERT_FILE_NOT_FOUND, plus Decode's.
Result<Certificate> ReadCertificateFile(const std::string& path);

// Reads a whole non-secret file (certificate, revocation list) refusing anything larger than
// `max_size` before reading it. Errors: `<prefix>_NOT_FOUND`, `<prefix>_TOO_LARGE`,
// `<prefix>_READ`.
Result<std::vector<std::uint8_t>> ReadFileCapped(const std::string& path, std::size_t max_size,
                                                 std::string_view reason_prefix);

// Human-readable UTC time "YYYY-MM-DDTHH:MM:SSZ".
std::string FormatUnixTime(std::int64_t unix_seconds);

}  // namespace tearline

#endif  // TEARLINE_CERTIFICATE_H_
