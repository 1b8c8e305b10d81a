// libFuzzer target: marking parser, formatter, release decision and roll-up.
// Properties checked beyond "no crash": canonical output re-parses to the same label (both forms),
// and roll-up of a label with itself is idempotent in classification.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"
#include "tearline/labels/release.h"

namespace {
const tearline::Policy& FuzzPolicy() {
  static const tearline::Policy* policy = [] {
    auto p = tearline::Policy::LoadFile(TEARLINE_DEFAULT_POLICY_FOR_FUZZ);
    if (!p.ok()) std::abort();
    return new tearline::Policy(std::move(p).value());
  }();
  return *policy;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const tearline::Policy& policy = FuzzPolicy();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto marking = tearline::ParseMarking(text, policy);
  if (!marking.ok()) {
    if (marking.status().reason().empty() || marking.status().message().empty()) std::abort();
    return 0;
  }
  const tearline::Label& label = marking->label;
  for (auto form : {tearline::MarkingForm::kBanner, tearline::MarkingForm::kPortion}) {
    std::string canonical = tearline::FormatMarking(label, form, policy);
    auto again = tearline::ParseMarking(canonical, policy);
    if (!again.ok() || !(again->label == label) || again->form != form) std::abort();
    if (tearline::FormatMarking(again->label, form, policy) != canonical) std::abort();
  }
  for (const char* nation : {"USA", "GBR", "JPN", "KOR", "NZL"}) {
    tearline::Recipient r{nation, 3, std::string("USA")};
    auto d = tearline::DecideRelease(label, r, policy);
    if (!d.ok()) std::abort();
  }
  tearline::Label pair[2] = {label, label};
  auto rolled = tearline::Rollup(pair, policy);
  if (!rolled.ok() || rolled->level != label.level) std::abort();
  return 0;
}
