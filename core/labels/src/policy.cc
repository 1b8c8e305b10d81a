#include "tearline/labels/policy.h"

#include <sodium.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "tearline/base/text_util.h"
#include "tearline/crypto/secure_memory.h"

namespace tearline {
namespace {

constexpr std::size_t kMaxPolicyBytes = 1 << 20;  // A policy is a small hand-edited file.
// Bounds that keep a hostile policy (e.g. the policy.toml of an audit directory handed to
// `tearline-audit verify`) from exhausting the stack or the CPU: toml++ builds and destroys
// nested tables recursively, and group expansion recurses once per nesting level. A real policy
// nests tables two or three levels deep and groups one or two.
constexpr std::size_t kMaxTomlKeyDots = 16;          // Dots in one dotted key or table header.
constexpr std::size_t kMaxTomlBracketDepth = 16;     // Open [ and { at once.
constexpr int kMaxGroupDepth = 16;                   // Groups within groups.
constexpr std::size_t kMaxGroupExpansion = 1 << 20;  // Member insertions while expanding.

bool IsUpperAlpha(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

bool IsLevelName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || c == ' ')) return false;
  }
  return true;
}

bool IsGroupCode(std::string_view s) {
  if (s.size() < 2 || s.size() > 16 || s[0] < 'A' || s[0] > 'Z') return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// Builds "source:line: cause" errors pointing at the TOML node that is wrong.
class ErrorSink {
 public:
  explicit ErrorSink(std::string_view source) : source_(source) {}
  Status At(const toml::node* node, const std::string& cause) const {
    std::string where(source_);
    if (node != nullptr && node->source().begin.line > 0) {
      where += ":" + std::to_string(node->source().begin.line);
    }
    return InvalidArgument("POLICY_INVALID", where + ": " + cause);
  }

 private:
  std::string_view source_;
};

// The TOML text's nesting, measured lexically before toml++ sees it: dots in one run of key text
// (between separators, outside strings and comments) and open brackets. A table can be nested at
// most (dots + 1) * (brackets + 2) deep, so bounding both bounds the tree toml++ would build.
// Returns "" when within bounds, else the cause.
std::string TomlNestingProblem(std::string_view text) {
  std::size_t dots = 0;
  std::size_t brackets = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      const bool triple = text.substr(i, 3) == std::string(3, c);
      const std::string close(triple ? 3 : 1, c);
      i += close.size();
      while (i < text.size() && text.substr(i, close.size()) != close) {
        if (!triple && text[i] == '\n') break;
        i += (c == '"' && text[i] == '\\') ? std::size_t{2} : std::size_t{1};  // Escapes.
      }
      i += close.size() - 1;
    } else if (c == '.') {
      if (++dots > kMaxTomlKeyDots) {
        return "a dotted key or table header has more than " + std::to_string(kMaxTomlKeyDots) +
               " dots";
      }
    } else if (c == '[' || c == '{') {
      dots = 0;
      if (++brackets > kMaxTomlBracketDepth) {
        return "brackets or braces nest more than " + std::to_string(kMaxTomlBracketDepth) +
               " deep";
      }
    } else if (c == ']' || c == '}') {
      dots = 0;
      if (brackets > 0) --brackets;
    } else if (c == '\n' || c == ',') {
      dots = 0;
    }
  }
  return "";
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

}  // namespace

