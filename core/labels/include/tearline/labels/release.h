// Release decisions (may this label go to that nation?) and roll-up of portion labels into a
// report banner. These are the rules the broker enforces per portion and per recipient, and that
// nodes re-check on receipt.
//
// Thread-safety: pure functions.
#ifndef TEARLINE_RELEASE_H_
#define TEARLINE_RELEASE_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tearline/base/status.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"

namespace tearline {

enum class DenyReason {
  kNone,                    // Released.
  kAboveClearance,          // ABOVE_CLEARANCE
  kNoforn,                  // NOFORN
  kNotReleasable,           // NOT_RELEASABLE
  kNoReleasabilityMarking,  // NO_RELEASABILITY_MARKING
};

// Stable wire/audit name of a reason, e.g. "NOT_RELEASABLE"; "" for kNone.
std::string_view DenyReasonName(DenyReason reason);
// Parses a name produced by DenyReasonName; nullopt when unknown.
std::optional<DenyReason> DenyReasonFromName(std::string_view name);

struct Recipient {
  std::string nation;                            // Trigraph; must be defined by the policy.
  std::optional<int> clearance;                  // Rank in Policy::levels(); nullopt = not checked.
  std::optional<std::string> originator_nation;  // Nation that originated the material.
};

struct ReleaseDecision {
  bool release = false;
  DenyReason reason = DenyReason::kNone;
  std::string explanation;  // One sentence for the person who must act on it.
};

// Decides in this order: above clearance; originator receives its own material; NOFORN;
// REL TO membership; no releasability marking (unclassified releases, classified is denied and
// the explanation says how to fix the marking).
// Errors: RELEASE_UNKNOWN_NATION / RELEASE_UNKNOWN_ORIGINATOR / RELEASE_BAD_CLEARANCE.
Result<ReleaseDecision> DecideRelease(const Label& label, const Recipient& recipient,
                                      const Policy& policy);

// Rolls portion labels up into a banner label: highest classification; ORCON if any; NOFORN if
// any portion is NOFORN or any classified portion lacks REL TO; otherwise the intersection of the
// expanded REL TO sets (unclassified portions without controls do not restrict), NOFORN when
// fewer than two nations remain. Group codes written in the portions stay when all their members
// remain. Error ROLLUP_EMPTY when `portions` is empty.
Result<Label> Rollup(std::span<const Label> portions, const Policy& policy);

}  // namespace tearline

#endif  // TEARLINE_RELEASE_H_
