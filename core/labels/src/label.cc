#include "tearline/labels/label.h"

#include <algorithm>

#include "tearline/base/text_util.h"

namespace tearline {
namespace {

constexpr std::size_t kMaxMarkingLength = 1024;

Status Invalid(const char* reason, std::string message) {
  return InvalidArgument(reason, std::move(message));
}

// Splits on every occurrence of `sep`, keeping empty pieces so callers can reject them.
std::vector<std::string_view> Split(std::string_view text, std::string_view sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, pos - start));
    start = pos + sep.size();
  }
}

Status ParseRelTo(std::string_view list_text, const Policy& policy, Label& label) {
  std::string_view list = internal::Trim(list_text);
  if (list.empty()) {
    return Invalid("LABEL_EMPTY_REL_TO", "REL TO must name at least one country or group code");
  }
  std::set<std::string> nations;
  std::set<std::string> groups;
  for (std::string_view raw : Split(list, ",")) {
    std::string code = internal::NormalizeWords(raw);
    if (code.empty()) {
      return Invalid("LABEL_SYNTAX", "empty entry in REL TO list '" +
                                         internal::Printable(internal::Trim(list_text)) + "'");
    }
    if (policy.IsNation(code)) {
      nations.insert(code);
    } else if (policy.FindGroup(code) != nullptr) {
      groups.insert(code);
    } else if (code.find(' ') != std::string::npos) {
      return Invalid("LABEL_SYNTAX", "REL TO entries must be separated by commas: '" +
                                         internal::Printable(code) + "'");
    } else {
      return Invalid("LABEL_UNKNOWN_CODE",
                     "unknown country or group code '" + internal::Printable(code) + "' in REL TO");
    }
  }
  label.has_rel_to = true;
  label.rel_to_nations.assign(nations.begin(), nations.end());
  label.rel_to_groups.assign(groups.begin(), groups.end());
  CanonicalizeRelTo(label, policy);
  return Status::Ok();
}

Status ParseControl(std::string_view raw, const Policy& policy, Label& label) {
  std::string word = internal::NormalizeWords(raw);
  if (word.empty()) {
    return Invalid("LABEL_SYNTAX", "empty control between '/' separators");
  }
  if (word == "ORCON" || word == "OC") {
    if (label.orcon) return Invalid("LABEL_REPEATED_CONTROL", "ORCON appears more than once");
    label.orcon = true;
    return Status::Ok();
  }
  if (word == "NOFORN" || word == "NF") {
    if (label.noforn) return Invalid("LABEL_REPEATED_CONTROL", "NOFORN appears more than once");
    label.noforn = true;
    return Status::Ok();
  }
  if (word == "REL TO" || word.starts_with("REL TO ")) {
    if (label.has_rel_to) return Invalid("LABEL_REPEATED_CONTROL", "REL TO appears more than once");
    // Take the list from the raw text after "REL" and "TO" so comma handling sees the original.
    std::string_view rest = internal::Trim(raw);
    rest.remove_prefix(3);  // "REL"
    rest = internal::Trim(rest);
    rest.remove_prefix(2);  // "TO"
    return ParseRelTo(rest, policy, label);
  }
  return Invalid("LABEL_UNKNOWN_CONTROL", "unknown control '" + internal::Printable(word) +
                                              "' (expected ORCON/OC, NOFORN/NF or REL TO <list>)");
}

}  // namespace

void CanonicalizeRelTo(Label& label, const Policy& policy) {
  const auto& first = policy.listed_first();
  auto rank = [&](const std::string& code) {
    auto it = std::find(first.begin(), first.end(), code);
    return it == first.end() ? first.size() : static_cast<std::size_t>(it - first.begin());
  };
  auto& n = label.rel_to_nations;
  std::sort(n.begin(), n.end(), [&](const std::string& a, const std::string& b) {
    auto ra = rank(a);
    auto rb = rank(b);
    return ra != rb ? ra < rb : a < b;
  });
  n.erase(std::unique(n.begin(), n.end()), n.end());
  auto& g = label.rel_to_groups;
  std::sort(g.begin(), g.end());
  g.erase(std::unique(g.begin(), g.end()), g.end());
}

