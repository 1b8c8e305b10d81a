#include "tearline/base/reasons.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "reason_scanner.h"
#include "tearline/labels/release.h"
#include "test_support.h"

namespace tearline {
namespace {

using testing::LooksLikeReason;
using testing::ReasonUse;
using testing::ScanReasons;

// The directories whose code runs in Tearline's programs.
const std::vector<std::string> kSourceDirs = {"core", "broker", "node", "tools"};
// The documents whose reason tables must list every registered reason.
const std::vector<std::string> kReasonDocs = {"docs/PROTOCOL.md", "docs/AUDIT.md"};

// Uses whose reason is not registered, as "REASON (file:line)".
std::vector<std::string> Unregistered(const std::vector<ReasonUse>& uses) {
  std::vector<std::string> out;
  for (const ReasonUse& use : uses) {
    if (FindReason(use.reason) == nullptr) {
      out.push_back(use.reason + " (" + use.file + ":" + std::to_string(use.line) + ")");
    }
  }
  return out;
}

std::set<std::string> Reasons(const std::vector<ReasonUse>& uses) {
  std::set<std::string> out;
  for (const ReasonUse& use : uses) out.insert(use.reason);
  return out;
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// --- The registry itself ---------------------------------------------------------------------

TEST(ReasonsTest, EveryEntryIsWellFormedAndUnique) {
  std::set<std::string_view> seen;
  ASSERT_GT(AllReasons().size(), 200u);
  for (const ReasonInfo& info : AllReasons()) {
    EXPECT_TRUE(LooksLikeReason(info.code)) << info.code;
    EXPECT_TRUE(seen.insert(info.code).second) << info.code << " is registered twice";
    EXPECT_NE(info.status_class, Code::kOk) << info.code;
    EXPECT_FALSE(info.meaning.empty()) << info.code;
    EXPECT_EQ(info.meaning.find('\n'), std::string_view::npos) << info.code;
    EXPECT_EQ(FindReason(info.code), &info) << info.code;
  }
}

TEST(ReasonsTest, FindReasonAnswersForKnownCodesOnly) {
  const ReasonInfo* info = FindReason("LABEL_UNKNOWN_CODE");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->status_class, Code::kInvalidArgument);
  EXPECT_EQ(FindReason("NO_SUCH_REASON_EVER"), nullptr);
  EXPECT_EQ(FindReason(""), nullptr);
  EXPECT_EQ(FindReason("label_unknown_code"), nullptr);
}

TEST(ReasonsTest, ReleaseDenialNamesAreRegistered) {
  for (DenyReason r : {DenyReason::kAboveClearance, DenyReason::kNoforn, DenyReason::kNotReleasable,
                       DenyReason::kNoReleasabilityMarking}) {
    const ReasonInfo* info = FindReason(DenyReasonName(r));
    ASSERT_NE(info, nullptr) << DenyReasonName(r);
    EXPECT_EQ(info->status_class, Code::kPermissionDenied) << info->code;
  }
}

// --- The scanner, on snippets ----------------------------------------------------------------

TEST(ReasonScannerTest, LooksLikeReason) {
  EXPECT_TRUE(LooksLikeReason("NOFORN"));
  EXPECT_TRUE(LooksLikeReason("CERT_NOT_YET_VALID"));
  EXPECT_TRUE(LooksLikeReason("SHA256_BAD"));
  EXPECT_FALSE(LooksLikeReason("A"));
  EXPECT_FALSE(LooksLikeReason("AUTH_"));
  EXPECT_FALSE(LooksLikeReason("_X"));
  EXPECT_FALSE(LooksLikeReason("A__B"));
  EXPECT_FALSE(LooksLikeReason("Label_Bad"));
  EXPECT_FALSE(LooksLikeReason("2FA_FAILED"));
  EXPECT_FALSE(LooksLikeReason("bad input"));
}

TEST(ReasonScannerTest, FindsReasonsInEveryReasonPosition) {
  const std::string snippet = R"cc(
    return InvalidArgument("R_HELPER", "message " + name);
    return Status(Code::kExpired, "R_STATUS", "expired at " + when);
    const Status why(Code::kResourceExhausted, "R_NAMED_STATUS", "split over lines");
    return {Code::kInternal, "R_BRACE", "m"};
    return Status(st.code(), "R_VARIABLE_CODE", st.message());
    return LineFailure(r.line, "R_LINE_FAILURE", "m");
    return RangeFailure(first, last, cp.file, "R_RANGE_FAILURE", "m");
    return Fail(err, NotFound("R_NESTED", "m"), kExitInvalid);
    d.reason = "R_ASSIGNED";
    info.error_reason = reason.empty() ? "R_TERNARY" : reason;
    if (st.reason() == "R_COMPARED") return;
    j = {{"reason", "R_JSON"}, {"explanation", "m"}};
    spdlog::warn("event=x reason={}", ok ? "R_LOGGED" : st.reason());
    auto bytes = ReadFileCapped(path, kMax, "R_PREFIX");
  )cc";
  const std::set<std::string> found = Reasons(ScanReasons(snippet, "snippet.cc"));
  const std::set<std::string> expected = {
      "R_HELPER",   "R_VARIABLE_CODE",    "R_STATUS",        "R_NAMED_STATUS",
      "R_BRACE",    "R_LINE_FAILURE",     "R_RANGE_FAILURE", "R_NESTED",
      "R_ASSIGNED", "R_TERNARY",          "R_COMPARED",      "R_JSON",
      "R_LOGGED",   "R_PREFIX_NOT_FOUND", "R_PREFIX_READ",   "R_PREFIX_TOO_LARGE"};
  EXPECT_EQ(found, expected);
}

TEST(ReasonScannerTest, IgnoresCommentsMessagesAndOtherLiterals) {
  const std::string snippet = R"cc(
    // return InvalidArgument("IN_LINE_COMMENT", "m");
    /* return InvalidArgument("IN_BLOCK_COMMENT", "m"); */
    return InvalidArgument(reason, "NOT A REASON: a message");
    return InvalidArgument(std::string(kPrefix) + "_X", Describe("NESTED_ELSEWHERE"));
    constexpr char kIdentifier[] = "TLCB";
    out << (ok ? "PASS" : "FAIL");
    const char* sql = R"sql(SELECT "COLUMN_NAME" FROM t)sql";
    if (word == "NOFORN" || word == "NF") return;
  )cc";
  EXPECT_TRUE(ScanReasons(snippet, "snippet.cc").empty());
}

