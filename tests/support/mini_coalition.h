// An in-process coalition for unit tests: a root, a trust store and freshly issued certificates
// (real keys and signatures, no processes, no sockets), the directory of its nodes, plus helpers
// to seal reports and sign acknowledgements as a node would. Broker-logic tests use the default
// four nodes; node-daemon unit tests start from a broker alone and Issue() their own nodes.
//
// Default nodes: usa-1 (USA, TOP SECRET), gbr-1 (GBR, SECRET), gbr-2 (GBR, CONFIDENTIAL),
// jpn-1 (JPN, SECRET), valid from now_unix - 10 s for a year.
//
// Ownership: owns every key (in protected memory) and certificate; references returned stay
// valid while the coalition lives and no member of that id is issued again.
// Thread-safety: none; one test thread builds and reads it.
#ifndef TEARLINE_TESTS_MINI_COALITION_H_
#define TEARLINE_TESTS_MINI_COALITION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/directory.h"
#include "tearline/identity/trust_store.h"
#include "tearline/labels/policy.h"

namespace tearline::testing {

class MiniCoalition {
 public:
  struct Member {
    std::string id;
    std::string nation;
    std::string clearance;
    CertRole role = CertRole::kNode;
  };

  // The four default nodes, valid for a year.
  explicit MiniCoalition(std::int64_t now_unix);
  // Only `members` (more with Issue()), valid from now_unix - 10 s for `valid_seconds`.
  MiniCoalition(std::int64_t now_unix, const std::vector<Member>& members,
                std::int64_t valid_seconds);

  // Issues a certificate with fresh keys for `id` (replacing any earlier one) and, for a node,
  // adds it to directory().
  void Issue(const std::string& id, const std::string& nation, const std::string& clearance,
             CertRole role = CertRole::kNode);

  const Policy& policy() const { return *policy_; }
  const std::shared_ptr<const Policy>& shared_policy() const { return policy_; }
  const TrustStore& trust() const { return *trust_; }
  // A trust store of its own rooted in this coalition (a daemon owns and updates its own).
  TrustStore NewTrust() const;
  const Directory& directory() const { return directory_; }
  const IdentityKeys& keys(const std::string& id) const { return members_.at(id).keys; }
  const Certificate& cert(const std::string& id) const { return members_.at(id).cert; }
  // Encoded certificates of every node (not the broker), as a Directory frame carries them.
  std::vector<std::vector<std::uint8_t>> NodeCertificates() const;
  const SigningKeyPair& root_keys() const { return *root_keys_; }
  std::int64_t now_unix() const { return now_unix_; }

  // Seals a report from `originator` with one portion per marking, addressed to every other
  // node (each portion wrapped for every node its label releases to).
  SealedReport Seal(const std::string& originator, const std::vector<std::string>& markings,
                    const std::vector<std::string>& intended_nations, std::int64_t expires_unix,
                    std::optional<ReportId> report_id = std::nullopt) const;
  // The signature `node_id` puts on its Ack of `report_id`.
  Signature AckSignature(const std::string& node_id, const ReportId& report_id) const;

 private:
  struct Entry {
    IdentityKeys keys;
    Certificate cert;
  };

  std::int64_t now_unix_;
  std::int64_t valid_seconds_;
  std::uint64_t next_serial_ = 1;
  std::shared_ptr<const Policy> policy_;
  std::unique_ptr<SigningKeyPair> root_keys_;
  std::optional<Certificate> root_cert_;
  std::unique_ptr<TrustStore> trust_;
  Directory directory_;
  std::map<std::string, Entry> members_;
};

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_MINI_COALITION_H_
