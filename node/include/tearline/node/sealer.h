// Sealer: turns an analyst's `send` request into a sealed report for the recipients of the
// verified directory. This is the one place where the node decides, per portion, which
// recipient may have it: PlanRelease (core/labels/release_plan.h, the function the envelope and
// the broker's routing share) over the policy and each recipient's nation and clearance, before
// Seal wraps keys only for them.
//
//   - Validate() refuses a request the CLI should have refused already (the daemon does not
//     rely on it): unknown nation (SEND_UNKNOWN_NATION), too many portions
//     (SEND_TOO_MANY_PORTIONS), an unmarked (SEND_PORTION_UNMARKED) or empty
//     (SEND_PORTION_EMPTY) portion. Nations are upper-cased in place;
//   - Seal() seals for every node of the requested nations in `directory` (this node itself
//     excluded), with a lifetime of 7 days, and wipes the request's plaintext whatever happens;
//   - Inspect() checks a report read back from the outbox (signature by this node, id) and
//     describes it for the outbox.
//
// Ownership: references the Clock, the policy and the node's identity (owned by the daemon).
// Thread-safety: the daemon's loop thread only (no state of its own).
#ifndef TEARLINE_NODE_SEALER_H_
#define TEARLINE_NODE_SEALER_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/identity/directory.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/node_identity.h"
#include "tearline/node/outbox.h"
#include "tearline/node/provenance_sources.h"

namespace tearline::node {

// Lifetime given to sealed reports: the broker keeps undelivered copies at most this long.
inline constexpr std::int64_t kReportLifetimeSeconds = 7 * 24 * 3600;

struct SealedForOutbox {
  std::string report_id_hex;
  std::vector<std::uint8_t> bytes;
  OutboxEntryMeta meta;  // Banner, expiry, creation time.
  std::size_t portions = 0;
  std::size_t recipients = 0;
};

class Sealer {
 public:
  // `sources`: where --derived-from sources are looked up (ResolveProvenance); a derived portion
  // whose label excludes a contributor is refused with PROVENANCE_EXCLUDES_CONTRIBUTOR unless it
  // carries an override reason (CheckProvenance).
  Sealer(const Clock& clock, const NodeIdentity& identity, ProvenanceStores sources = {});

  [[nodiscard]] Status Validate(ControlRequest& request) const;
  [[nodiscard]] Result<SealedForOutbox> Seal(ControlRequest& request,
                                             const Directory& directory) const;
  [[nodiscard]] Result<OutboxEntryMeta> Inspect(const std::string& id,
                                                std::span<const std::uint8_t> bytes) const;

  // Called by Seal with every sealed report's id, canonical portion labels and plaintexts
  // (before they are wiped), so the originator can release a portion later (ReleaseSources).
  using SourceKeeper =
      std::function<void(const std::string& report_hex, const std::vector<std::string>& labels,
                         const std::vector<std::span<const std::uint8_t>>& contents)>;
  void SetSourceKeeper(SourceKeeper keeper) { keeper_ = std::move(keeper); }

 private:
  SourceKeeper keeper_;
  const Clock& clock_;
  const NodeIdentity& identity_;
  ProvenanceStores sources_;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_SEALER_H_