TEST(ReasonScannerTest, ReportsLineAndCode) {
  const std::string snippet =
      "int a;\n"
      "// \"comment\"\n"
      "Status s = PermissionDenied(\n"
      "    \"R_DENIED\", \"m\");\n"
      "Status t(Code::kUnavailable, \"R_LATER\", \"m\");\n";
  const std::vector<ReasonUse> uses = ScanReasons(snippet, "x.cc");
  ASSERT_EQ(uses.size(), 2u);
  EXPECT_EQ(uses[0].reason, "R_DENIED");
  EXPECT_EQ(uses[0].line, 4);
  EXPECT_EQ(uses[0].code, "kPermissionDenied");
  EXPECT_EQ(uses[0].file, "x.cc");
  EXPECT_EQ(uses[1].reason, "R_LATER");
  EXPECT_EQ(uses[1].line, 5);
  EXPECT_EQ(uses[1].code, "kUnavailable");
}

// The check the source-tree test relies on: a new reason that is not registered is named.
TEST(ReasonScannerTest, AnUnregisteredNewReasonIsReported) {
  const std::string snippet =
      "if (bad) return InvalidArgument(\"LABEL_UNKNOWN_CODE\", \"registered\");\n"
      "if (worse) return InvalidArgument(\"NEW_REASON\", \"not registered yet\");\n";
  EXPECT_EQ(Unregistered(ScanReasons(snippet, "core/labels/src/new.cc")),
            std::vector<std::string>{"NEW_REASON (core/labels/src/new.cc:2)"});
}

