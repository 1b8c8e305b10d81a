// Small text helpers shared by the policy and label parsers (internal to tearline::core).
#ifndef TEARLINE_CORE_SRC_TEXT_UTIL_H_
#define TEARLINE_CORE_SRC_TEXT_UTIL_H_

#include <string>
#include <string_view>

namespace tearline::internal {

// Upper-cases ASCII letters, trims, and collapses runs of whitespace to one space.
std::string NormalizeWords(std::string_view text);

// Strips leading and trailing ASCII whitespace.
std::string_view Trim(std::string_view text);

// Renders a byte string for an error message: printable ASCII as is, the rest as \xNN, truncated.
std::string Printable(std::string_view text, std::size_t max_len = 80);

}  // namespace tearline::internal

#endif  // TEARLINE_CORE_SRC_TEXT_UTIL_H_
