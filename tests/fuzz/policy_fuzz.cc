// libFuzzer target: the TOML policy loader must turn any input into a Policy or a typed error.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = tearline::Policy::Parse(text, "fuzz.toml");
  if (!policy.ok()) {
    if (policy.status().reason() != "POLICY_INVALID") std::abort();
    return 0;
  }
  // A policy that loads must be usable: every level and group code parses as a marking.
  for (const auto& level : policy->levels()) {
    auto m = tearline::ParseMarking(level.name, *policy);
    if (!m.ok()) std::abort();
  }
  return 0;
}
