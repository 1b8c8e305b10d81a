#include "tearline/labels/provenance_check.h"

#include <algorithm>

#include "tearline/labels/release.h"

namespace tearline {

Result<std::vector<std::string>> ExcludedContributors(const Label& label,
                                                      std::span<const std::string> contributors,
                                                      std::string_view originator_nation,
                                                      const Policy& policy) {
  std::vector<std::string> seen;
  std::vector<std::string> excluded;
  for (const std::string& nation : contributors) {
    if (std::find(seen.begin(), seen.end(), nation) != seen.end()) continue;
    seen.push_back(nation);
    auto decision = DecideRelease(
        label, Recipient{nation, std::nullopt, std::string(originator_nation)}, policy);
    if (!decision.ok()) return decision.status();
    if (!decision->release) excluded.push_back(nation);
  }
  return excluded;
}

Status CheckProvenance(const Label& label, std::span<const std::string> contributors,
                       std::string_view originator_nation, std::string_view override_reason,
                       std::string_view where, const Policy& policy) {
  auto excluded = ExcludedContributors(label, contributors, originator_nation, policy);
  if (!excluded.ok()) return excluded.status();
  if (excluded->empty() || !override_reason.empty()) return Status::Ok();
  std::string names;
  for (const std::string& n : *excluded) names += (names.empty() ? "" : ", ") + n;
  const std::string first = excluded->front();
  return PermissionDenied(
      "PROVENANCE_EXCLUDES_CONTRIBUTOR",
      std::string(where) + " is derived from material " + names + " contributed, but its label " +
          FormatPortion(label, policy) + " no longer releases to " + names + "; add " + first +
          " to REL TO, or give --override-provenance with a reason (it is audited)");
}

}  // namespace tearline
