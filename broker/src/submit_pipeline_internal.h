// Internal to SubmitPipeline (submit_pipeline.cc, submit_forward.cc): the values its steps pass
// along. Not a public header.
#ifndef TEARLINE_BROKER_SRC_SUBMIT_PIPELINE_INTERNAL_H_
#define TEARLINE_BROKER_SRC_SUBMIT_PIPELINE_INTERNAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/broker/routing.h"
#include "tearline/broker/submit_pipeline.h"
#include "tearline/envelope/forward.h"

namespace tearline::broker {

struct SubmitPipeline::Admitted {
  ReportView view;
  std::string id_hex;
  std::string digest;     // SHA-256 hex of the exact submitted bytes.
  std::string submitter;  // The authenticated node: the store's originator and quota key.
  // Set for a forward: `view` is then its report with the forward id and the target nation.
  std::optional<ForwardView> forward;
};

// One recipient's copy, or why the whole recipient is denied.
struct SubmitPipeline::PreparedCopy {
  std::vector<std::uint8_t> bytes;
  Status denied;
};

// Per recipient of the plan (same order): its prepared copy.
struct SubmitPipeline::Prepared {
  RoutingPlan plan;
  std::vector<PreparedCopy> copies;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_SRC_SUBMIT_PIPELINE_INTERNAL_H_
