// Shared plumbing for Tearline's command-line tools: policy loading, and the exit codes and
// one-line errors every Tearline program shares (tearline/cli). Thread-safety: not applicable
// (used from main threads only).
#ifndef TEARLINE_TOOLS_CLI_COMMON_H_
#define TEARLINE_TOOLS_CLI_COMMON_H_

#include <string>

#include "tearline/base/status.h"
#include "tearline/cli/command_line.h"
#include "tearline/cli/exit_codes.h"
#include "tearline/labels/policy.h"

namespace tearline::tools {

using cli::kExitInvalid;
using cli::kExitNegative;
using cli::kExitOk;
using cli::ParseCommandLine;
using cli::PrintError;

// Loads `path`, or DefaultPolicyPath() when empty.
Result<Policy> LoadPolicy(const std::string& path);

}  // namespace tearline::tools

#endif  // TEARLINE_TOOLS_CLI_COMMON_H_