TEST(ReasonScannerTest, FindsHelpersThatTakeAReason) {
  const std::string snippet =
      "Status Refuse(const std::string& reason, std::string message);\n"
      "Result<int> Load(const char* path, std::string_view reason_prefix = \"X\") {\n"
      "  return Refuse(reason_prefix, path);\n"
      "}\n"
      "void Use() {\n"
      "  if (const auto* reason = Find(j)) Count(*reason);\n"
      "  return Status(c, *reason, message);\n"
      "  auto s = Refuse(std::move(reason), \"m\");\n"
      "}\n";
  const std::vector<testing::ReasonParameter> found =
      testing::FindReasonParameters(snippet, "h.cc");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].function, "Refuse");
  EXPECT_EQ(found[0].line, 1);
  EXPECT_EQ(found[1].function, "Load");
  EXPECT_EQ(found[1].line, 2);
}

// --- The sources against the registry --------------------------------------------------------

TEST(ReasonsTest, EveryReasonTheSourcesCanEmitIsRegistered) {
  const std::vector<ReasonUse> uses = testing::ScanSourceTree(TEARLINE_SOURCE_DIR, kSourceDirs);
  // A scanner that silently stopped matching would pass everything: it must see most reasons.
  ASSERT_GT(Reasons(uses).size(), 250u);
  const std::vector<std::string> missing = Unregistered(uses);
  EXPECT_TRUE(missing.empty()) << "reasons emitted but not registered in "
                                  "core/base/src/reasons.cc:\n  "
                               << ::testing::PrintToString(missing);
}

// Functions with a reason-named parameter whose reasons the scanner does not need to read: the
// Status constructor (read through its `Code::k...` argument), the release rules (their names are
// checked above) and readers of reasons.
const std::set<std::string> kReasonParametersNotEmitting = {"Status", "Deny", "DenyReasonName",
                                                            "IsTransientSubmitFailure"};

// A new helper that takes a reason hides its callers' reasons from the scanner until it is
// taught about it; this test finds such helpers.
TEST(ReasonsTest, EveryHelperTakingAReasonIsKnownToTheScanner) {
  const std::vector<std::string> known = testing::KnownReasonHelpers();
  std::vector<std::string> unknown;
  for (const testing::ReasonParameter& p :
       testing::FindReasonParametersInTree(TEARLINE_SOURCE_DIR, kSourceDirs)) {
    if (std::find(known.begin(), known.end(), p.function) == known.end() &&
        !kReasonParametersNotEmitting.contains(p.function)) {
      unknown.push_back(p.function + " (" + p.file + ":" + std::to_string(p.line) + ")");
    }
  }
  EXPECT_TRUE(unknown.empty()) << "add these to kReasonFunctions or PrefixFunctions() in "
                                  "tests/support/reason_scanner.cc: "
                               << ::testing::PrintToString(unknown);
}

// Emission sites that give a reason another Code than the registry's (the registry holds the
// usual one). New sites must agree with the registry; these are known and left for their owners.
const std::set<std::pair<std::string, std::string>> kKnownCodeExceptions = {
    {"REPORT_EXPIRED", "broker/src/broker.cc"},          // kInvalidArgument on submit.
    {"CHECKPOINT_UNAVAILABLE", "broker/src/broker.cc"},  // kInvalidArgument for CheckpointRequest.
    {"STORE_CORRUPT", "broker/src/broker.cc"},           // kInternal for a stored reply.
    {"INBOX_CORRUPT", "node/src/inbox_store.cc"},        // kResourceExhausted when oversized.
    {"KEY_INVALID", "core/crypto/src/keys.cc"},          // kInternal when libsodium fails.
};

