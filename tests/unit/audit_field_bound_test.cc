#include "tearline/audit/audit_field_bound.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace tearline {
namespace {

using nlohmann::json;

TEST(AuditFieldBoundTest, ShortCleanTextIsUnchanged) {
  EXPECT_EQ(BoundAuditText("QUEUE_FULL: gbr-1 has 10 pending copies"),
            "QUEUE_FULL: gbr-1 has 10 pending copies");
  EXPECT_EQ(BoundAuditText("(S//REL TO USA, GBR) é ü 日本"), "(S//REL TO USA, GBR) é ü 日本");
}

TEST(AuditFieldBoundTest, LongTextIsCutWithAMarkerAtACharacterBoundary) {
  const std::string text(3000, 'a');
  const std::string out = BoundAuditText(text, 1024);
  EXPECT_LE(out.size(), 1024u);
  EXPECT_NE(out.find("...[truncated "), std::string::npos) << out;
  const std::size_t shown = out.find("...[truncated ");
  EXPECT_EQ(out.substr(shown), "...[truncated " + std::to_string(3000 - shown) + " bytes]");
  // Multi-byte characters are never split.
  std::string wide;
  for (int i = 0; i < 1000; ++i) wide += "日";
  const std::string cut = BoundAuditText(wide, 1024);
  EXPECT_LE(cut.size(), 1024u);
  EXPECT_EQ(cut.find("...[") % 3, 0u);
  EXPECT_TRUE(json(cut).dump().find("\\u") == std::string::npos);
}

TEST(AuditFieldBoundTest, ControlsBidiAndInvalidUtf8BecomeReplacementCharacters) {
  const std::string out = BoundAuditText(std::string("ok\r\x1b[2Jfake\xe2\x80\xae"
                                                     "evil\xff\xc3") +
                                         std::string(1, '\0') + "\x7f");
  EXPECT_EQ(out,
            "ok\xEF\xBF\xBD\xEF\xBF\xBD[2Jfake\xEF\xBF\xBD"
            "evil\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(AuditFieldBoundTest, BoundsEveryStringAtAnyDepth) {
  json fields = {{"explanation", std::string(5000, 'x')},
                 {"portions", json::array({{{"label", std::string(4000, 'y')}}})},
                 {"count", 3}};
  BoundAuditFields(fields);
  EXPECT_LE(fields["explanation"].get<std::string>().size(), kMaxAuditStringBytes);
  EXPECT_LE(fields["portions"][0]["label"].get<std::string>().size(), kMaxAuditStringBytes);
  EXPECT_EQ(fields["count"], 3);
  EXPECT_FALSE(fields.contains(std::string(kAuditTruncatedKey)));
}

TEST(AuditFieldBoundTest, ARecordOverTheLineCapIsShortenedAndMarked) {
  json fields = {{"reason", "X"}, {"list", json::array()}};
  for (int i = 0; i < 5000; ++i) fields["list"].push_back(std::string(200, 'z'));
  ASSERT_TRUE(ShrinkAuditFieldsToFit(fields, 64 * 1024));
  EXPECT_LE(fields.dump().size(), 64u * 1024);
  EXPECT_EQ(fields[std::string(kAuditTruncatedKey)], true);
  EXPECT_EQ(fields["reason"], "X");
  EXPECT_FALSE(fields["list"].empty());
  // A record that fits is left alone.
  json small = {{"reason", "Y"}};
  ASSERT_TRUE(ShrinkAuditFieldsToFit(small, 1024));
  EXPECT_EQ(small, json({{"reason", "Y"}}));
}

}  // namespace
}  // namespace tearline
