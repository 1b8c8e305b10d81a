#include "tearline/labels/release_plan.h"

#include <utility>

namespace tearline {

std::string_view WithheldPortion::ReasonCode() const {
  return error.ok() ? DenyReasonName(reason) : std::string_view(error.reason());
}

std::string_view WithheldPortion::Explanation() const {
  return error.ok() ? std::string_view(explanation) : std::string_view(error.message());
}

std::vector<std::size_t> ReleasePlan::RecipientsOf(std::size_t portion) const {
  std::vector<std::size_t> out;
  for (std::size_t r = 0; r < recipients.size(); ++r) {
    for (std::size_t i : recipients[r].released) {
      if (i == portion) {
        out.push_back(r);
        break;
      }
    }
  }
  return out;
}

ReleasePlan PlanRelease(std::span<const Label> portions, std::span<const Recipient> recipients,
                        const Policy& policy) {
  ReleasePlan plan;
  plan.recipients.reserve(recipients.size());
  for (const Recipient& who : recipients) {
    RecipientRelease r;
    for (std::size_t i = 0; i < portions.size(); ++i) {
      auto decision = DecideRelease(portions[i], who, policy);
      if (!decision.ok()) {
        r.withheld.push_back({i, DenyReason::kNone, "", decision.status()});
      } else if (decision->release) {
        r.released.push_back(i);
      } else {
        r.withheld.push_back({i, decision->reason, std::move(decision->explanation), Status::Ok()});
      }
    }
    plan.recipients.push_back(std::move(r));
  }
  return plan;
}

}  // namespace tearline
