#include "tearline/identity/trust_store.h"

#include <string>
#include <system_error>
#include <utility>

namespace tearline {
namespace {

std::string Describe(const Certificate& cert) {
  return "certificate '" + cert.node_id() + "' (serial " + std::to_string(cert.fields().serial) +
         ")";
}

Status CheckWindow(const Certificate& cert, std::int64_t now, const std::string& what) {
  if (now < cert.fields().not_before) {
    return Status(Code::kExpired, "CERT_NOT_YET_VALID",
                  what + " is not valid before " + FormatUnixTime(cert.fields().not_before));
  }
  if (now >= cert.fields().not_after) {
    return Status(Code::kExpired, "CERT_EXPIRED",
                  what + " expired at " + FormatUnixTime(cert.fields().not_after));
  }
  return Status::Ok();
}

}  // namespace

Result<TrustStore> TrustStore::Create(Certificate root, std::shared_ptr<const Policy> policy) {
  if (root.role() != CertRole::kRoot || root.issuer_key() != root.fields().signing_key ||
      !root.SignatureVerifiesWith(root.fields().signing_key)) {
    return Unauthenticated("TRUST_ROOT_INVALID",
                           "the trust anchor is not a valid self-signed root certificate");
  }
  return TrustStore(std::move(root), std::move(policy));
}

Result<TrustStore> TrustStore::LoadFromCaDir(const std::filesystem::path& dir,
                                             std::shared_ptr<const Policy> policy) {
  TEARLINE_ASSIGN_OR_RETURN(Certificate root, ReadCertificateFile((dir / kRootCertFile).string()));
  TEARLINE_ASSIGN_OR_RETURN(TrustStore store, Create(std::move(root), std::move(policy)));
  const std::filesystem::path list_path = dir / kRevocationListFile;
  std::error_code ec;
  const bool has_list = std::filesystem::exists(list_path, ec);
  if (ec) {
    // Fail closed: an unreadable revocation list must not look like "nothing revoked".
    return IoError("REVOCATION_FILE_READ",
                   "cannot check " + list_path.string() + ": " + ec.message());
  }
  if (has_list) {
    TEARLINE_ASSIGN_OR_RETURN(RevocationList list, ReadRevocationListFile(list_path.string()));
    Status st = store.UpdateRevocations(std::move(list));
    if (!st.ok()) return st.WithContext(list_path.string());
  }
  return store;
}

Status TrustStore::UpdateRevocations(RevocationList list) {
  if (list.issuer_key() != root_key()) {
    return Unauthenticated("REVOCATION_WRONG_ROOT",
                           "the revocation list was issued by a different root");
  }
  if (!list.SignatureVerifiesWith(root_key())) {
    return Unauthenticated("REVOCATION_BAD_SIGNATURE",
                           "the revocation list's signature does not verify under the root");
  }
  if (revocations_ && list.sequence() <= revocations_->sequence()) {
    return InvalidArgument("REVOCATION_STALE", "revocation list sequence " +
                                                   std::to_string(list.sequence()) +
                                                   " is not newer than the current " +
                                                   std::to_string(revocations_->sequence()));
  }
  revocations_ = std::move(list);
  return Status::Ok();
}

Status TrustStore::VerifyCertificate(const Certificate& cert, std::int64_t now_unix) const {
  const std::string what = Describe(cert);
  if (cert.issuer_key() != root_key()) {
    return Unauthenticated("CERT_WRONG_ROOT", what + " was not issued by this coalition root");
  }
  if (!cert.SignatureVerifiesWith(root_key())) {
    return Unauthenticated("CERT_BAD_SIGNATURE",
                           what + " has a signature that does not verify under the root");
  }
  if (cert.role() == CertRole::kRoot && cert.encoded() != root_.encoded()) {
    return Unauthenticated("CERT_WRONG_ROOT", what + " is a root certificate other than ours");
  }
  TEARLINE_RETURN_IF_ERROR(CheckWindow(root_, now_unix, "the root certificate"));
  TEARLINE_RETURN_IF_ERROR(CheckWindow(cert, now_unix, what));
  if (revocations_ && revocations_->IsRevoked(cert.node_id(), cert.fields().serial)) {
    return Unauthenticated("CERT_REVOKED", what + " is revoked (revocation list sequence " +
                                               std::to_string(revocations_->sequence()) + ")");
  }
  if (policy_ && cert.role() != CertRole::kRoot) {
    if (!policy_->IsNation(cert.fields().nation)) {
      return PermissionDenied(
          "CERT_UNKNOWN_NATION",
          what + " names nation '" + cert.fields().nation + "', which the policy does not define");
    }
    if (!policy_->FindLevel(cert.fields().clearance)) {
      return PermissionDenied("CERT_UNKNOWN_LEVEL", what + " names clearance '" +
                                                        cert.fields().clearance +
                                                        "', which the policy does not define");
    }
  }
  return Status::Ok();
}

Result<Certificate> TrustStore::VerifyCertificateBytes(std::span<const std::uint8_t> bytes,
                                                       std::int64_t now_unix) const {
  TEARLINE_ASSIGN_OR_RETURN(Certificate cert, Certificate::Decode(bytes));
  TEARLINE_RETURN_IF_ERROR(VerifyCertificate(cert, now_unix));
  return cert;
}

}  // namespace tearline
