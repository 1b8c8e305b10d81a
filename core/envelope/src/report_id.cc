#include "tearline/envelope/report_id.h"

#include <algorithm>
#include <span>

namespace tearline {

ReportId TimeOrderedReportId(std::int64_t unix_millis, RandomSource& random) {
  constexpr std::int64_t kMax = (std::int64_t{1} << 48) - 1;
  const auto ms = static_cast<std::uint64_t>(std::clamp<std::int64_t>(unix_millis, 0, kMax));
  ReportId id{};
  for (std::size_t i = 0; i < kReportIdTimeBytes; ++i) {
    id[i] = static_cast<std::uint8_t>(ms >> (8 * (kReportIdTimeBytes - 1 - i)));
  }
  random.Fill(std::span<std::uint8_t>(id).subspan(kReportIdTimeBytes));
  return id;
}

std::int64_t ReportIdMillis(const ReportId& id) {
  std::uint64_t ms = 0;
  for (std::size_t i = 0; i < kReportIdTimeBytes; ++i) ms = (ms << 8) | id[i];
  return static_cast<std::int64_t>(ms);
}

}  // namespace tearline
