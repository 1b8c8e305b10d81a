#include "tearline/node/provenance_args.h"

#include <algorithm>
#include <cctype>

#include "tearline/envelope/envelope.h"

namespace tearline::node {
namespace {

Status BadArg(const std::string& message) {
  return InvalidArgument("SEND_BAD_DERIVED_FROM", message);
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

Result<DerivedFromRef> ParseDerivedFrom(std::string_view text) {
  const std::string hint = "--derived-from '" + std::string(text.substr(0, 80)) +
                           "' must be ID:N, a report id from `tearline-node inbox` and a portion "
                           "number from 1, e.g. --derived-from 3f2a9c1e:1";
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return BadArg(hint);
  const std::string_view id = text.substr(0, colon);
  const std::string_view num = text.substr(colon + 1);
  if (id.size() < 4 || id.size() > 2 * kReportIdBytes || !IsHex(id)) return BadArg(hint);
  if (num.empty() || num.size() > 2 || !std::all_of(num.begin(), num.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    return BadArg(hint);
  }
  const unsigned n = static_cast<unsigned>(std::stoul(std::string(num)));
  if (n == 0 || n > kMaxPortions) return BadArg(hint);
  std::string lower(id);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return DerivedFromRef{std::move(lower), n - 1};
}

Result<std::vector<PortionProvenanceArgs>> AttributeProvenance(
    std::span<const SendArgKind> order, std::span<const std::string> derived_from,
    std::span<const std::string> overrides, std::size_t portion_count) {
  std::vector<PortionProvenanceArgs> out(portion_count);
  std::size_t portion_values = 0;
  std::size_t next_derived = 0;
  std::size_t next_override = 0;
  for (SendArgKind kind : order) {
    if (kind == SendArgKind::kPortionValue) {
      ++portion_values;
      continue;
    }
    const std::size_t portions_seen = portion_values / 2;
    if (portions_seen == 0 || portions_seen > portion_count) {
      return BadArg(std::string(kind == SendArgKind::kDerivedFrom ? "--derived-from"
                                                                  : "--override-provenance") +
                    " applies to the --portion it follows; give it after that --portion");
    }
    PortionProvenanceArgs& p = out[portions_seen - 1];
    const std::string where = "portion " + std::to_string(portions_seen);
    if (kind == SendArgKind::kDerivedFrom) {
      if (next_derived >= derived_from.size()) return BadArg("--derived-from without a value");
      auto ref = ParseDerivedFrom(derived_from[next_derived++]);
      if (!ref.ok()) return ref.status();
      if (p.derived_from.size() >= kMaxSourcesPerPortion) {
        return BadArg(where + " has more than " + std::to_string(kMaxSourcesPerPortion) +
                      " --derived-from sources");
      }
      p.derived_from.push_back(std::move(ref).value());
    } else {
      if (next_override >= overrides.size()) return BadArg("--override-provenance without a value");
      const std::string& why = overrides[next_override++];
      if (!p.override_reason.empty()) return BadArg(where + " has two --override-provenance");
      if (why.empty() || why.size() > kMaxOverrideReasonBytes ||
          !std::all_of(why.begin(), why.end(), [](char c) { return c >= 0x20 && c <= 0x7e; })) {
        return BadArg(where + ": --override-provenance needs a reason of 1 to " +
                      std::to_string(kMaxOverrideReasonBytes) + " printable characters");
      }
      p.override_reason = why;
    }
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!out[i].override_reason.empty() && out[i].derived_from.empty()) {
      return BadArg("portion " + std::to_string(i + 1) +
                    ": --override-provenance needs --derived-from on the same portion");
    }
  }
  return out;
}

}  // namespace tearline::node
