#include "tearline/labels/release.h"

#include <algorithm>
#include <iterator>

namespace tearline {
namespace {

std::string JoinSet(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) {
    if (!out.empty()) out += ", ";
    out += x;
  }
  return out;
}

ReleaseDecision Deny(DenyReason reason, std::string explanation) {
  return ReleaseDecision{false, reason, std::move(explanation)};
}

}  // namespace

std::string_view DenyReasonName(DenyReason reason) {
  switch (reason) {
    case DenyReason::kNone:
      return "";
    case DenyReason::kAboveClearance:
      return "ABOVE_CLEARANCE";
    case DenyReason::kNoforn:
      return "NOFORN";
    case DenyReason::kNotReleasable:
      return "NOT_RELEASABLE";
    case DenyReason::kNoReleasabilityMarking:
      return "NO_RELEASABILITY_MARKING";
  }
  return "";
}

std::optional<DenyReason> DenyReasonFromName(std::string_view name) {
  for (DenyReason r : {DenyReason::kAboveClearance, DenyReason::kNoforn, DenyReason::kNotReleasable,
                       DenyReason::kNoReleasabilityMarking}) {
    if (DenyReasonName(r) == name) return r;
  }
  return std::nullopt;
}

Result<ReleaseDecision> DecideRelease(const Label& label, const Recipient& recipient,
                                      const Policy& policy) {
  if (!policy.IsNation(recipient.nation)) {
    return InvalidArgument("RELEASE_UNKNOWN_NATION",
                           "unknown recipient nation '" + recipient.nation +
                               "': use an ISO 3166-1 trigraph defined by the policy");
  }
  if (recipient.originator_nation && !policy.IsNation(*recipient.originator_nation)) {
    return InvalidArgument("RELEASE_UNKNOWN_ORIGINATOR",
                           "unknown originator nation '" + *recipient.originator_nation + "'");
  }
  const auto level_count = static_cast<int>(policy.levels().size());
  if (label.level < 0 || label.level >= level_count) {
    return InvalidArgument("RELEASE_BAD_LABEL", "label level is not defined by this policy");
  }
  const std::string& level_name = policy.levels()[static_cast<std::size_t>(label.level)].name;
  if (recipient.clearance) {
    if (*recipient.clearance < 0 || *recipient.clearance >= level_count) {
      return InvalidArgument("RELEASE_BAD_CLEARANCE",
                             "clearance level is not defined by the policy");
    }
    if (label.level > *recipient.clearance) {
      return Deny(DenyReason::kAboveClearance,
                  level_name + " material is above the recipient's " +
                      policy.levels()[static_cast<std::size_t>(*recipient.clearance)].name +
                      " clearance");
    }
  }
  if (recipient.originator_nation && *recipient.originator_nation == recipient.nation) {
    return ReleaseDecision{true, DenyReason::kNone,
                           recipient.nation + " originated this material and always receives it"};
  }
  if (label.noforn) {
    return Deny(DenyReason::kNoforn, "marked NOFORN: not releasable to any foreign nation, " +
                                         recipient.nation + " included");
  }
  if (label.has_rel_to) {
    std::set<std::string> allowed = *ReleasableTo(label, policy);
    const std::string rel = FormatRelTo(label);
    if (allowed.contains(recipient.nation)) {
      return ReleaseDecision{true, DenyReason::kNone, recipient.nation + " is covered by " + rel};
    }
    return Deny(DenyReason::kNotReleasable, recipient.nation + " is not covered by " + rel +
                                                " (expands to " + JoinSet(allowed) + ")");
  }
  if (label.level == 0) {
    return ReleaseDecision{true, DenyReason::kNone,
                           level_name + " material without controls is releasable to all"};
  }
  return Deny(DenyReason::kNoReleasabilityMarking,
              level_name +
                  " material has no releasability marking and is treated as NOFORN; the "
                  "originator should add REL TO with the nations or groups it may go to (e.g. " +
                  level_name + "//REL TO " +
                  (recipient.originator_nation ? *recipient.originator_nation + ", " : "") +
                  recipient.nation + ") or mark it NOFORN deliberately");
}

Result<Label> Rollup(std::span<const Label> portions, const Policy& policy) {
  if (portions.empty()) {
    return InvalidArgument("ROLLUP_EMPTY", "roll-up needs at least one portion marking");
  }
  Label out;
  bool noforn = false;
  bool restricted = false;
  std::set<std::string> intersection;
  std::set<std::string> written_groups;
  for (const Label& p : portions) {
    out.level = std::max(out.level, p.level);
    out.orcon = out.orcon || p.orcon;
    if (p.noforn || (p.level > 0 && !p.has_rel_to)) noforn = true;
    if (!p.has_rel_to) continue;
    std::set<std::string> expanded = *ReleasableTo(p, policy);
    if (!restricted) {
      intersection = std::move(expanded);
      restricted = true;
    } else {
      std::set<std::string> next;
      std::set_intersection(intersection.begin(), intersection.end(), expanded.begin(),
                            expanded.end(), std::inserter(next, next.end()));
      intersection = std::move(next);
    }
    written_groups.insert(p.rel_to_groups.begin(), p.rel_to_groups.end());
  }
  if (noforn || (restricted && intersection.size() < 2)) {
    out.noforn = true;
    return out;
  }
  if (!restricted) return out;

  out.has_rel_to = true;
  std::set<std::string> covered;
  for (const std::string& code : written_groups) {
    const Group* g = policy.FindGroup(code);
    if (g == nullptr) continue;
    if (std::includes(intersection.begin(), intersection.end(), g->members.begin(),
                      g->members.end())) {
      out.rel_to_groups.push_back(code);
      covered.insert(g->members.begin(), g->members.end());
    }
  }
  const auto& first = policy.listed_first();
  for (const std::string& nation : intersection) {
    bool listed_first = std::find(first.begin(), first.end(), nation) != first.end();
    if (!covered.contains(nation) || listed_first) out.rel_to_nations.push_back(nation);
  }
  CanonicalizeRelTo(out, policy);
  return out;
}

}  // namespace tearline
