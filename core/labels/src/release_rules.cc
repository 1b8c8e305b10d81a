#include "tearline/labels/release_rules.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

namespace tearline {
namespace {

constexpr std::size_t kMaxRules = 256;

Status Invalid(std::string_view source, const std::string& cause) {
  return InvalidArgument("POLICY_INVALID",
                         std::string(source) + ": release_authorisation: " + cause);
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

Result<std::vector<std::string>> Codes(const toml::table& t, std::string_view key,
                                       std::string_view source, const std::string& rule,
                                       const Policy& policy, bool nations_only) {
  const toml::array* a = t[key].as_array();
  if (a == nullptr || a->empty()) {
    return Invalid(source, rule + ": '" + std::string(key) + "' must be a non-empty list");
  }
  std::vector<std::string> out;
  for (const auto& n : *a) {
    auto v = n.value<std::string>();
    if (!v || (!policy.IsNation(*v) && (nations_only || policy.FindGroup(*v) == nullptr))) {
      return Invalid(source, rule + ": '" + std::string(key) + "' names an unknown " +
                                 (nations_only ? "nation" : "nation or group"));
    }
    out.push_back(*v);
  }
  return out;
}

}  // namespace

Result<std::vector<ReleaseRule>> ParseReleaseRules(std::string_view toml_text,
                                                   std::string_view source_name,
                                                   const Policy& policy) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return Invalid(source_name, std::string(e.description()));
  }
  std::vector<ReleaseRule> rules;
  const toml::node* node = root.get("release_authorisation");
  if (node == nullptr) return rules;
  const toml::array* list = node->as_array();
  if (list == nullptr || list->size() > kMaxRules) {
    return Invalid(source_name, "must be an array of tables ([[release_authorisation]]), at most " +
                                    std::to_string(kMaxRules));
  }
  std::set<std::string> names;
  for (const auto& entry : *list) {
    const toml::table* t = entry.as_table();
    if (t == nullptr) return Invalid(source_name, "every entry must be a table");
    ReleaseRule r;
    r.name = (*t)["name"].value_or(std::string());
    if (!ValidName(r.name) || !names.insert(r.name).second) {
      return Invalid(source_name, "'name' must be unique and match [a-z0-9-]{1,64}");
    }
    r.originator = (*t)["originator"].value_or(std::string());
    if (!policy.IsNation(r.originator)) {
      return Invalid(source_name, r.name + ": 'originator' must be a nation of the policy");
    }
    auto level = policy.FindLevel((*t)["max_level"].value_or(std::string()));
    if (!level) return Invalid(source_name, r.name + ": 'max_level' is not a level");
    r.max_level = *level;
    TEARLINE_ASSIGN_OR_RETURN(r.marked_rel_to,
                              Codes(*t, "marked_rel_to", source_name, r.name, policy, false));
    TEARLINE_ASSIGN_OR_RETURN(r.release_to,
                              Codes(*t, "release_to", source_name, r.name, policy, true));
    rules.push_back(std::move(r));
  }
  return rules;
}

Result<std::vector<ReleaseRule>> LoadReleaseRules(const std::string& path, const Policy& policy) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("POLICY_NOT_FOUND", path + ": cannot open policy file");
  std::stringstream text;
  text << in.rdbuf();
  return ParseReleaseRules(text.str(), path, policy);
}

std::optional<Label> WidenedLabel(const Label& label, std::string_view nation,
                                  const Policy& policy) {
  if (label.noforn || !label.has_rel_to) return std::nullopt;
  Label out = label;
  const auto to = ReleasableTo(label, policy);
  if (!to || !to->contains(std::string(nation))) out.rel_to_nations.emplace_back(nation);
  CanonicalizeRelTo(out, policy);
  return out;
}

std::optional<RuleMatch> MatchReleaseRule(const std::vector<ReleaseRule>& rules,
                                          std::string_view originator_nation, const Label& label,
                                          std::string_view to_nation, const Policy& policy) {
  if (label.orcon || label.noforn || !label.has_rel_to) return std::nullopt;
  for (const ReleaseRule& r : rules) {
    if (r.originator != originator_nation || label.level > r.max_level) continue;
    if (std::find(r.release_to.begin(), r.release_to.end(), to_nation) == r.release_to.end()) {
      continue;
    }
    const bool marked =
        std::all_of(r.marked_rel_to.begin(), r.marked_rel_to.end(), [&](const std::string& code) {
          return std::find(label.rel_to_nations.begin(), label.rel_to_nations.end(), code) !=
                     label.rel_to_nations.end() ||
                 std::find(label.rel_to_groups.begin(), label.rel_to_groups.end(), code) !=
                     label.rel_to_groups.end();
        });
    if (!marked) continue;
    auto widened = WidenedLabel(label, to_nation, policy);
    if (!widened) continue;
    return RuleMatch{r.name, std::move(*widened)};
  }
  return std::nullopt;
}

}  // namespace tearline
