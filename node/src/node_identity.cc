#include "tearline/node/node_identity.h"

#include <utility>

#include "tearline/crypto/key_file.h"
#include "tearline/crypto/secure_memory.h"

namespace tearline::node {

Result<NodeIdentity> NodeIdentity::Load(const NodeConfig& config, std::int64_t now) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  NodeIdentity id;
  id.node_id = config.id;
  auto pol = Policy::LoadFile(config.policy.empty() ? DefaultPolicyPath() : config.policy.string());
  if (!pol.ok()) return pol.status().WithContext("policy");
  id.policy = std::make_shared<const Policy>(std::move(pol).value());
  auto ts = TrustStore::LoadFromCaDir(config.ca_dir, id.policy);
  if (!ts.ok()) return ts.status().WithContext("ca_dir " + config.ca_dir.string());
  id.trust.emplace(std::move(ts).value());
  auto k = ReadIdentitySecret(config.secret);
  if (!k.ok()) return k.status().WithContext("secret " + config.secret.string());
  id.keys = std::move(k).value();

  auto own = ReadCertificateFile(config.certificate.string());
  if (!own.ok()) return own.status().WithContext("certificate " + config.certificate.string());
  Status v = id.trust->VerifyCertificate(*own, now);
  if (!v.ok()) return v.WithContext("own certificate " + config.certificate.string());
  const auto& f = own->fields();
  if (own->role() != CertRole::kNode) {
    return InvalidArgument("NODE_CERT_ROLE", "own certificate " + config.certificate.string() +
                                                 " is a " + std::string(RoleName(own->role())) +
                                                 " certificate; a node needs role node");
  }
  if (f.node_id != config.id) {
    return InvalidArgument("NODE_CERT_MISMATCH",
                           "own certificate " + config.certificate.string() + " is for node '" +
                               f.node_id + "' but the configuration says id = '" + config.id + "'");
  }
  if (f.signing_key != id.keys.signing.public_key ||
      f.encryption_key != id.keys.encryption.public_key ||
      f.transport_key != id.keys.transport.public_key) {
    return InvalidArgument("NODE_KEY_MISMATCH", "secret file " + config.secret.string() +
                                                    " does not hold the keys certified by " +
                                                    config.certificate.string());
  }
  auto level = id.policy->FindLevel(f.clearance);
  if (!level) {
    return InvalidArgument("NODE_CERT_CLEARANCE",
                           "own certificate clearance '" + f.clearance + "' is not in the policy");
  }
  id.clearance = *level;
  id.own_cert.emplace(std::move(own).value());

  auto bc = ReadCertificateFile(config.broker_certificate.string());
  if (!bc.ok()) {
    return bc.status().WithContext("broker_certificate " + config.broker_certificate.string());
  }
  v = id.trust->VerifyCertificate(*bc, now);
  if (!v.ok()) return v.WithContext("broker certificate " + config.broker_certificate.string());
  if (bc->role() != CertRole::kBroker) {
    return InvalidArgument("BROKER_CERT_ROLE", "broker_certificate " +
                                                   config.broker_certificate.string() +
                                                   " is not a broker certificate");
  }
  id.broker_cert.emplace(std::move(bc).value());
  return id;
}

}  // namespace tearline::node
