#include "control_json.h"

#include <utility>

namespace tearline::node::control_detail {

Status Malformed(const std::string& what) {
  return InvalidArgument("CONTROL_MALFORMED", "control message: " + what);
}

Result<json> ParseObject(std::string_view text) {
  if (text.size() > kMaxControlMessageBytes) {
    return Status(
        Code::kResourceExhausted, "CONTROL_TOO_LARGE",
        "control message larger than " + std::to_string(kMaxControlMessageBytes) + " bytes");
  }
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Malformed("not a JSON object");
  return j;
}

// Optional typed field lookups; nullopt when missing or of another type.
std::optional<std::string> GetString(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
std::optional<std::uint64_t> GetUnsigned(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}
std::optional<std::int64_t> GetInteger(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}
std::optional<bool> GetBool(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

std::string OkResponse(json result) {
  return json{{"ok", true}, {"result", std::move(result)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Unwraps {"ok":true,"result":{...}} or turns {"ok":false,...} back into a Status.
Result<json> ResultOf(std::string_view text) {
  TEARLINE_ASSIGN_OR_RETURN(json j, ParseObject(text));
  auto ok = GetBool(j, "ok");
  if (!ok) return Malformed("response without 'ok'");
  if (!*ok) {
    auto reason = GetString(j, "reason");
    auto message = GetString(j, "message");
    auto code = GetInteger(j, "code");
    if (!reason || reason->empty() || !message) return Malformed("error response without reason");
    Code c = Code::kInternal;
    if (code && *code > 0 && *code <= static_cast<int>(Code::kInternal)) {
      c = static_cast<Code>(*code);
    }
    return Status(c, *reason, *message);
  }
  auto it = j.find("result");
  if (it == j.end()) return Malformed("response without 'result'");
  return std::move(*it);
}

namespace {

std::optional<schema::DeliveryState> StateFromName(std::string_view name) {
  for (auto s : {schema::DeliveryState::Delivered, schema::DeliveryState::Queued,
                 schema::DeliveryState::Denied}) {
    if (DeliveryStateName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace

Result<RecipientOutcomeInfo> OutcomeFromJsonImpl(const json& j, std::uint32_t base) {
  if (!j.is_object()) return Malformed("outcome is not an object");
  RecipientOutcomeInfo o;
  auto nation = GetString(j, "nation");
  auto node_id = GetString(j, "node_id");
  auto state = GetString(j, "state");
  auto reason = GetString(j, "reason");
  auto explanation = GetString(j, "explanation");
  if (!nation || !node_id || !state || !reason || !explanation) {
    return Malformed("outcome lacks nation, node_id, state, reason or explanation");
  }
  auto st = StateFromName(*state);
  if (!st) return Malformed("unknown delivery state '" + *state + "'");
  o.nation = *nation;
  o.node_id = *node_id;
  o.state = *st;
  o.reason = *reason;
  o.explanation = *explanation;
  auto portions = j.find("portions");
  if (portions == j.end() || !portions->is_array()) return Malformed("outcome without portions");
  for (const auto& p : *portions) {
    if (!p.is_number_unsigned() || p.get<std::uint64_t>() > 0xffffffffu ||
        p.get<std::uint64_t>() < base) {
      return Malformed("portion number out of range");
    }
    o.portions.push_back(p.get<std::uint32_t>() - base);
  }
  auto withheld = j.find("withheld");
  if (withheld == j.end() || !withheld->is_array()) return Malformed("outcome without withheld");
  for (const auto& w : *withheld) {
    if (!w.is_object()) return Malformed("withheld entry is not an object");
    auto index = GetUnsigned(w, "portion");
    auto label = GetString(w, "label");
    auto wreason = GetString(w, "reason");
    auto wexpl = GetString(w, "explanation");
    if (!index || *index > 0xffffffffu || *index < base || !label || !wreason || !wexpl) {
      return Malformed("withheld entry lacks portion, label, reason or explanation");
    }
    o.denials.push_back({static_cast<std::uint32_t>(*index - base), *label, *wreason, *wexpl});
  }
  if (j.contains("record_seq")) {
    auto seq = GetUnsigned(j, "record_seq");
    if (!seq) return Malformed("outcome record_seq is not a number");
    o.record_seq = *seq;
  }
  return o;
}

}  // namespace tearline::node::control_detail
