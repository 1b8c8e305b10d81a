#include "tearline/envelope/report_id.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <span>
#include <vector>

#include "tearline/crypto/random_source.h"
#include "tearline/envelope/envelope.h"

namespace tearline {
namespace {

// Hands out a fixed byte pattern and counts the draws, to pin what the id takes from it.
class CountingRandom final : public RandomSource {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    ++fills;
    sizes.push_back(out.size());
    std::fill(out.begin(), out.end(), std::uint8_t{0xAB});
  }
  int fills = 0;
  std::vector<std::size_t> sizes;
};

TEST(ReportIdTest, PrefixIsBigEndianMillisecondsThenTenRandomBytes) {
  CountingRandom random;
  const ReportId id = TimeOrderedReportId(0x0123456789AB, random);
  const ReportId want = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xAB, 0xAB,
                         0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB};
  EXPECT_EQ(id, want);
  EXPECT_EQ(random.fills, 1);
  EXPECT_EQ(random.sizes, std::vector<std::size_t>{10});
  EXPECT_EQ(ReportIdMillis(id), 0x0123456789AB);
}

TEST(ReportIdTest, LaterMillisecondsSortLaterAsBytesAndAsHex) {
  const std::array<std::uint8_t, 32> seed{};
  SeededRandom random(seed);
  const std::int64_t base = 1'800'000'000'000;  // 2027, milliseconds.
  ReportId previous = TimeOrderedReportId(base, random);
  for (std::int64_t step : {1, 2, 255, 256, 65'536, 86'400'000}) {
    const ReportId next = TimeOrderedReportId(base + step, random);
    EXPECT_LT(previous, next) << step;
    EXPECT_LT(ReportIdHex(previous), ReportIdHex(next)) << step;
    previous = next;
  }
}

TEST(ReportIdTest, IdsOfTheSameMillisecondDifferInTheirRandomPart) {
  std::set<ReportId> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(TimeOrderedReportId(1'800'000'000'000, OsRandom()));
  EXPECT_EQ(ids.size(), 1000u);
  for (const ReportId& id : ids) EXPECT_EQ(ReportIdMillis(id), 1'800'000'000'000);
}

TEST(ReportIdTest, TimesOutsideFortyEightBitsAreClamped) {
  CountingRandom random;
  EXPECT_EQ(ReportIdMillis(TimeOrderedReportId(-5, random)), 0);
  EXPECT_EQ(ReportIdMillis(TimeOrderedReportId(std::int64_t{1} << 50, random)),
            (std::int64_t{1} << 48) - 1);
}

}  // namespace
}  // namespace tearline
