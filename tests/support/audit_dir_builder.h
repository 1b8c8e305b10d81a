// A broker-like audit directory built synthetically under a TempDir, exactly as a broker lays it
// out: log.jsonl records, an RFC 6962 tree over them, checkpoints signed with a real Ed25519 log
// key, cosignatures by certified witness nodes, the root certificate, the log's verifier key and
// the coalition policy. Unit tests of the verifier and integration tests of tearline-audit
// tamper with it afterwards.
//
// Ownership: owns its TempDir (removed on destruction). Thread-safety: one thread.
#ifndef TEARLINE_TESTS_SUPPORT_AUDIT_DIR_BUILDER_H_
#define TEARLINE_TESTS_SUPPORT_AUDIT_DIR_BUILDER_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tearline/crypto/keys.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"
#include "test_support.h"

namespace tearline::testing {

// Record i of a built log has time kAuditBaseTime + 1.5 i; certificates are valid a day before
// until a year after it.
inline constexpr std::int64_t kAuditBaseTime = 1764400000;
inline constexpr const char* kAuditOrigin = "tearline/audit/broker-1";
// Report ids used by the standard stories.
inline const std::string kAuditReport1 = "0123456789abcdef0123456789abcdef";
inline const std::string kAuditReport2 = "fedcba9876543210fedcba9876543210";

// A fresh Ed25519 key pair (a test failure if generation fails).
SigningKeyPair NewSigningKey();
// The Merkle leaf hash of one log line (without its newline).
Hash Leaf(const std::string& line);

class AuditDirBuilder {
 public:
  // Writes certs/root.cert, witnesses usa-node (USA, serial 2) and gbr-node (GBR, serial 3),
  // log.pub and policy.toml; no records yet.
  AuditDirBuilder();

  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& tmp() const { return tmp_.path(); }
  const SigningKeyPair& broker_key() const { return broker_; }
  // The signing key of a witness node added so far (it also signs as an originator).
  const SigningKeyPair& witness_key(const std::string& id) const { return witnesses_.at(id); }

  // Certifies a witness node; `file` names the certificate file (a renewed certificate sits next
  // to the old one).
  void AddWitness(const std::string& id, const std::string& nation, std::uint64_t serial,
                  const std::string& file = "");

  // Appends a record of `type` with the next seq and time, then `fields`.
  void Add(const std::string& type, nlohmann::json fields);

  // The standard story: two reports, a denial, a live and a queued delivery.
  void StandardStory();

  static nlohmann::json Delivery(const std::string& id, const std::string& originator,
                                 const std::string& onation, const std::string& recipient,
                                 const std::string& nation, nlohmann::json portions);
  static std::string Hex(char c) { return std::string(64, c); }

  // Writes log.jsonl, a checkpoint for each size in `sizes` (default: every size), the latest
  // checkpoint, and cosignatures {size -> witness}.
  void Finish(std::vector<std::uint64_t> sizes = {},
              std::multimap<std::uint64_t, std::string> cosign = {});

  // Signs checkpoints over the log as it is on disk now (what a dishonest broker does after
  // rewriting history).
  void SignCheckpoints(const std::vector<std::uint64_t>& sizes);
  // SignCheckpoints for every size of the log on disk.
  void SignAll();

  std::string SignedCheckpoint(const MerkleTree& tree, std::uint64_t n);
  Checkpoint CheckpointOnDisk(std::uint64_t size);
  std::string CosignLine(std::uint64_t size, const std::string& witness);
  void CosignFile(std::uint64_t size, const std::string& witness);

  // What a witness keeps: the checkpoint it cosigned, with its cosignature appended.
  std::filesystem::path SaveTrusted(std::uint64_t size, const std::string& witness);

  std::vector<std::string> Lines() const;
  void SetLines(const std::vector<std::string>& lines);
  std::size_t size() const { return lines_.size(); }

  const std::string& policy_text() const { return policy_text_; }

 private:
  TempDir tmp_;
  std::filesystem::path dir_;
  SigningKeyPair broker_;
  SigningKeyPair root_;
  std::map<std::string, SigningKeyPair> witnesses_;
  std::string policy_text_;
  std::vector<std::string> lines_;
};

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_AUDIT_DIR_BUILDER_H_
