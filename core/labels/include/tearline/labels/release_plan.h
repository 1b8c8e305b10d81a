// Release plans: which recipient gets which portions of a report, and why every other portion is
// withheld. One function decides this for the originator's sealer (which recipients each portion
// key is wrapped for), the broker's routing (which copies it sends) and the node's sealer, so the
// three cannot drift apart. It is DecideRelease applied to every (recipient, portion) pair.
//
// Thread-safety: pure function; results are plain values.
#ifndef TEARLINE_LABELS_RELEASE_PLAN_H_
#define TEARLINE_LABELS_RELEASE_PLAN_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"
#include "tearline/labels/release.h"

namespace tearline {

// One portion withheld from one recipient.
struct WithheldPortion {
  std::size_t portion = 0;                // Index into the portion labels.
  DenyReason reason = DenyReason::kNone;  // The release rule; kNone when `error` is set.
  std::string explanation;                // DecideRelease's sentence; empty when `error` is set.
  // Non-OK when DecideRelease could not decide (RELEASE_UNKNOWN_NATION,
  // RELEASE_UNKNOWN_ORIGINATOR, RELEASE_BAD_LABEL, RELEASE_BAD_CLEARANCE): nothing is released
  // that the rules cannot judge. Callers choose whether such a pair denies or fails the report.
  Status error;

  // The reason code for records and replies: DenyReasonName(reason), or error.reason().
  std::string_view ReasonCode() const;
  // The sentence for records and replies: explanation, or error.message().
  std::string_view Explanation() const;
};

struct RecipientRelease {
  std::vector<std::size_t> released;      // Portion indices released, increasing.
  std::vector<WithheldPortion> withheld;  // Every other portion, increasing index.
};

struct ReleasePlan {
  std::vector<RecipientRelease> recipients;  // Parallel to the recipients planned for.

  // Indices of the recipients `portion` is released to, increasing.
  std::vector<std::size_t> RecipientsOf(std::size_t portion) const;
};

// Decides DecideRelease(portions[i], recipients[r], policy) for every pair. Each Recipient
// carries its nation, its clearance rank (nullopt: not checked) and the originator's nation
// (nullopt: unknown, so the originator rule does not apply). Never fails as a whole: a pair that
// cannot be decided is a withheld portion with `error` set.
ReleasePlan PlanRelease(std::span<const Label> portions, std::span<const Recipient> recipients,
                        const Policy& policy);

}  // namespace tearline

#endif  // TEARLINE_LABELS_RELEASE_PLAN_H_
