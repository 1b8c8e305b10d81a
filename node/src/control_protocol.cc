#include "tearline/node/control_protocol.h"

#include <sodium.h>

#include <optional>

#include "tearline/secure_memory.h"

namespace tearline::node {
namespace {

using nlohmann::json;

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

std::string_view OpName(ControlOp op) {
  switch (op) {
    case ControlOp::kSend:
      return "send";
    case ControlOp::kInbox:
      return "inbox";
    case ControlOp::kRead:
      return "read";
    case ControlOp::kStatus:
      return "status";
  }
  return "status";
}

std::optional<schema::DeliveryState> StateFromName(std::string_view name) {
  for (auto s : {schema::DeliveryState::Delivered, schema::DeliveryState::Queued,
                 schema::DeliveryState::Denied}) {
    if (DeliveryStateName(s) == name) return s;
  }
  return std::nullopt;
}

Result<RecipientOutcomeInfo> OutcomeFromJson(const json& j) {
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
    if (!p.is_number_unsigned() || p.get<std::uint64_t>() > 0xffffffffu) {
      return Malformed("portion number out of range");
    }
    o.portions.push_back(p.get<std::uint32_t>());
  }
  auto withheld = j.find("withheld");
  if (withheld == j.end() || !withheld->is_array()) return Malformed("outcome without withheld");
  for (const auto& w : *withheld) {
    if (!w.is_object()) return Malformed("withheld entry is not an object");
    auto index = GetUnsigned(w, "portion");
    auto label = GetString(w, "label");
    auto wreason = GetString(w, "reason");
    auto wexpl = GetString(w, "explanation");
    if (!index || *index > 0xffffffffu || !label || !wreason || !wexpl) {
      return Malformed("withheld entry lacks portion, label, reason or explanation");
    }
    o.denials.push_back({static_cast<std::uint32_t>(*index), *label, *wreason, *wexpl});
  }
  return o;
}

}  // namespace

std::string Base64Encode(std::span<const std::uint8_t> bytes) {
  const std::size_t len = sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(len - 1);  // Drop the terminating NUL written by libsodium.
  return out;
}

Result<std::vector<std::uint8_t>> Base64Decode(std::string_view text) {
  if (InitCrypto().ok() == false) return Internal("INTERNAL", "libsodium failed to initialise");
  std::vector<std::uint8_t> out(text.size() / 4 * 3 + 3);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return Malformed("content is not valid base64");
  }
  out.resize(len);
  return out;
}

