// Provenance rule for derived portions: a portion written from received material must stay
// releasable to every nation that contributed it, unless the originator states why not. The node
// applies it before sealing and the broker again on accept (defence in depth: a certified node
// may skip its own check), so both name the same contributor and the same fix.
//
// Pure logic over a parsed label and the policy; no I/O. Thread-safety: reentrant.
#ifndef TEARLINE_LABELS_PROVENANCE_CHECK_H_
#define TEARLINE_LABELS_PROVENANCE_CHECK_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"

namespace tearline {

// Contributing nations (de-duplicated, first-seen order) that `label` does not release to, as
// DecideRelease decides for a recipient of that nation (clearance not checked) with
// `originator_nation` as the material's originator (its own contributions always pass).
// Errors: RELEASE_* from DecideRelease (unknown nation or originator).
Result<std::vector<std::string>> ExcludedContributors(const Label& label,
                                                      std::span<const std::string> contributors,
                                                      std::string_view originator_nation,
                                                      const Policy& policy);

// Ok when the label releases to every contributor, or when `override_reason` is non-empty (the
// override is the caller's to audit). Otherwise PROVENANCE_EXCLUDES_CONTRIBUTOR (kPermissionDenied)
// whose message names `where` (e.g. "portion 2"), the marking, each excluded contributor and the
// fix. Errors as ExcludedContributors.
[[nodiscard]] Status CheckProvenance(const Label& label, std::span<const std::string> contributors,
                                     std::string_view originator_nation,
                                     std::string_view override_reason, std::string_view where,
                                     const Policy& policy);

}  // namespace tearline

#endif  // TEARLINE_LABELS_PROVENANCE_CHECK_H_