Result<Policy> Policy::Parse(std::string_view toml_text, std::string_view source_name) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  ErrorSink err(source_name);
  if (toml_text.size() > kMaxPolicyBytes) {
    return InvalidArgument("POLICY_INVALID",
                           std::string(source_name) + ": policy file is larger than 1 MiB");
  }
  if (std::string problem = TomlNestingProblem(toml_text); !problem.empty()) {
    return InvalidArgument("POLICY_INVALID", std::string(source_name) + ": " + problem);
  }
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("POLICY_INVALID", std::string(source_name) + ":" +
                                                 std::to_string(e.source().begin.line) + ": " +
                                                 std::string(e.description()));
  }

  for (const auto& [key, node] : root) {
    const std::string_view k = key.str();
    // [national_markings] is read by NationalMarkings (national_markings.h) from the same text;
    // release_authorisation by release_rules.h (standing release authorisations).
    if (k != "policy" && k != "classification" && k != "marking" && k != "nations" &&
        k != "groups" && k != "national_markings" && k != "release_authorisation") {
      return err.At(&node, "unknown top-level key '" + std::string(k) +
                               "' (expected policy, classification, marking, nations, groups, "
                               "national_markings, release_authorisation)");
    }
  }

  Policy p;
  p.digest_hex_ = Sha256Hex(toml_text);

  // [policy]
  const toml::table* meta = root["policy"].as_table();
  if (meta == nullptr) return err.At(nullptr, "missing [policy] table with a name");
  auto name = (*meta)["name"].value<std::string>();
  if (!name || name->empty()) return err.At(meta, "[policy] needs a non-empty string 'name'");
  p.name_ = *name;
  p.version_ = (*meta)["version"].value_or(std::string());
  if (const toml::node* days = meta->get("max_expiry_days")) {
    auto v = days->value<std::int64_t>();
    if (!days->is_integer() || !v || *v < 1 || *v > 3660) {
      return err.At(days, "[policy] max_expiry_days must be an integer from 1 to 3660");
    }
    p.max_expiry_days_ = *v;
  }

  // [[classification]]
  const toml::array* levels = root["classification"].as_array();
  if (levels == nullptr || levels->empty()) {
    return err.At(root.get("classification"),
                  "missing [[classification]] entries (levels, lowest first)");
  }
  std::set<std::string> level_words;
  for (const toml::node& entry : *levels) {
    const toml::table* t = entry.as_table();
    if (t == nullptr) return err.At(&entry, "each classification must be a table");
    auto lname = (*t)["name"].value<std::string>();
    auto abbrev = (*t)["abbrev"].value<std::string>();
    if (!lname || !abbrev) {
      return err.At(t, "a classification needs string fields 'name' and 'abbrev'");
    }
    ClassificationLevel level{internal::NormalizeWords(*lname), internal::NormalizeWords(*abbrev)};
    if (level.name != *lname || !IsLevelName(level.name)) {
      return err.At(t, "classification name '" + *lname +
                           "' must be upper-case words (A-Z) separated by single spaces");
    }
    if (!IsUpperAlpha(level.abbrev) || level.abbrev != *abbrev) {
      return err.At(t, "classification abbreviation '" + *abbrev + "' must be upper-case letters");
    }
    for (const std::string& word : {level.name, level.abbrev}) {
      if (!level_words.insert(word).second && !(word == level.abbrev && word == level.name)) {
        return err.At(t, "classification word '" + word + "' is defined twice");
      }
    }
    p.levels_.push_back(std::move(level));
  }

  // [nations]
  const toml::table* nations = root["nations"].as_table();
  if (nations == nullptr || nations->empty()) {
    return err.At(root.get("nations"), "missing [nations] table of trigraph = \"name\"");
  }
  for (const auto& [key, node] : *nations) {
    std::string code(key.str());
    if (code.size() != 3 || !IsUpperAlpha(code)) {
      return err.At(&node, "nation code '" + code + "' is not an upper-case ISO 3166-1 trigraph");
    }
    auto title = node.value<std::string>();
    if (!title) return err.At(&node, "nation " + code + " needs a string name");
    if (level_words.contains(code)) {
      return err.At(&node, "nation code " + code + " collides with a classification word");
    }
    p.nations_.emplace(code, *title);
  }

  // [marking]
  if (const toml::table* marking = root["marking"].as_table()) {
    for (const auto& [key, node] : *marking) {
      if (key.str() != "listed_first") {
        return err.At(&node, "unknown key '" + std::string(key.str()) + "' in [marking]");
      }
    }
    if (const toml::array* first = (*marking)["listed_first"].as_array()) {
      for (const toml::node& n : *first) {
        auto code = n.value<std::string>();
        if (!code || !p.IsNation(*code)) {
          return err.At(&n, "[marking] listed_first names an unknown nation");
        }
        p.listed_first_.push_back(*code);
      }
    }
  }

  // [groups.CODE] members may reference nations or other groups; expand transitively.
  std::map<std::string, std::pair<const toml::table*, std::vector<std::string>>> raw;
  if (const toml::table* groups = root["groups"].as_table()) {
    for (const auto& [key, node] : *groups) {
      std::string code(key.str());
      const toml::table* g = node.as_table();
      if (g == nullptr) return err.At(&node, "group " + code + " must be a table");
      if (!IsGroupCode(code)) {
        return err.At(&node, "group code '" + code + "' must be 2-16 upper-case letters or digits");
      }
      if (p.IsNation(code) || level_words.contains(code)) {
        return err.At(&node, "group code " + code + " collides with a nation or classification");
      }
      const toml::array* members = (*g)["members"].as_array();
      if (members == nullptr || members->empty()) {
        return err.At(g, "group " + code + " needs a non-empty 'members' array");
      }
      std::vector<std::string> list;
      for (const toml::node& m : *members) {
        auto member = m.value<std::string>();
        if (!member) return err.At(&m, "group " + code + " members must be strings");
        list.push_back(*member);
      }
      raw.emplace(code, std::make_pair(g, std::move(list)));
      p.groups_[code] = Group{code, (*g)["title"].value_or(code), {}};
    }
  }
  // Depth-first with memoisation; the depth bound also bounds the recursion, and the work bound
  // the time a policy of many wide groups could take.
  std::map<std::string, int> state;  // 0 = unvisited, 1 = in progress, 2 = done.
  std::size_t work = 0;
  std::function<Status(const std::string&, int)> expand = [&](const std::string& code,
                                                              int depth) -> Status {
    int& s = state[code];
    if (s == 2) return Status::Ok();
    const auto& [node, members] = raw.at(code);
    if (s == 1) return err.At(node, "group " + code + " contains itself (cycle)");
    if (depth > kMaxGroupDepth) {
      return err.At(node, "groups nest more than " + std::to_string(kMaxGroupDepth) +
                              " deep (at group " + code + ")");
    }
    s = 1;
    std::set<std::string> out;
    for (const std::string& m : members) {
      if (p.IsNation(m)) {
        out.insert(m);
        ++work;
      } else if (raw.contains(m)) {
        TEARLINE_RETURN_IF_ERROR(expand(m, depth + 1));
        const auto& sub = p.groups_.at(m).members;
        out.insert(sub.begin(), sub.end());
        work += sub.size() + 1;
      } else {
        return err.At(node, "group " + code + " names unknown member '" + m + "'");
      }
      if (work > kMaxGroupExpansion) {
        return err.At(node, "groups expand to more than " + std::to_string(kMaxGroupExpansion) +
                                " memberships");
      }
    }
    p.groups_.at(code).members = std::move(out);
    state[code] = 2;
    return Status::Ok();
  };
  for (const auto& [code, unused] : raw) TEARLINE_RETURN_IF_ERROR(expand(code, 1));
  return p;
}

