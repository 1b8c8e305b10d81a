// ReleaseSources: what an originator's node keeps of its own reports so that it can release a
// portion later (a release request approved days after the send): every portion's label and
// content, in DATA_DIR/release-sources/<report-id-hex>.src, sealed to the node's own X25519 key
// (crypto_box_seal), so the file is useless without the node's secret key. Written when a report
// is sealed; a report sealed before this existed has no source (RELEASE_NO_SOURCE).
//
// Durability: with a GroupCommit (the daemon's), a source kept with Sync::kBatch is made durable
// by the same batch sync as the outbox copy of its report, before that report's first Submit
// leaves (a crash before the sync loses both, so nothing was sent that has no source). Sync::kNow,
// or no GroupCommit, fsyncs the file and its directory before Keep returns: for a report that
// leaves without the outbox (a release, sent in the decision frame at once).
//
// Layout of the sealed plaintext: per portion, u32 label length, label, u32 content length,
// content (little-endian), in index order.
//
// Ownership: holds its directory path; plaintext only ever lives in SecretBytes.
// Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_RELEASE_SOURCES_H_
#define TEARLINE_NODE_RELEASE_SOURCES_H_

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/node/group_commit.h"

namespace tearline::node {

struct PortionSource {
  std::string label;
  SecretBytes content;
};

class ReleaseSources {
 public:
  // Uses DATA_DIR/release-sources, creating it owner-only. Errors: RELEASE_SOURCE_IO.
  static Result<ReleaseSources> Open(const std::filesystem::path& data_dir);

  // Leaves the sync of every later Keep to `commit` (not owned; must outlive this store).
  void UseGroupCommit(GroupCommit* commit) { commit_ = commit; }
  const std::filesystem::path& dir() const { return dir_; }
  enum class Sync { kBatch, kNow };
  // Keeps the portions (labels[i], contents[i]) of report `report_hex`, sealed to `own_pk`,
  // durable now or with the batch (see above). Errors: RELEASE_SOURCE_IO.
  Status Keep(std::string_view report_hex, const std::vector<std::string>& labels,
              const std::vector<std::span<const std::uint8_t>>& contents, const PublicKey& own_pk,
              Sync sync = Sync::kBatch);
  // Portion `portion` of report `report_hex`. Errors: RELEASE_NO_SOURCE (no file, no such
  // portion, or it does not open with `own`).
  Result<PortionSource> Load(std::string_view report_hex, std::uint32_t portion,
                             const BoxKeyPair& own) const;

 private:
  explicit ReleaseSources(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
  GroupCommit* commit_ = nullptr;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_RELEASE_SOURCES_H_
