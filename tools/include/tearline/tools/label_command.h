// `tearline-label`: parse, check and roll up security markings from the command line.
//
//   tearline-label parse MARKING [--json]
//   tearline-label check MARKING --to NATION [--clearance LEVEL] [--originator NATION] [--json]
//   tearline-label rollup MARKING... [--json]
//   (all accept --policy FILE)
//
// Exit codes: 0 success / RELEASE, 1 DENY, 2 invalid input (one line on stderr).
// Other tools and scripts rely on this output format; change it only with the docs.
#ifndef TEARLINE_TOOLS_LABEL_COMMAND_H_
#define TEARLINE_TOOLS_LABEL_COMMAND_H_

#include <nlohmann/json.hpp>
#include <ostream>

#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"

namespace tearline::tools {

int RunLabelCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

// The JSON description of a label used by `--json`: banner, portion, classification, noforn,
// orcon, rel_to (as written), releasable_to (sorted trigraphs; null when unrestricted).
nlohmann::json LabelToJson(const Label& label, const Policy& policy);

}  // namespace tearline::tools

#endif  // TEARLINE_TOOLS_LABEL_COMMAND_H_