TEST(ReasonsTest, EmissionSitesUseTheRegisteredCode) {
  std::vector<std::string> wrong;
  std::set<std::pair<std::string, std::string>> excused;
  for (const ReasonUse& use : testing::ScanSourceTree(TEARLINE_SOURCE_DIR, kSourceDirs)) {
    const ReasonInfo* info = FindReason(use.reason);
    if (info == nullptr || use.code.empty()) continue;
    const std::string registered = "k" + [&] {
      // CodeName gives "INVALID_ARGUMENT"; compare against the enumerator spelling.
      std::string out;
      bool upper = true;
      for (char c : CodeName(info->status_class)) {
        if (c == '_') {
          upper = true;
          continue;
        }
        out += upper ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        upper = false;
      }
      return out;
    }();
    if (use.code == registered) continue;
    if (kKnownCodeExceptions.contains({use.reason, use.file})) {
      excused.insert({use.reason, use.file});
    } else {
      wrong.push_back(use.reason + " is " + use.code + " at " + use.file + ":" +
                      std::to_string(use.line) + ", registered as " + registered);
    }
  }
  EXPECT_TRUE(wrong.empty()) << ::testing::PrintToString(wrong);
  // An exception that no longer occurs is removed, so the list only shrinks.
  for (const auto& exception : kKnownCodeExceptions) {
    EXPECT_TRUE(excused.contains(exception))
        << exception.first << " in " << exception.second << " now uses the registered Code";
  }
}

// --- The documents against the registry ------------------------------------------------------

struct DocReason {
  std::string code;
  std::string status_class;  // The row's Code column; empty when the table has none.
  std::string where;         // "docs/X.md:line".
};

std::vector<std::string> SplitRow(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {  // Skip the leading '|'.
    if (line[i] == '|' && line[i - 1] != '\\') {
      const auto b = cell.find_first_not_of(' ');
      const auto e = cell.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

// Reasons in the "Reason" column of every Markdown table that has one.
std::vector<DocReason> DocumentedReasons(const std::string& doc) {
  std::vector<DocReason> out;
  std::istringstream in(ReadText(testing::SourcePath(doc)));
  std::string line;
  int n = 0;
  int reason_col = -1;
  int code_col = -1;
  bool in_table = false;
  const std::regex code_re("`([A-Z][A-Z0-9_]*)`");
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] != '|') {
      in_table = false;
      continue;
    }
    const std::vector<std::string> cells = SplitRow(line);
    if (!in_table) {  // Header row.
      in_table = true;
      reason_col = code_col = -1;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (cells[i] == "Reason") reason_col = static_cast<int>(i);
        if (cells[i] == "Code") code_col = static_cast<int>(i);
      }
      continue;
    }
    if (reason_col < 0 || static_cast<std::size_t>(reason_col) >= cells.size()) continue;
    const std::string& cell = cells[static_cast<std::size_t>(reason_col)];
    for (std::sregex_iterator it(cell.begin(), cell.end(), code_re), end; it != end; ++it) {
      if (!LooksLikeReason((*it)[1].str())) continue;
      out.push_back({(*it)[1].str(),
                     code_col >= 0 && static_cast<std::size_t>(code_col) < cells.size()
                         ? cells[static_cast<std::size_t>(code_col)]
                         : "",
                     doc + ":" + std::to_string(n)});
    }
  }
  return out;
}

TEST(ReasonsTest, DocsReasonTablesListExactlyTheRegisteredReasons) {
  std::map<std::string, std::vector<DocReason>> documented;
  for (const std::string& doc : kReasonDocs) {
    for (DocReason& d : DocumentedReasons(doc)) documented[d.code].push_back(std::move(d));
  }
  for (const ReasonInfo& info : AllReasons()) {
    EXPECT_TRUE(documented.contains(std::string(info.code)))
        << info.code << " is registered but in no reason table of docs/PROTOCOL.md or "
        << "docs/AUDIT.md";
  }
  for (const auto& [code, rows] : documented) {
    const ReasonInfo* info = FindReason(code);
    for (const DocReason& row : rows) {
      ASSERT_NE(info, nullptr) << code << " (" << row.where << ") is documented but not "
                               << "registered";
      if (!row.status_class.empty()) {
        EXPECT_EQ(row.status_class, CodeName(info->status_class))
            << code << " at " << row.where << " documents another Code than the registry";
      }
    }
  }
}

}  // namespace
}  // namespace tearline
