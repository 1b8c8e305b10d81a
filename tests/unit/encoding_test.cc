#include "tearline/base/encoding.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tearline {
namespace {

std::vector<std::uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(EncodingTest, HexRoundTrips) {
  const std::vector<std::uint8_t> bytes{0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  EXPECT_EQ(ToHex(bytes), "00017f80abff");
  auto back = FromHex("00017f80abff");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, bytes);
  EXPECT_EQ(ToHex({}), "");
  EXPECT_TRUE(FromHex("")->empty());
}

TEST(EncodingTest, HexRefusesNonCanonicalText) {
  for (const char* bad : {"0", "ABCD", "0g", " 00", "00 "}) {
    auto r = FromHex(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().reason(), "HEX_INVALID");
  }
}

// RFC 4648 section 10 test vectors.
TEST(EncodingTest, Base64MatchesRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(Bytes(plain)), encoded);
    auto back = Base64Decode(encoded);
    ASSERT_TRUE(back.ok()) << encoded;
    EXPECT_EQ(*back, Bytes(plain));
  }
}

TEST(EncodingTest, Base64RefusesNonCanonicalText) {
  // Missing padding, stray whitespace, non-zero trailing bits (a second spelling of "f").
  for (const char* bad : {"Zg", "Zg== ", "Z g==", "Zh=="}) {
    auto r = Base64Decode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().reason(), "BASE64_INVALID");
  }
}

}  // namespace
}  // namespace tearline
