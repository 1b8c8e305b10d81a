// Internal to the control protocol codec: the JSON helpers shared by its request side
// (control_protocol.cc) and its response side (control_responses.cc). Not installed.
// Thread-safety: pure functions.
#ifndef TEARLINE_NODE_SRC_CONTROL_JSON_H_
#define TEARLINE_NODE_SRC_CONTROL_JSON_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tearline/base/status.h"
#include "tearline/node/control_protocol.h"

namespace tearline::node::control_detail {

using nlohmann::json;

// CONTROL_MALFORMED naming `what`.
Status Malformed(const std::string& what);
// One JSON object of at most kMaxControlMessageBytes. Errors: CONTROL_TOO_LARGE,
// CONTROL_MALFORMED.
Result<json> ParseObject(std::string_view text);
// Optional typed field lookups; nullopt when missing or of another type.
std::optional<std::string> GetString(const json& j, const char* key);
std::optional<std::uint64_t> GetUnsigned(const json& j, const char* key);
std::optional<std::int64_t> GetInteger(const json& j, const char* key);
std::optional<bool> GetBool(const json& j, const char* key);
// {"ok":true,"result":...}
std::string OkResponse(json result);
// Unwraps {"ok":true,"result":{...}} or turns {"ok":false,...} back into a Status.
Result<json> ResultOf(std::string_view text);
Result<RecipientOutcomeInfo> OutcomeFromJsonImpl(const json& j, std::uint32_t base);

}  // namespace tearline::node::control_detail

#endif  // TEARLINE_NODE_SRC_CONTROL_JSON_H_
