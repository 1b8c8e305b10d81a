// LocalIdentity: what a broker or node loads at start-up to be itself: the coalition policy,
// the trust store rooted in the coalition CA, its own certificate (verified against that root,
// with the expected role) and the secret keys that certificate certifies.
//
// Both daemons used to do this with copied code; the checks below are the union of theirs, so a
// broker and a node refuse a mismatched identity the same way:
//   policy -> trust store -> secret file -> own certificate -> certificate verifies now ->
//   role is the expected one -> (optional) id matches the configuration -> every public key in
//   the certificate is the one derived from the secret file.
// Reasons keep each role's published names: <ROLE>_CERT_ROLE, <ROLE>_CERT_MISMATCH and
// <ROLE>_KEY_MISMATCH with ROLE = NODE or BROKER, plus those of the loaders (POLICY_*, CA_*,
// KEY_FILE_*, CERT_*), with the offending file named in the message.
//
// Ownership: the result owns everything it holds; the keys stay in protected memory.
// Thread-safety: the loader is a pure function of the files; the result is a value.
#ifndef TEARLINE_IDENTITY_LOCAL_IDENTITY_H_
#define TEARLINE_IDENTITY_LOCAL_IDENTITY_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/trust_store.h"
#include "tearline/labels/policy.h"

namespace tearline {

struct LocalIdentityFiles {
  std::filesystem::path policy;  // Empty: the shipped default policy.
  std::filesystem::path ca_dir;
  std::filesystem::path certificate;
  std::filesystem::path secret;
};

struct LocalIdentity {
  std::shared_ptr<const Policy> policy;
  std::unique_ptr<TrustStore> trust;
  Certificate certificate;
  IdentityKeys keys;
};

// `expected_id`, when given, must equal the certificate's node id (a node's configured id).
Result<LocalIdentity> LoadLocalIdentity(const LocalIdentityFiles& files, CertRole expected_role,
                                        const std::optional<std::string>& expected_id,
                                        std::int64_t now_unix);

}  // namespace tearline

#endif  // TEARLINE_IDENTITY_LOCAL_IDENTITY_H_
