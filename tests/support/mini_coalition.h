// An in-process coalition for unit tests of broker logic: a root, a trust store and a directory
// of freshly issued node certificates (real keys and signatures, no processes, no sockets),
// plus helpers to seal reports and sign acknowledgements as a node would.
//
// Nodes: usa-1 (USA, TOP SECRET), gbr-1 (GBR, SECRET), gbr-2 (GBR, CONFIDENTIAL),
// jpn-1 (JPN, SECRET). Certificates are valid from now_unix - 10 s for a year.
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
#include "tearline/identity/directory.h"
#include "tearline/identity/trust_store.h"
#include "tearline/labels/policy.h"

namespace tearline::testing {

class MiniCoalition {
 public:
  explicit MiniCoalition(std::int64_t now_unix);

  const Policy& policy() const { return *policy_; }
  const TrustStore& trust() const { return *trust_; }
  const Directory& directory() const { return directory_; }
  const IdentityKeys& keys(const std::string& node_id) const { return *keys_.at(node_id); }
  std::int64_t now_unix() const { return now_unix_; }

  // Seals a report from `originator` with one portion per marking, addressed to every other
  // node (each portion wrapped for every node its label releases to).
  SealedReport Seal(const std::string& originator, const std::vector<std::string>& markings,
                    const std::vector<std::string>& intended_nations, std::int64_t expires_unix,
                    std::optional<ReportId> report_id = std::nullopt) const;
  // The signature `node_id` puts on its Ack of `report_id`.
  Signature AckSignature(const std::string& node_id, const ReportId& report_id) const;

 private:
  std::int64_t now_unix_;
  std::shared_ptr<const Policy> policy_;
  std::unique_ptr<TrustStore> trust_;
  Directory directory_;
  std::map<std::string, std::unique_ptr<IdentityKeys>> keys_;
};

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_MINI_COALITION_H_
