// Finds the reason codes that Tearline's sources can emit, so a test can hold them against the
// reason registry (tearline/base/reasons.h) and the documentation.
//
// The scanner reads C++ text, not a parsed program: it skips comments, tokenizes string literals
// and identifiers, and takes an ALL_CAPS_WITH_UNDERSCORES string literal as a reason when it
// stands in reason position:
//   - an argument of a call to a Status-building function or a local helper that takes a reason
//     (InvalidArgument("X", ...), LineFailure(line, "X", ...), SetState(..., "X", ...), ...);
//   - the argument after `Code::k...` in any argument or brace list (Status(Code::kExpired, "X"),
//     Status why(Code::k..., "X"), {Code::k..., "X", ...}), and the second argument of any Status
//     construction (Status(st.code(), "X", ...));
//   - an argument of a spdlog call (a reason that is only logged);
//   - the right-hand side of an assignment to, or a comparison with, a name ending in `reason`
//     (`d.reason = "X"`, `status.reason() == "X"`);
//   - the value of a `{"reason", "X"}` JSON member;
//   - the prefix given to a helper that builds reasons from it (ReadFileCapped(path, max, "CERT")
//     stands for CERT_NOT_FOUND, CERT_READ and CERT_TOO_LARGE).
// Inside an argument, literals nested in a further call are not taken (that call is judged by
// itself), but both branches of a conditional are. Reasons that come from tables rather than
// literals (DenyReasonName) are the registry test's business.
//
// Thread-safety: pure functions.
#ifndef TEARLINE_TESTS_REASON_SCANNER_H_
#define TEARLINE_TESTS_REASON_SCANNER_H_

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tearline::testing {

struct ReasonUse {
  std::string reason;
  std::string file;  // As given to ScanReasons (relative to the source root for ScanSourceTree).
  int line = 0;      // 1-based.
  // The Code the emitting call gives the reason, e.g. "kInvalidArgument", when the call says it
  // (InvalidArgument(...), Status(Code::k..., ...)); empty when the scanner cannot tell.
  std::string code;
};

// True for "ABC" or "ABC_DEF_2": an upper-case letter, then upper-case letters, digits and single
// inner underscores; at least two characters.
bool LooksLikeReason(std::string_view text);

// Every reason in reason position in one C++ source text.
std::vector<ReasonUse> ScanReasons(std::string_view source, std::string_view file);

// A function that declares a parameter named like a reason (`reason`, `reason_prefix`, `prefix`):
// a helper whose callers pass reasons. The scanner only sees reasons passed to helpers it knows,
// so a test holds these against KnownReasonHelpers().
struct ReasonParameter {
  std::string function;  // The declared function's name ("" for a lambda).
  std::string file;
  int line = 0;
};

// Every declaration or definition in `source` with a reason-named parameter.
std::vector<ReasonParameter> FindReasonParameters(std::string_view source, std::string_view file);

// Names of the functions whose arguments the scanner reads reasons from (directly or as prefixes).
std::vector<std::string> KnownReasonHelpers();

// ScanReasons over every .h and .cc file below `root`/`dir` for each dir in `dirs`.
std::vector<ReasonUse> ScanSourceTree(const std::filesystem::path& root,
                                      const std::vector<std::string>& dirs);

// FindReasonParameters over the same files.
std::vector<ReasonParameter> FindReasonParametersInTree(const std::filesystem::path& root,
                                                        const std::vector<std::string>& dirs);

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_REASON_SCANNER_H_
