#include "reason_scanner.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace tearline::testing {
namespace {

// Functions (and local helpers) whose arguments carry a reason. A helper added to the sources
// that takes a reason must be added here, or its reasons go unchecked.
constexpr std::array<std::string_view, 23> kReasonFunctions = {
    "InvalidArgument", "NotFound", "PermissionDenied", "Unauthenticated", "IoError", "Internal",
    "Malformed", "Invalid", "LineFailure", "FileFailure", "RangeFailure", "SetState", "OnError",
    "MakePrivateDir", "SyncDir", "ListIds", "CheckKey", "GiveUp", "ClassifyRefusal",
    "RecordedRefusalReason",
    // node/src/group_commit.cc.
    "WriteReplacing", "SyncDirectoryOrBatch", "SyncFailure"};

// Helpers that build reasons as `<prefix><suffix>` from a prefix argument.
const std::map<std::string_view, std::vector<std::string_view>>& PrefixFunctions() {
  static const auto* const kMap = new std::map<std::string_view, std::vector<std::string_view>>{
      // core/identity certificate.h and core/audit audit_records.h.
      {"ReadFileCapped", {"_NOT_FOUND", "_READ", "_TOO_LARGE"}},
      {"ReadSmallFile", {"_NOT_FOUND", "_READ", "_TOO_LARGE"}},
      // core/audit audit_verify_util.h: ReadSmallFile's checks before it reads.
      {"CheckedFileSize", {"_NOT_FOUND", "_READ", "_TOO_LARGE"}},
      // node/src/outbox_store.cc.
      {"ReadCapped", {"_NOT_FOUND", "_IO", "_CORRUPT"}},
      {"BadId", {"_BAD_ID"}},
  };
  return *kMap;
}

enum class Kind { kIdent, kString, kPunct, kOther };

struct Token {
  Kind kind;
  std::string text;  // Identifier, punctuation, or the literal's content without quotes.
  int line;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Splits C++ text into tokens, dropping comments and whitespace.
std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  int line = 1;
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto count_lines = [&](std::size_t from, std::size_t to) {
    line += static_cast<int>(std::count(s.begin() + static_cast<std::ptrdiff_t>(from),
                                        s.begin() + static_cast<std::ptrdiff_t>(to), '\n'));
  };
  while (i < n) {
    const char c = s[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (s.compare(i, 2, "//") == 0) {
      while (i < n && s[i] != '\n') ++i;
    } else if (s.compare(i, 2, "/*") == 0) {
      const std::size_t end = s.find("*/", i + 2);
      const std::size_t stop = end == std::string_view::npos ? n : end + 2;
      count_lines(i, stop);
      i = stop;
    } else if (IsIdentStart(c)) {
      std::size_t j = i;
      while (j < n && IsIdentChar(s[j])) ++j;
      std::string word(s.substr(i, j - i));
      if (j < n && s[j] == '"' && !word.empty() && word.back() == 'R') {
        // Raw string literal R"delim( ... )delim" (SQL text, mostly).
        const std::size_t open = s.find('(', j);
        if (open == std::string_view::npos) break;
        const std::string close = ")" + std::string(s.substr(j + 1, open - j - 1)) + "\"";
        const std::size_t end = s.find(close, open);
        const std::size_t stop = end == std::string_view::npos ? n : end + close.size();
        out.push_back({Kind::kString, std::string(s.substr(open + 1, end - open - 1)), line});
        count_lines(i, stop);
        i = stop;
      } else if (j < n && s[j] == '"' &&
                 (word == "u8" || word == "u" || word == "U" || word == "L")) {
        i = j;  // An encoding prefix: lex the literal next round.
      } else {
        out.push_back({Kind::kIdent, std::move(word), line});
        i = j;
      }
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < n && (IsIdentChar(s[j]) || s[j] == '.' || s[j] == '\'')) ++j;
      out.push_back({Kind::kOther, std::string(s.substr(i, j - i)), line});
      i = j;
    } else if (c == '"' || c == '\'') {
      std::string text;
      std::size_t j = i + 1;
      while (j < n && s[j] != c) {
        if (s[j] == '\\' && j + 1 < n) {
          text += s[j];
          ++j;
        }
        if (s[j] == '\n') ++line;
        text += s[j];
        ++j;
      }
      out.push_back({c == '"' ? Kind::kString : Kind::kOther, std::move(text), line});
      i = j + 1;
    } else {
      static constexpr std::array<std::string_view, 12> kTwo = {
          "::", "==", "!=", "->", "<=", ">=", "&&", "||", "+=", "-=", "<<", ">>"};
      std::string_view op = s.substr(i, 1);
      for (std::string_view two : kTwo) {
        if (s.compare(i, 2, two) == 0) op = two;
      }
      out.push_back({Kind::kPunct, std::string(op), line});
      i += op.size();
    }
  }
  return out;
}

bool IsOpen(const Token& t) {
  return t.kind == Kind::kPunct && (t.text == "(" || t.text == "{" || t.text == "[");
}
bool IsClose(const Token& t) {
  return t.kind == Kind::kPunct && (t.text == ")" || t.text == "}" || t.text == "]");
}
bool Is(const Token& t, std::string_view punct) {
  return t.kind == Kind::kPunct && t.text == punct;
}

struct Range {
  std::size_t begin;
  std::size_t end;  // Exclusive.
};

// The top-level comma-separated arguments of the bracket opening at `open`.
std::vector<Range> Arguments(const std::vector<Token>& t, std::size_t open) {
  std::vector<Range> args;
  int depth = 0;
  std::size_t start = open + 1;
  for (std::size_t i = open + 1; i < t.size(); ++i) {
    if (IsOpen(t[i])) {
      ++depth;
    } else if (IsClose(t[i])) {
      if (depth == 0) {
        if (i > start) args.push_back({start, i});
        return args;
      }
      --depth;
    } else if (depth == 0 && Is(t[i], ",")) {
      args.push_back({start, i});
      start = i + 1;
    }
  }
  return args;
}

// An expression from `begin` up to the first `;` or `,` or unmatched closing bracket.
Range Expression(const std::vector<Token>& t, std::size_t begin) {
  int depth = 0;
  for (std::size_t i = begin; i < t.size(); ++i) {
    if (IsOpen(t[i])) {
      ++depth;
    } else if (IsClose(t[i])) {
      if (depth == 0) return {begin, i};
      --depth;
    } else if (depth == 0 && (Is(t[i], ";") || Is(t[i], ","))) {
      return {begin, i};
    }
  }
  return {begin, t.size()};
}

// Reason-looking literals of `r` not nested in a bracket inside it.
std::vector<const Token*> TopLevelLiterals(const std::vector<Token>& t, Range r) {
  std::vector<const Token*> out;
  int depth = 0;
  for (std::size_t i = r.begin; i < r.end; ++i) {
    if (IsOpen(t[i])) {
      ++depth;
    } else if (IsClose(t[i])) {
      --depth;
    } else if (depth == 0 && t[i].kind == Kind::kString && LooksLikeReason(t[i].text)) {
      out.push_back(&t[i]);
    }
  }
  return out;
}

// The Code a Status helper gives its reason; empty for helpers that do not build a Status.
std::string_view CodeOfHelper(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kCodes = {{
      {"InvalidArgument", "kInvalidArgument"},
      {"NotFound", "kNotFound"},
      {"PermissionDenied", "kPermissionDenied"},
      {"Unauthenticated", "kUnauthenticated"},
      {"IoError", "kIoError"},
      {"Internal", "kInternal"},
      {"MakePrivateDir", "kIoError"},
      {"SyncDir", "kIoError"},
      {"ListIds", "kIoError"},
      {"Malformed", "kInvalidArgument"},  // core/tlog/src/checkpoint.cc
      {"Invalid", "kInvalidArgument"},    // core/labels/src/label.cc
      {"WriteReplacing", "kIoError"},     // node/src/group_commit.cc
      {"SyncDirectoryOrBatch", "kIoError"},
      {"SyncFailure", "kIoError"},
  }};
  for (const auto& [helper, code] : kCodes) {
    if (helper == name) return code;
  }
  return {};
}

bool EndsWithReason(std::string_view name) {
  for (std::string_view tail : {"reason", "reason_", "Reason"}) {
    if (name.size() >= tail.size() && name.substr(name.size() - tail.size()) == tail) return true;
  }
  return false;
}

}  // namespace

