// Shared plumbing for Tearline's command-line tools: exit codes, one-line errors and policy
// loading. Thread-safety: not applicable (used from main threads only).
#ifndef TEARLINE_TOOLS_CLI_COMMON_H_
#define TEARLINE_TOOLS_CLI_COMMON_H_

#include <ostream>
#include <string>
#include <string_view>

#include "tearline/base/status.h"
#include "tearline/labels/policy.h"

namespace tearline::tools {

// Exit codes shared by every tool.
inline constexpr int kExitOk = 0;  // Success / positive answer (RELEASE, valid).
inline constexpr int kExitNegative =
    1;                                  // A well-formed question answered "no" (DENY, invalid log).
inline constexpr int kExitInvalid = 2;  // Invalid input or usage.

// Writes "PROGRAM: error: REASON: message" as one line (newlines in the message are flattened).
void PrintError(std::ostream& err, std::string_view program, const Status& status);
void PrintError(std::ostream& err, std::string_view program, std::string_view message);

// Loads `path`, or DefaultPolicyPath() when empty.
Result<Policy> LoadPolicy(const std::string& path);

}  // namespace tearline::tools

#endif  // TEARLINE_TOOLS_CLI_COMMON_H_
