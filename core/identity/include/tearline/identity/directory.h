// Directory: the coalition's node certificates that verified against the trust store, indexed
// the ways routing needs them (by node id, by nation, by CURVE transport key).
//
// The broker builds it from its certificate directory and serves it to nodes; nodes rebuild it
// from what the broker sends and verify every certificate themselves, so a broker cannot add a
// recipient the root did not certify.
//
// Key rotation (key_rotation.h): with a rotation overlap, the certificate a node id was issued
// before its current one stays in force for authentication until its overlap ends
// (FindByTransportKey, FindPrevious); it is never served (EncodedCertificates), so senders seal
// to the current key. Superseded root-signed certificates are kept as retired, so a key that was
// rotated away is refused by name rather than as unknown.
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

  // Verifies each blob with `trust` at `now`; keeps node-role certificates that verify: the
  // newest serial per node id as current and, with `rotation_overlap_seconds` > 0, the previous
  // one while its overlap lasts (SelectInForce). Each rejected blob adds one Status to
  // `rejected` when non-null.
  static Directory Build(const std::vector<std::vector<std::uint8_t>>& blobs,
                         const TrustStore& trust, std::int64_t now_unix,
                         std::vector<Status>* rejected = nullptr,
                         std::int64_t rotation_overlap_seconds = 0);
  // Reads every regular `*.cert` file directly under `dir` and builds from them.
  static Result<Directory> LoadDir(const std::filesystem::path& dir, const TrustStore& trust,
                                   std::int64_t now_unix, std::vector<Status>* rejected = nullptr,
                                   std::int64_t rotation_overlap_seconds = 0);

  // The current certificate of `node_id`: the one to seal to and to verify its signatures with.
  const Certificate* FindNode(std::string_view node_id) const;
  // The current or previous (in its overlap) certificate holding `key`: who may authenticate.
  const Certificate* FindByTransportKey(const PublicKey& key) const;
  // The previous certificate of `node_id` while its overlap lasts, or null.
  const Certificate* FindPrevious(std::string_view node_id) const;
  // A superseded certificate holding `key`, no longer in force: out of its overlap, or revoked
  // or expired since (verify it again to tell which).
  const Certificate* FindRetiredByTransportKey(const PublicKey& key) const;
  // The earliest time (unix seconds) at which a certificate held here stops being in force
  // (a current one expires, a previous one's overlap ends); INT64_MAX when there is none.
  std::int64_t NextChangeAt() const;
  const std::map<std::string, Certificate>& previous() const { return previous_; }
  // Nodes of a nation, ordered by node id.
  std::vector<const Certificate*> NodesOfNation(std::string_view nation) const;
  const std::map<std::string, Certificate>& nodes() const { return nodes_; }
  // Encoded current certificates, for serving the directory over the wire.
  std::vector<std::vector<std::uint8_t>> EncodedCertificates() const;
  // Current, previous and retired certificates: what a rebuild at a later time starts from.
  std::vector<std::vector<std::uint8_t>> AllEncodedCertificates() const;

 private:
  std::map<std::string, Certificate> nodes_;         // node id -> current certificate
  std::map<std::string, Certificate> previous_;      // node id -> previous, within its overlap
  std::vector<Certificate> retired_;                 // superseded, verifying, out of overlap
  std::map<std::string, std::int64_t> overlap_end_;  // node id -> end of previous_'s overlap
};

}  // namespace tearline

#endif  // TEARLINE_DIRECTORY_H_