bool LooksLikeReason(std::string_view text) {
  if (text.size() < 2 || !std::isupper(static_cast<unsigned char>(text.front())) ||
      text.back() == '_') {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool ok = std::isupper(static_cast<unsigned char>(c)) ||
                    std::isdigit(static_cast<unsigned char>(c)) || (c == '_' && text[i - 1] != '_');
    if (!ok) return false;
  }
  return true;
}

std::vector<ReasonUse> ScanReasons(std::string_view source, std::string_view file) {
  const std::vector<Token> t = Tokenize(source);
  std::vector<ReasonUse> out;
  auto take = [&](const Token* lit, std::string_view suffix = {}, std::string_view code = {}) {
    out.push_back(
        {lit->text + std::string(suffix), std::string(file), lit->line, std::string(code)});
  };
  auto take_all = [&](Range r, std::string_view code = {}) {
    for (const Token* lit : TopLevelLiterals(t, r)) take(lit, {}, code);
  };

  for (std::size_t i = 0; i < t.size(); ++i) {
    const Token& tok = t[i];
    const bool call = i + 1 < t.size() && Is(t[i + 1], "(");

    // InvalidArgument("X", ...), LineFailure(line, "X", ...), ...
    if (tok.kind == Kind::kIdent && call &&
        std::find(kReasonFunctions.begin(), kReasonFunctions.end(), tok.text) !=
            kReasonFunctions.end()) {
      for (Range arg : Arguments(t, i + 1)) take_all(arg, CodeOfHelper(tok.text));
    }

    // ReadFileCapped(path, max, "CERT") -> CERT_NOT_FOUND, CERT_READ, CERT_TOO_LARGE.
    if (tok.kind == Kind::kIdent && call) {
      const auto it = PrefixFunctions().find(tok.text);
      if (it != PrefixFunctions().end()) {
        for (Range arg : Arguments(t, i + 1)) {
          for (const Token* lit : TopLevelLiterals(t, arg)) {
            for (std::string_view suffix : it->second) take(lit, suffix);
          }
        }
      }
    }

    // Status(Code::kX, "Y", ...), Status why(Code::kX, "Y"), {Code::kX, "Y", ...}.
    if ((Is(tok, "(") || Is(tok, "{")) && i + 3 < t.size() && t[i + 1].kind == Kind::kIdent &&
        t[i + 1].text == "Code" && Is(t[i + 2], "::") && t[i + 3].text.rfind('k', 0) == 0) {
      const std::vector<Range> args = Arguments(t, i);
      if (args.size() >= 2) take_all(args[1], t[i + 3].text);
    }

    // Status(st.code(), "X", ...), Status why(code, "X"): the Code held in a variable.
    if (tok.kind == Kind::kIdent && tok.text == "Status") {
      std::size_t open = i + 1;
      if (open < t.size() && t[open].kind == Kind::kIdent) ++open;
      if (open < t.size() && (Is(t[open], "(") || Is(t[open], "{"))) {
        const std::vector<Range> args = Arguments(t, open);
        const bool literal_code = !args.empty() && t[args[0].begin].text == "Code" &&
                                  args[0].begin + 1 < t.size() && Is(t[args[0].begin + 1], "::");
        if (args.size() >= 2 && !literal_code) take_all(args[1]);  // Else taken just above.
      }
    }

    // x.reason = "X";  reason() == "X";  error_reason != "X".
    if (tok.kind == Kind::kIdent && EndsWithReason(tok.text)) {
      std::size_t j = i + 1;
      if (j + 1 < t.size() && Is(t[j], "(") && Is(t[j + 1], ")")) j += 2;
      if (j + 1 < t.size() && (Is(t[j], "=") || Is(t[j], "==") || Is(t[j], "!="))) {
        if (Is(t[j], "=")) {
          take_all(Expression(t, j + 1));
        } else if (t[j + 1].kind == Kind::kString && LooksLikeReason(t[j + 1].text)) {
          take(&t[j + 1]);
        }
      }
    }

    // spdlog::warn("event=... reason={}", ..., "X"): a reason that is only logged.
    if (tok.kind == Kind::kIdent && call && i >= 2 && Is(t[i - 1], "::") &&
        t[i - 2].text == "spdlog") {
      for (Range arg : Arguments(t, i + 1)) take_all(arg);
    }

    // {"reason", "X"} (JSON members of audit records and control replies).
    if (tok.kind == Kind::kString && EndsWithReason(tok.text) && i + 2 < t.size() &&
        Is(t[i + 1], ",") && i > 0 && Is(t[i - 1], "{")) {
      take_all(Expression(t, i + 2));
    }
  }
  return out;
}

