// Untrusted text rendered for terminals, CSV and JSON lines: nothing in it can start a line, move
// the cursor, reorder what is shown or become a formula, and plain text is left alone.
#include "tearline/base/safe_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "hostile_audit.h"

namespace tearline {
namespace {

using testing::HasTerminalControl;
using testing::kHostileTexts;

TEST(SafeTextTest, PlainTextIsUnchanged) {
  EXPECT_EQ(TerminalSafe("(S//REL TO USA, GBR) Überwachung 監視"),
            "(S//REL TO USA, GBR) Überwachung 監視");
  EXPECT_EQ(CsvCell("usa-node"), "usa-node");
  const std::string line = R"({"a":"é","seq":1})";
  EXPECT_EQ(JsonLineSafe(line), line);
}

TEST(SafeTextTest, ControlsAreEscapedVisibly) {
  EXPECT_EQ(TerminalSafe("a\nb\rc\td\\e"), "a\\nb\\rc\\td\\\\e");
  EXPECT_EQ(TerminalSafe("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(TerminalSafe("x\x7f"), "x\\x7f");
  EXPECT_EQ(TerminalSafe("\xc2\x9b"), "\\u{009b}");
  EXPECT_EQ(TerminalSafe("\xe2\x80\xae"
                         "abc"),
            "\\u{202e}abc");
  EXPECT_EQ(TerminalSafe("\xe2\x80\xa8"), "\\u{2028}");
  // Invalid UTF-8: a lone continuation byte, an overlong '/', a truncated sequence.
  EXPECT_EQ(TerminalSafe("\x80"), "\\x80");
  EXPECT_EQ(TerminalSafe("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(TerminalSafe("\xe2\x80"), "\\xe2\\x80");
  for (const std::string& hostile : kHostileTexts) {
    EXPECT_FALSE(HasTerminalControl(TerminalSafe(hostile), false)) << hostile;
  }
}

TEST(SafeTextTest, CsvCellsCannotStartAFormulaOrARow) {
  EXPECT_EQ(CsvCell("=1+1"), "'=1+1");
  EXPECT_EQ(CsvCell("+cmd"), "'+cmd");
  EXPECT_EQ(CsvCell("-2"), "'-2");
  EXPECT_EQ(CsvCell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvCell("a,\"b\""), "\"a,\"\"b\"\"\"");
  EXPECT_EQ(CsvCell("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
  EXPECT_EQ(CsvCell("a\nb"), "a\\nb");
  for (const std::string& hostile : kHostileTexts) {
    const std::string cell = CsvCell(hostile);
    EXPECT_FALSE(HasTerminalControl(cell, false)) << cell;
    const char first = cell[0] == '"' ? cell[1] : cell[0];
    EXPECT_EQ(std::string("=+-@").find(first), std::string::npos) << cell;
  }
}

TEST(SafeTextTest, JsonLinesKeepTheirValue) {
  for (const std::string& hostile : kHostileTexts) {
    const std::string line = nlohmann::json{{"explanation", hostile}}.dump();
    const std::string safe = JsonLineSafe(line);
    EXPECT_FALSE(HasTerminalControl(safe, false)) << safe;
    const auto parsed = nlohmann::json::parse(safe, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << safe;
    EXPECT_EQ(parsed.at("explanation"), hostile);
  }
  // Raw whitespace between tokens stays whitespace.
  EXPECT_EQ(JsonLineSafe("{\"a\":\r1}"), "{\"a\": 1}");
}

}  // namespace
}  // namespace tearline