std::string EncodeControlRequest(const ControlRequest& r) {
  json j{{"v", kControlProtocolVersion}, {"op", OpName(r.op)}};
  if (r.op == ControlOp::kSend) {
    j["to"] = r.to;
    j["timeout_ms"] = r.timeout_ms;
    json portions = json::array();
    for (const auto& p : r.portions) {
      portions.push_back({{"marking", p.marking}, {"content", Base64Encode(p.content)}});
    }
    j["portions"] = std::move(portions);
  } else if (r.op == ControlOp::kRead) {
    j["id"] = r.id;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<ControlRequest> DecodeControlRequest(std::string_view text) {
  TEARLINE_ASSIGN_OR_RETURN(json j, ParseObject(text));
  auto v = GetInteger(j, "v");
  if (!v || *v != kControlProtocolVersion) {
    return InvalidArgument("CONTROL_VERSION", "control protocol version must be " +
                                                  std::to_string(kControlProtocolVersion));
  }
  auto op = GetString(j, "op");
  if (!op) return Malformed("missing 'op'");
  ControlRequest r;
  if (*op == "inbox") {
    r.op = ControlOp::kInbox;
  } else if (*op == "status") {
    r.op = ControlOp::kStatus;
  } else if (*op == "read") {
    r.op = ControlOp::kRead;
    auto id = GetString(j, "id");
    if (!id || id->empty() || id->size() > 64) return Malformed("read needs an 'id'");
    r.id = *id;
  } else if (*op == "send") {
    r.op = ControlOp::kSend;
    auto to = j.find("to");
    if (to == j.end() || !to->is_array() || to->empty()) {
      return Malformed("send needs a non-empty 'to' list");
    }
    for (const auto& n : *to) {
      if (!n.is_string() || n.get<std::string>().empty() || n.get<std::string>().size() > 16) {
        return Malformed("'to' entries must be nation codes");
      }
      r.to.push_back(n.get<std::string>());
    }
    auto timeout = GetUnsigned(j, "timeout_ms");
    if (!timeout || *timeout == 0 || *timeout > kMaxSendTimeoutMs) {
      return Malformed("'timeout_ms' must be between 1 and " + std::to_string(kMaxSendTimeoutMs));
    }
    r.timeout_ms = static_cast<std::uint32_t>(*timeout);
    auto portions = j.find("portions");
    if (portions == j.end() || !portions->is_array() || portions->empty()) {
      return Malformed("send needs a non-empty 'portions' list");
    }
    for (const auto& p : *portions) {
      if (!p.is_object()) return Malformed("portion is not an object");
      auto marking = GetString(p, "marking");
      auto content = GetString(p, "content");
      if (!marking || !content) return Malformed("portion needs 'marking' and 'content'");
      TEARLINE_ASSIGN_OR_RETURN(auto bytes, Base64Decode(*content));
      r.portions.push_back({*marking, std::move(bytes)});
    }
  } else {
    return Malformed("unknown op '" + *op + "'");
  }
  return r;
}

std::string EncodeErrorResponse(const Status& status) {
  return json{{"ok", false},
              {"code", static_cast<int>(status.code())},
              {"reason", status.reason()},
              {"message", status.message()}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

json OutcomeToJson(const RecipientOutcomeInfo& o, std::uint32_t base) {
  json portions = json::array();
  for (auto p : o.portions) portions.push_back(p + base);
  json withheld = json::array();
  for (const auto& d : o.denials) {
    withheld.push_back({{"portion", d.index + base},
                        {"label", d.label},
                        {"reason", d.reason},
                        {"explanation", d.explanation}});
  }
  return {
      {"nation", o.nation},          {"node_id", o.node_id}, {"state", DeliveryStateName(o.state)},
      {"portions", portions},        {"withheld", withheld}, {"reason", o.reason},
      {"explanation", o.explanation}};
}

std::string EncodeSendResponse(const SendResult& r) {
  json outcomes = json::array();
  for (const auto& o : r.outcomes) outcomes.push_back(OutcomeToJson(o, 0));
  return OkResponse(
      {{"report_id", r.report_id_hex}, {"banner", r.banner}, {"outcomes", std::move(outcomes)}});
}

Result<SendResult> DecodeSendResponse(std::string_view text) {
  TEARLINE_ASSIGN_OR_RETURN(json j, ResultOf(text));
  if (!j.is_object()) return Malformed("send result is not an object");
  SendResult r;
  auto id = GetString(j, "report_id");
  auto banner = GetString(j, "banner");
  if (!id || !banner) return Malformed("send result lacks report_id or banner");
  r.report_id_hex = *id;
  r.banner = *banner;
  auto outcomes = j.find("outcomes");
  if (outcomes == j.end() || !outcomes->is_array()) return Malformed("send result lacks outcomes");
  for (const auto& o : *outcomes) {
    TEARLINE_ASSIGN_OR_RETURN(auto outcome, OutcomeFromJson(o));
    r.outcomes.push_back(std::move(outcome));
  }
  return r;
}

std::string EncodeInboxResponse(const std::vector<InboxEntry>& entries) {
  json list = json::array();
  for (const auto& e : entries) list.push_back(InboxEntryToJson(e));
  return OkResponse({{"reports", std::move(list)}});
}

Result<std::vector<InboxEntry>> DecodeInboxResponse(std::string_view text) {
  TEARLINE_ASSIGN_OR_RETURN(json j, ResultOf(text));
  if (!j.is_object()) return Malformed("inbox result is not an object");
  auto list = j.find("reports");
  if (list == j.end() || !list->is_array()) return Malformed("inbox result lacks reports");
  std::vector<InboxEntry> out;
  for (const auto& e : *list) {
    auto entry = InboxEntryFromJson(e);
    if (!entry.ok()) return Malformed(entry.status().message());
    out.push_back(std::move(entry).value());
  }
  return out;
}

std::string EncodeReadResponse(const ReadResult& r) {
  json portions = json::array();
  for (const auto& p : r.portions) {
    portions.push_back(
        {{"index", p.index}, {"label", p.label}, {"content", Base64Encode(p.content)}});
  }
  return OkResponse({{"report", InboxEntryToJson(r.entry)}, {"portions", std::move(portions)}});
}

Result<ReadResult> DecodeReadResponse(std::string_view text) {
  TEARLINE_ASSIGN_OR_RETURN(json j, ResultOf(text));
  if (!j.is_object() || !j.contains("report") || !j.contains("portions") ||
      !j["portions"].is_array()) {
    return Malformed("read result lacks report or portions");
  }
  ReadResult r;
  auto entry = InboxEntryFromJson(j["report"]);
  if (!entry.ok()) return Malformed(entry.status().message());
  r.entry = std::move(entry).value();
  for (const auto& p : j["portions"]) {
    if (!p.is_object()) return Malformed("portion is not an object");
    auto index = GetUnsigned(p, "index");
    auto label = GetString(p, "label");
    auto content = GetString(p, "content");
    if (!index || *index > 0xffffffffu || !label || !content) {
      return Malformed("portion lacks index, label or content");
    }
    TEARLINE_ASSIGN_OR_RETURN(auto bytes, Base64Decode(*content));
    r.portions.push_back({static_cast<std::uint32_t>(*index), *label, std::move(bytes)});
  }
  return r;
}

json StatusToJson(const StatusResult& s) {
  return {{"node_id", s.node_id},
          {"nation", s.nation},
          {"clearance", s.clearance},
          {"broker_endpoint", s.broker_endpoint},
          {"broker_id", s.broker_id},
          {"connected", s.connected},
          {"transport", s.transport},
          {"last_broker_frame_ms_ago", s.last_broker_frame_ms_ago},
          {"reconnects", s.reconnects},
          {"directory_nodes", s.directory_nodes},
          {"inbox_reports", s.inbox_reports},
          {"pending_sends", s.pending_sends},
          {"uptime_s", s.uptime_s}};
}

std::string EncodeStatusResponse(const StatusResult& s) { return OkResponse(StatusToJson(s)); }

Result<StatusResult> DecodeStatusResponse(std::string_view text) {
  TEARLINE_ASSIGN_OR_RETURN(json j, ResultOf(text));
  if (!j.is_object()) return Malformed("status result is not an object");
  StatusResult s;
  for (auto [key, out] : {std::pair{"node_id", &s.node_id},
                          {"nation", &s.nation},
                          {"clearance", &s.clearance},
                          {"broker_endpoint", &s.broker_endpoint},
                          {"broker_id", &s.broker_id},
                          {"transport", &s.transport}}) {
    auto v = GetString(j, key);
    if (!v) return Malformed(std::string("status lacks ") + key);
    *out = *v;
  }
  auto connected = GetBool(j, "connected");
  auto last = GetInteger(j, "last_broker_frame_ms_ago");
  auto uptime = GetInteger(j, "uptime_s");
  if (!connected || !last || !uptime) return Malformed("status lacks connection fields");
  s.connected = *connected;
  s.last_broker_frame_ms_ago = *last;
  s.uptime_s = *uptime;
  for (auto [key, out] : {std::pair{"reconnects", &s.reconnects},
                          {"directory_nodes", &s.directory_nodes},
                          {"inbox_reports", &s.inbox_reports},
                          {"pending_sends", &s.pending_sends}}) {
    auto v = GetUnsigned(j, key);
    if (!v) return Malformed(std::string("status lacks ") + key);
    *out = *v;
  }
  return s;
}

}  // namespace tearline::node