namespace {

// The sorted .h and .cc files below root/dir for each dir, with their paths relative to root.
std::vector<std::pair<std::string, std::string>> ReadTree(const std::filesystem::path& root,
                                                          const std::vector<std::string>& dirs) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& dir : dirs) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root / dir)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".h" || ext == ".cc")) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      out.emplace_back(std::filesystem::relative(path, root).string(), text.str());
    }
  }
  return out;
}

bool IsReasonParameterName(std::string_view name) {
  return name == "reason" || name == "reason_prefix" || name == "prefix";
}

}  // namespace

std::vector<ReasonParameter> FindReasonParameters(std::string_view source, std::string_view file) {
  const std::vector<Token> t = Tokenize(source);
  std::vector<ReasonParameter> out;
  // Open parentheses, each with the function name before it ("" when not a name).
  std::vector<std::pair<std::string, bool>> parens;  // {name, already reported}.
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (Is(t[i], "(")) {
      parens.emplace_back(i > 0 && t[i - 1].kind == Kind::kIdent ? t[i - 1].text : "", false);
    } else if (Is(t[i], ")")) {
      if (!parens.empty()) parens.pop_back();
    } else if (t[i].kind == Kind::kIdent && IsReasonParameterName(t[i].text) && !parens.empty() &&
               i > 0 && i + 1 < t.size()) {
      // A declared parameter follows its type (`std::string reason`, `const std::string& reason`,
      // `const char* reason`) and ends the parameter (`,`, `)` or a default `=`); a use does not.
      const Token& before = t[i - 1];
      const bool after_ref = (Is(before, "&") || Is(before, "*")) && i >= 2 &&
                             (t[i - 2].kind == Kind::kIdent || Is(t[i - 2], ">"));
      const bool after_type =
          (before.kind == Kind::kIdent && before.text != "return") || Is(before, ">") || after_ref;
      const bool ends = Is(t[i + 1], ",") || Is(t[i + 1], ")") || Is(t[i + 1], "=");
      auto& [name, reported] = parens.back();
      static const std::set<std::string_view> kKeywords = {"if", "while", "for", "switch"};
      if (after_type && ends && !reported && !kKeywords.contains(name)) {
        out.push_back({name, std::string(file), t[i].line});
        reported = true;
      }
    }
  }
  return out;
}

std::vector<std::string> KnownReasonHelpers() {
  std::vector<std::string> out(kReasonFunctions.begin(), kReasonFunctions.end());
  for (const auto& [name, suffixes] : PrefixFunctions()) out.emplace_back(name);
  return out;
}

std::vector<ReasonUse> ScanSourceTree(const std::filesystem::path& root,
                                      const std::vector<std::string>& dirs) {
  std::vector<ReasonUse> out;
  for (const auto& [rel, text] : ReadTree(root, dirs)) {
    for (ReasonUse& use : ScanReasons(text, rel)) out.push_back(std::move(use));
  }
  return out;
}

std::vector<ReasonParameter> FindReasonParametersInTree(const std::filesystem::path& root,
                                                        const std::vector<std::string>& dirs) {
  std::vector<ReasonParameter> out;
  for (const auto& [rel, text] : ReadTree(root, dirs)) {
    for (ReasonParameter& p : FindReasonParameters(text, rel)) out.push_back(std::move(p));
  }
  return out;
}

}  // namespace tearline::testing