Result<Policy> Policy::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("POLICY_NOT_FOUND", path + ": cannot open policy file");
  }
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxPolicyBytes) {
      return InvalidArgument("POLICY_INVALID", path + ": policy file is larger than 1 MiB");
    }
  }
  if (in.bad()) return IoError("POLICY_READ", path + ": read error");
  return Parse(text, path);
}

std::optional<int> Policy::FindLevel(std::string_view word) const {
  const std::string norm = internal::NormalizeWords(word);
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    if (levels_[i].name == norm || levels_[i].abbrev == norm) return static_cast<int>(i);
  }
  return std::nullopt;
}

const Group* Policy::FindGroup(std::string_view code) const {
  auto it = groups_.find(std::string(code));
  return it == groups_.end() ? nullptr : &it->second;
}

std::string DefaultPolicyPath() {
  if (const char* env = std::getenv("TEARLINE_POLICY"); env != nullptr && *env != '\0') {
    return env;
  }
  // An installed program (PREFIX/bin) finds the policy installed with it, wherever the tree was
  // unpacked; a program in the build tree has none there and uses the source tree's.
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto installed =
        exe.parent_path().parent_path() / "share" / "tearline" / "policy" / "coalition.toml";
    if (std::filesystem::is_regular_file(installed, ec)) return installed.string();
  }
  return TEARLINE_DEFAULT_POLICY_PATH;
}

}  // namespace tearline