Result<Marking> ParseMarking(std::string_view text, const Policy& policy) {
  if (text.size() > kMaxMarkingLength) {
    return Invalid("LABEL_TOO_LONG", "marking is longer than 1024 characters");
  }
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u >= 0x7f) {
      return Invalid("LABEL_SYNTAX", "marking contains a non-printable or non-ASCII character");
    }
  }
  std::string_view body = internal::Trim(text);
  if (body.empty()) {
    return Invalid("LABEL_EMPTY", "marking is empty: a classification is required");
  }
  Marking out;
  if (body.front() == '(') {
    if (body.back() != ')') {
      return Invalid("LABEL_SYNTAX", "portion marking '" + internal::Printable(body) +
                                         "' opens '(' but does not end with ')'");
    }
    out.form = MarkingForm::kPortion;
    body = internal::Trim(body.substr(1, body.size() - 2));
  } else if (body.back() == ')') {
    return Invalid("LABEL_SYNTAX", "marking '" + internal::Printable(body) +
                                       "' ends with ')' but does not start with '('");
  }
  if (body.find_first_of("()") != std::string_view::npos) {
    return Invalid("LABEL_SYNTAX",
                   "unexpected parenthesis inside marking '" + internal::Printable(body) + "'");
  }

  std::size_t sep = body.find("//");
  std::string_view level_text = internal::Trim(body.substr(0, sep));
  if (level_text.empty()) {
    return Invalid("LABEL_MISSING_CLASSIFICATION",
                   "marking must start with a classification (e.g. SECRET or S)");
  }
  std::optional<int> level = policy.FindLevel(level_text);
  if (!level) {
    return Invalid("LABEL_UNKNOWN_CLASSIFICATION",
                   "unknown classification '" + internal::NormalizeWords(level_text) + "'");
  }
  out.label.level = *level;
  if (sep != std::string_view::npos) {
    std::string_view controls = body.substr(sep + 2);
    if (internal::Trim(controls).empty()) {
      return Invalid("LABEL_SYNTAX", "nothing follows '//' in '" + internal::Printable(body) + "'");
    }
    if (controls.find("//") != std::string_view::npos) {
      return Invalid("LABEL_SYNTAX",
                     "only one '//' field of controls is allowed; separate controls with '/'");
    }
    for (std::string_view control : Split(controls, "/")) {
      TEARLINE_RETURN_IF_ERROR(ParseControl(control, policy, out.label));
    }
  }
  if (out.label.noforn && out.label.has_rel_to) {
    return Invalid("LABEL_NOFORN_WITH_REL_TO",
                   "NOFORN and REL TO are mutually exclusive: keep one of them");
  }
  return out;
}

Result<Label> ParseLabel(std::string_view text, const Policy& policy) {
  auto m = ParseMarking(text, policy);
  if (!m.ok()) return m.status();
  return std::move(m)->label;
}

std::string FormatRelTo(const Label& label) {
  if (!label.has_rel_to) return "";
  std::string rel = "REL TO ";
  bool first = true;
  for (const auto* list : {&label.rel_to_nations, &label.rel_to_groups}) {
    for (const auto& code : *list) {
      if (!first) rel += ", ";
      rel += code;
      first = false;
    }
  }
  return rel;
}

namespace {
std::string FormatControls(const Label& label, bool portion) {
  std::vector<std::string> controls;
  if (label.orcon) controls.emplace_back(portion ? "OC" : "ORCON");
  if (label.noforn) controls.emplace_back(portion ? "NF" : "NOFORN");
  if (label.has_rel_to) controls.push_back(FormatRelTo(label));
  std::string out;
  for (std::size_t i = 0; i < controls.size(); ++i) {
    out += (i == 0 ? "//" : "/") + controls[i];
  }
  return out;
}

const ClassificationLevel& LevelOf(const Label& label, const Policy& policy) {
  // Labels only come from the parser or roll-up with the same policy, so the rank is in range;
  // clamp anyway so a mismatched policy cannot index out of bounds.
  const auto& levels = policy.levels();
  std::size_t i = static_cast<std::size_t>(std::max(label.level, 0));
  return levels[std::min(i, levels.size() - 1)];
}
}  // namespace

std::string FormatBanner(const Label& label, const Policy& policy) {
  return LevelOf(label, policy).name + FormatControls(label, false);
}

std::string FormatPortion(const Label& label, const Policy& policy) {
  return "(" + LevelOf(label, policy).abbrev + FormatControls(label, true) + ")";
}

Result<Label> ParseCanonicalPortion(std::string_view text, const Policy& policy) {
  TEARLINE_ASSIGN_OR_RETURN(Marking m, ParseMarking(text, policy));
  const std::string canonical = FormatPortion(m.label, policy);
  if (text != canonical) {
    // A label that only parses leniently would be read one way by whoever re-renders it and
    // another by whoever compares its bytes; only the canonical bytes travel.
    return Invalid("LABEL_NOT_CANONICAL", "portion marking '" + internal::Printable(text) +
                                              "' is not in canonical form; write it as '" +
                                              canonical + "'");
  }
  return std::move(m.label);
}

std::string FormatMarking(const Label& label, MarkingForm form, const Policy& policy) {
  return form == MarkingForm::kPortion ? FormatPortion(label, policy) : FormatBanner(label, policy);
}

std::optional<std::set<std::string>> ReleasableTo(const Label& label, const Policy& policy) {
  if (label.noforn) return std::set<std::string>{};
  if (label.has_rel_to) {
    std::set<std::string> out(label.rel_to_nations.begin(), label.rel_to_nations.end());
    for (const auto& code : label.rel_to_groups) {
      if (const Group* g = policy.FindGroup(code)) out.insert(g->members.begin(), g->members.end());
    }
    return out;
  }
  // The lowest level is the unclassified one: without controls it goes to everyone.
  if (label.level == 0) return std::nullopt;
  return std::set<std::string>{};
}

}  // namespace tearline
