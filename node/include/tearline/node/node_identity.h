// NodeIdentity: what a node daemon is, loaded and checked once at start-up: the policy, the
// trust store, its own keys and certificate, and the broker's certificate.
//
// Load refuses, with one Status naming the file and the fix, when: the policy, CA directory,
// secret file or certificates do not load; the node's own certificate does not verify under the
// trust store, is not a node certificate (NODE_CERT_ROLE), names another node id
// (NODE_CERT_MISMATCH), does not match the keys in the secret file (NODE_KEY_MISMATCH) or has a
// clearance outside the policy (NODE_CERT_CLEARANCE); the broker certificate does not verify or
// is not a broker certificate (BROKER_CERT_ROLE); the revocation floor file in the data dir does
// not load (RevocationFloor::Open), or its list revokes the node's own certificate; the
// previous secret file, when configured, does not load (KEY_FILE_*: missing, unreadable, not
// owner-only) or holds the current keys (NODE_PREVIOUS_KEY_CURRENT).
//
// Ownership: owns the keys (SecretBytes) and the trust store; the daemon's units hold
// references into it, so it must outlive them. Thread-safety: a plain value; the trust store is
// updated (revocations) only from the daemon's loop thread.
#ifndef TEARLINE_NODE_NODE_IDENTITY_H_
#define TEARLINE_NODE_NODE_IDENTITY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/revocation_floor.h"
#include "tearline/identity/trust_store.h"
#include "tearline/labels/policy.h"
#include "tearline/node/node_config.h"

namespace tearline::node {

struct NodeIdentity {
  std::string node_id;
  std::shared_ptr<const Policy> policy;
  std::optional<TrustStore> trust;  // Always set after Load.
  // The newest revocation list ever accepted (data_dir/revocation-floor.list); set after Load.
  std::optional<RevocationFloor> revocation_floor;
  IdentityKeys keys;
  // The keys the node held before its last rotation (previous_secret): only their encryption
  // key is used, to open copies wrapped for it. Null when not configured.
  std::optional<IdentityKeys> previous_keys;
  std::optional<Certificate> own_cert;     // Always set after Load.
  std::optional<Certificate> broker_cert;  // Always set after Load.
  int clearance = 0;                       // Own clearance level in the policy.

  const std::string& nation() const { return own_cert->fields().nation; }

  // Loads and cross-checks everything named by `config`, verifying certificates at `now_unix`.
  [[nodiscard]] static Result<NodeIdentity> Load(const NodeConfig& config, std::int64_t now_unix);
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_NODE_IDENTITY_H_
