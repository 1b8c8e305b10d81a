#include "tearline/node/node_identity.h"

#include <utility>

#include "tearline/crypto/key_file.h"
#include "tearline/identity/local_identity.h"

namespace tearline::node {

Result<NodeIdentity> NodeIdentity::Load(const NodeConfig& config, std::int64_t now) {
  // Policy, trust store, keys and the own certificate are loaded and cross-checked the same way
  // the broker does it; what follows is only what a node adds: its clearance and the broker.
  auto local = LoadLocalIdentity(
      LocalIdentityFiles{config.policy, config.ca_dir, config.certificate, config.secret},
      CertRole::kNode, config.id, now);
  if (!local.ok()) return local.status();

  NodeIdentity id;
  id.node_id = config.id;
  id.policy = std::move(local->policy);
  id.trust.emplace(std::move(*local->trust));
  // The newest revocation list this node ever accepted, which may revoke more than ca_dir's.
  auto floor = RevocationFloor::Open(config.data_dir / kRevocationFloorFile, *id.trust);
  if (!floor.ok()) return floor.status();
  id.revocation_floor.emplace(std::move(floor).value());
  if (Status own = id.trust->VerifyCertificate(local->certificate, now); !own.ok()) {
    return own.WithContext("own certificate " + config.certificate.string());
  }
  id.keys = std::move(local->keys);
  if (!config.previous_secret.empty()) {
    // Same checks as the current key file (owner-only mode, size, format).
    auto previous = ReadIdentitySecret(config.previous_secret);
    if (!previous.ok()) {
      return previous.status().WithContext("previous_secret " + config.previous_secret.string());
    }
    if (previous->encryption.public_key == id.keys.encryption.public_key) {
      return InvalidArgument("NODE_PREVIOUS_KEY_CURRENT",
                             "previous_secret " + config.previous_secret.string() +
                                 " holds the current keys; name the key file of before the "
                                 "rotation, or remove previous_secret");
    }
    id.previous_keys.emplace(std::move(previous).value());
  }
  id.own_cert.emplace(std::move(local->certificate));

  const auto& clearance = id.own_cert->fields().clearance;
  auto level = id.policy->FindLevel(clearance);
  if (!level) {
    return InvalidArgument("NODE_CERT_CLEARANCE",
                           "own certificate clearance '" + clearance + "' is not in the policy");
  }
  id.clearance = *level;

  auto bc = ReadCertificateFile(config.broker_certificate.string());
  if (!bc.ok()) {
    return bc.status().WithContext("broker_certificate " + config.broker_certificate.string());
  }
  Status v = id.trust->VerifyCertificate(*bc, now);
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
