// TrustStore: the coalition root certificate plus the newest revocation list this process has
// accepted, and the one place where "is this certificate trustworthy now?" is decided.
//
// Verification algorithm (VerifyCertificate), first failure wins:
//   1. issuer_key in the body equals the root's signing key, else CERT_WRONG_ROOT;
//   2. Ed25519 signature over "tearline/v1/certificate" || 0x00 || body verifies, else
//      CERT_BAD_SIGNATURE;
//   3. a root-role certificate must be byte-identical to the trusted root, else CERT_WRONG_ROOT;
//   4. the root itself is within its validity window, and so is the certificate:
//      now < not_before -> CERT_NOT_YET_VALID, now >= not_after -> CERT_EXPIRED;
//   5. (node id, serial) is not in the revocation list, else CERT_REVOKED;
//   6. with a policy: the nation is a policy nation (CERT_UNKNOWN_NATION) and the clearance a
//      policy level (CERT_UNKNOWN_LEVEL).
// Undecodable bytes are CERT_MALFORMED (see Certificate::Decode).
//
// Ownership: owns copies of the root certificate and revocation list; shares the policy.
// Thread-safety: const methods may run concurrently; UpdateRevocations needs exclusive access
// (callers that refresh revocations while verifying must synchronise externally).
#ifndef TEARLINE_TRUST_STORE_H_
#define TEARLINE_TRUST_STORE_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>

#include "tearline/base/status.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/revocation.h"
#include "tearline/labels/policy.h"

namespace tearline {

// File names inside a CA directory.
inline constexpr std::string_view kRootCertFile = "root.cert";
inline constexpr std::string_view kRootSecretFile = "root.secret";
inline constexpr std::string_view kRevocationListFile = "revoked.list";

class TrustStore {
 public:
  // `root` must be a self-signed root-role certificate (reason TRUST_ROOT_INVALID otherwise).
  // `policy` may be null, in which case nation and clearance are not checked against a policy.
  static Result<TrustStore> Create(Certificate root, std::shared_ptr<const Policy> policy);

  // Loads DIR/root.cert and, if present, DIR/revoked.list (which must verify under the root).
  // An absent list means "nothing revoked"; a list that exists but cannot be read or verified
  // is an error (fail closed). Callers that must resist deletion or rollback of the file keep
  // the store alive and feed newer lists through UpdateRevocations, which never goes back.
  static Result<TrustStore> LoadFromCaDir(const std::filesystem::path& dir,
                                          std::shared_ptr<const Policy> policy);

  // Accepts `list` only if it is signed by this root (REVOCATION_WRONG_ROOT,
  // REVOCATION_BAD_SIGNATURE) and its sequence is greater than the current one
  // (REVOCATION_STALE). A rejected list leaves the store unchanged.
  Status UpdateRevocations(RevocationList list);

  Status VerifyCertificate(const Certificate& cert, std::int64_t now_unix) const;
  // Decode + VerifyCertificate; returns the certificate when it is trustworthy.
  Result<Certificate> VerifyCertificateBytes(std::span<const std::uint8_t> bytes,
                                             std::int64_t now_unix) const;

  const Certificate& root() const { return root_; }
  const PublicKey& root_key() const { return root_.fields().signing_key; }
  // Null when no revocation list has been accepted yet.
  const RevocationList* revocations() const { return revocations_ ? &*revocations_ : nullptr; }

 private:
  TrustStore(Certificate root, std::shared_ptr<const Policy> policy)
      : root_(std::move(root)), policy_(std::move(policy)) {}

  Certificate root_;
  std::shared_ptr<const Policy> policy_;
  std::optional<RevocationList> revocations_;
};

}  // namespace tearline

#endif  // TEARLINE_TRUST_STORE_H_
