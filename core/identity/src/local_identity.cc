#include "tearline/identity/local_identity.h"

#include "tearline/crypto/key_file.h"

namespace tearline {
namespace {

std::string RolePrefix(CertRole role) { return role == CertRole::kBroker ? "BROKER" : "NODE"; }

}  // namespace

Result<LocalIdentity> LoadLocalIdentity(const LocalIdentityFiles& files, CertRole expected_role,
                                        const std::optional<std::string>& expected_id,
                                        std::int64_t now_unix) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  const std::string prefix = RolePrefix(expected_role);
  auto policy =
      Policy::LoadFile(files.policy.empty() ? DefaultPolicyPath() : files.policy.string());
  if (!policy.ok()) return policy.status().WithContext("policy");
  auto shared_policy = std::make_shared<const Policy>(std::move(policy).value());

  auto trust = TrustStore::LoadFromCaDir(files.ca_dir, shared_policy);
  if (!trust.ok()) return trust.status().WithContext("ca_dir " + files.ca_dir.string());

  auto keys = ReadIdentitySecret(files.secret);
  if (!keys.ok()) return keys.status().WithContext("secret " + files.secret.string());

  const std::string cert_path = files.certificate.string();
  auto cert = ReadCertificateFile(cert_path);
  if (!cert.ok()) return cert.status().WithContext("certificate " + cert_path);
  TEARLINE_RETURN_IF_ERROR(
      trust->VerifyCertificate(*cert, now_unix).WithContext("own certificate " + cert_path));
  if (cert->role() != expected_role) {
    return InvalidArgument(prefix + "_CERT_ROLE", "own certificate " + cert_path + " is a " +
                                                      std::string(RoleName(cert->role())) +
                                                      " certificate; this daemon " + "needs role " +
                                                      std::string(RoleName(expected_role)));
  }
  const auto& f = cert->fields();
  if (expected_id && f.node_id != *expected_id) {
    return InvalidArgument(prefix + "_CERT_MISMATCH",
                           "own certificate " + cert_path + " is for '" + f.node_id +
                               "' but the configuration says id = '" + *expected_id + "'");
  }
  if (f.signing_key != keys->signing.public_key ||
      f.encryption_key != keys->encryption.public_key ||
      f.transport_key != keys->transport.public_key) {
    return InvalidArgument(prefix + "_KEY_MISMATCH", "secret file " + files.secret.string() +
                                                         " does not hold the keys certified by " +
                                                         cert_path);
  }
  return LocalIdentity{std::move(shared_policy),
                       std::make_unique<TrustStore>(std::move(trust).value()),
                       std::move(cert).value(), std::move(keys).value()};
}

}  // namespace tearline
