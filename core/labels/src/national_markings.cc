#include "tearline/labels/national_markings.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>

namespace tearline {
namespace {

constexpr std::size_t kMaxPolicyFileBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxWordsBytes = 64;

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool ValidWords(std::string_view w) {
  if (w.empty() || w.size() > kMaxWordsBytes || w.front() == ' ' || w.back() == ' ') return false;
  return std::all_of(w.begin(), w.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '-';
  });
}

Status Invalid(std::string_view source, const std::string& why) {
  return InvalidArgument("POLICY_INVALID", std::string(source) + ": [national_markings] " + why);
}

}  // namespace

Result<NationalMarkings> NationalMarkings::Parse(std::string_view toml_text, const Policy& policy,
                                                 std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("POLICY_INVALID",
                           std::string(source_name) + ": " + std::string(e.description()));
  }
  NationalMarkings out;
  const toml::node* section = root.get("national_markings");
  if (section == nullptr) return out;
  const toml::table* tables = section->as_table();
  if (tables == nullptr) return Invalid(source_name, "must be a table of tables");
  std::set<std::string> canonical;
  for (const ClassificationLevel& l : policy.levels()) {
    canonical.insert(l.name);
    canonical.insert(l.abbrev);
  }
  for (const auto& [code_key, node] : *tables) {
    const std::string code(code_key.str());
    if (!policy.IsNation(code) && policy.FindGroup(code) == nullptr) {
      return Invalid(source_name, "'" + code + "' is neither a nation nor a group of the policy");
    }
    const toml::table* t = node.as_table();
    if (t == nullptr) return Invalid(source_name, code + " must be a table of level = \"words\"");
    std::map<int, std::string>& words = out.words_[code];
    std::set<std::string> seen;
    for (const auto& [level_key, value] : *t) {
      const std::string level_name(level_key.str());
      const auto rank = policy.FindLevel(level_name);
      if (!rank || policy.levels()[static_cast<std::size_t>(*rank)].name != level_name) {
        return Invalid(source_name, code + ": '" + level_name + "' is not a level name");
      }
      auto w = value.value<std::string>();
      if (!w || !ValidWords(*w)) {
        return Invalid(source_name, code + "." + level_name +
                                        " must be upper-case words (A-Z, 0-9, space, hyphen)");
      }
      const std::string& own = policy.levels()[static_cast<std::size_t>(*rank)].name;
      if (canonical.contains(*w) && *w != own) {
        return Invalid(source_name,
                       code + "." + level_name + " '" + *w + "' is another level's canonical word");
      }
      if (!seen.insert(*w).second) {
        return Invalid(source_name, code + ": '" + *w + "' names two levels");
      }
      words[*rank] = *w;
    }
  }
  return out;
}

Result<NationalMarkings> NationalMarkings::LoadFile(const std::string& path, const Policy& policy) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("POLICY_NOT_FOUND", path + ": cannot open policy file");
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxPolicyFileBytes) {
      return InvalidArgument("POLICY_INVALID", path + ": policy file is larger than 1 MiB");
    }
  }
  if (in.bad()) return IoError("POLICY_READ", path + ": read error");
  return Parse(text, policy, path);
}

std::string NationalMarkings::LevelWords(std::string_view code, int rank,
                                         const Policy& policy) const {
  if (auto n = words_.find(std::string(code)); n != words_.end()) {
    if (auto w = n->second.find(rank); w != n->second.end()) return w->second;
  }
  return policy.levels()[static_cast<std::size_t>(rank)].name;
}

Result<Marking> NationalMarkings::ParseAs(std::string_view text, std::string_view code,
                                          const Policy& policy) const {
  auto n = words_.find(std::string(code));
  if (n == words_.end()) return ParseMarking(text, policy);
  std::string s(text);
  const std::size_t start = s.find_first_not_of(" \t");
  if (start == std::string::npos) return ParseMarking(text, policy);
  const bool portion = s[start] == '(';
  std::size_t at = portion ? s.find_first_not_of(" \t", start + 1) : start;
  if (at == std::string::npos) return ParseMarking(text, policy);
  const std::string upper = Upper(s);
  // The longest of the nation's words that the marking starts with, ending at a word boundary.
  const std::string* best = nullptr;
  int best_rank = 0;
  for (const auto& [rank, w] : n->second) {
    if (upper.compare(at, w.size(), w) != 0) continue;
    const std::size_t end = at + w.size();
    if (end < upper.size() &&
        (std::isalnum(static_cast<unsigned char>(upper[end])) != 0 || upper[end] == '-')) {
      continue;
    }
    if (best == nullptr || w.size() > best->size()) {
      best = &w;
      best_rank = rank;
    }
  }
  if (best == nullptr) return ParseMarking(text, policy);
  const ClassificationLevel& level = policy.levels()[static_cast<std::size_t>(best_rank)];
  s.replace(at, best->size(), portion ? level.abbrev : level.name);
  return ParseMarking(s, policy);
}

std::string NationalMarkings::FormatAs(const Label& label, MarkingForm form, std::string_view code,
                                       const Policy& policy) const {
  const std::string canonical = FormatMarking(label, form, policy);
  auto n = words_.find(std::string(code));
  if (n == words_.end()) return canonical;
  auto w = n->second.find(label.level);
  if (w == n->second.end()) return canonical;
  const ClassificationLevel& level = policy.levels()[static_cast<std::size_t>(label.level)];
  const std::size_t at = form == MarkingForm::kPortion ? 1 : 0;
  const std::string& shown = form == MarkingForm::kPortion ? level.abbrev : level.name;
  if (canonical.compare(at, shown.size(), shown) != 0) return canonical;
  std::string out = canonical;
  out.replace(at, shown.size(), w->second);
  return out;
}

Status CheckMarkingCode(std::string_view code, const Policy& policy) {
  const std::string c(code);
  if (policy.IsNation(c) || policy.FindGroup(c) != nullptr) return Status::Ok();
  return InvalidArgument("LABEL_UNKNOWN_CODE",
                         "--as " + c + " is neither a nation nor a group of the policy");
}

}  // namespace tearline
