// Standing release authorisations: an originator's advance decision that portions of a kind may
// be released to named nations on request, written once in the policy file so that a matching
// request is approved by the originator's node at once instead of waiting for an officer.
//
//   [[release_authorisation]]
//   name = "fvey-secret-to-jpn-kor"   # [a-z0-9-]{1,64}; recorded in the audit log
//   originator = "USA"                # the nation whose node applies the rule
//   max_level = "SECRET"              # portions at or below this level
//   marked_rel_to = ["USA", "FVEY"]   # the portion's REL TO must name each of these codes
//   release_to = ["JPN", "KOR"]       # nations a request may name
//
// A rule never matches ORCON or NOFORN portions (those need an officer). The approved label is
// the portion's label with the requested nation added to its REL TO list (canonical order), so it
// still releases to every nation the original did.
//
// Errors: POLICY_INVALID naming the rule and the field (unknown nation, level or code, missing
// field, bad name, duplicate name).
// Thread-safety: plain values and pure functions.
#ifndef TEARLINE_LABELS_RELEASE_RULES_H_
#define TEARLINE_LABELS_RELEASE_RULES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"

namespace tearline {

struct ReleaseRule {
  std::string name;
  std::string originator;  // Nation trigraph.
  int max_level = 0;       // Rank in Policy::levels().
  std::vector<std::string> marked_rel_to;
  std::vector<std::string> release_to;
};

struct RuleMatch {
  std::string rule;  // The rule's name.
  Label new_label;   // The portion's label with the nation added.
};

// The [[release_authorisation]] tables of policy text (none: an empty list).
Result<std::vector<ReleaseRule>> ParseReleaseRules(std::string_view toml_text,
                                                   std::string_view source_name,
                                                   const Policy& policy);
// Reads the file the policy came from.
Result<std::vector<ReleaseRule>> LoadReleaseRules(const std::string& path, const Policy& policy);

// The first rule of `originator_nation` that authorises releasing a portion labelled `label` to
// `to_nation`, or nullopt.
std::optional<RuleMatch> MatchReleaseRule(const std::vector<ReleaseRule>& rules,
                                          std::string_view originator_nation, const Label& label,
                                          std::string_view to_nation, const Policy& policy);

// `label` with `nation` added to its REL TO list, canonical. Nullopt for NOFORN labels and
// labels without a REL TO list (their release needs an officer's explicit label).
std::optional<Label> WidenedLabel(const Label& label, std::string_view nation,
                                  const Policy& policy);

}  // namespace tearline

#endif  // TEARLINE_LABELS_RELEASE_RULES_H_
