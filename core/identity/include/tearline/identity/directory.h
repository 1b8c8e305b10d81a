// Directory: the coalition's node certificates that verified against the trust store, indexed
// the ways routing needs them (by node id, by nation, by CURVE transport key).
//
// The broker builds it from its certificate directory and serves it to nodes; nodes rebuild it
// from what the broker sends and verify every certificate themselves, so a broker cannot add a
// recipient the root did not certify.
//
// Ownership: owns its certificates. Thread-safety: immutable after construction; const methods
// may be called concurrently.
#ifndef TEARLINE_DIRECTORY_H_
#define TEARLINE_DIRECTORY_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/trust_store.h"

namespace tearline {

class Directory {
 public:
  Directory() = default;

  // Verifies each blob with `trust` at `now`; keeps node-role certificates that verify (the
  // newest serial per node id). Each rejected blob adds one Status to `rejected` when non-null.
  static Directory Build(const std::vector<std::vector<std::uint8_t>>& blobs,
                         const TrustStore& trust, std::int64_t now_unix,
                         std::vector<Status>* rejected = nullptr);
  // Reads every regular `*.cert` file directly under `dir` and builds from them.
  static Result<Directory> LoadDir(const std::filesystem::path& dir, const TrustStore& trust,
                                   std::int64_t now_unix, std::vector<Status>* rejected = nullptr);

  const Certificate* FindNode(std::string_view node_id) const;
  const Certificate* FindByTransportKey(const PublicKey& key) const;
  // Nodes of a nation, ordered by node id.
  std::vector<const Certificate*> NodesOfNation(std::string_view nation) const;
  const std::map<std::string, Certificate>& nodes() const { return nodes_; }
  // Encoded certificates, for serving the directory over the wire.
  std::vector<std::vector<std::uint8_t>> EncodedCertificates() const;

 private:
  std::map<std::string, Certificate> nodes_;  // node id -> certificate
};

}  // namespace tearline

#endif  // TEARLINE_DIRECTORY_H_
