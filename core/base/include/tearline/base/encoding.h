// Text encodings of byte strings, written once for every layer: lowercase hex and standard
// base64 (RFC 4648 section 4, with padding).
//
// Decoders accept exactly one spelling per byte string (canonical form), so a signed or hashed
// text cannot be malleated by re-encoding it. Cost: linear in the input.
// Thread-safety: free functions without shared state.
#ifndef TEARLINE_BASE_ENCODING_H_
#define TEARLINE_BASE_ENCODING_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"

namespace tearline {

// Lowercase hex, two digits per byte.
std::string ToHex(std::span<const std::uint8_t> bytes);

// Inverse of ToHex. Lowercase only, even length, nothing else.
// Errors: HEX_INVALID (Code::kInvalidArgument).
Result<std::vector<std::uint8_t>> FromHex(std::string_view hex);

// Standard base64 with padding.
std::string Base64Encode(std::span<const std::uint8_t> bytes);

// Inverse of Base64Encode; refuses anything Base64Encode would not produce.
// Errors: BASE64_INVALID (Code::kInvalidArgument).
Result<std::vector<std::uint8_t>> Base64Decode(std::string_view text);

}  // namespace tearline

#endif  // TEARLINE_BASE_ENCODING_H_
