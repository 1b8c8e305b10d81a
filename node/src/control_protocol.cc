#include "tearline/node/control_protocol.h"

#include <sodium.h>

#include <optional>

#include "tearline/base/encoding.h"
#include "tearline/crypto/secure_memory.h"

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
    case ControlOp::kTrack:
      return "track";
    case ControlOp::kProve:
      return "prove";
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

// An id for read/track/prove: a report id or a prefix of one.
bool ValidIdArgument(const std::optional<std::string>& id) {
  return id && !id->empty() && id->size() <= 64;
}

}  // namespace

Result<RecipientOutcomeInfo> OutcomeFromJson(const json& j, std::uint32_t index_base) {
  return OutcomeFromJsonImpl(j, index_base);
}

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
  } else if (r.op == ControlOp::kRead || r.op == ControlOp::kTrack || r.op == ControlOp::kProve) {
    j["id"] = r.id;
    if (r.op == ControlOp::kProve && r.seq) j["seq"] = *r.seq;
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
  } else if (*op == "read" || *op == "track" || *op == "prove") {
    r.op = *op == "read"    ? ControlOp::kRead
           : *op == "track" ? ControlOp::kTrack
                            : ControlOp::kProve;
    auto id = GetString(j, "id");
    if (!ValidIdArgument(id)) return Malformed(*op + " needs an 'id'");
    r.id = *id;
    if (r.op == ControlOp::kProve && j.contains("seq")) {
      auto seq = GetUnsigned(j, "seq");
      if (!seq) return Malformed("'seq' must be an unsigned integer");
      r.seq = *seq;
    }
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
  return {{"nation", o.nation},
          {"node_id", o.node_id},
          {"state", DeliveryStateName(o.state)},
          {"portions", portions},
          {"withheld", withheld},
          {"reason", o.reason},
          {"explanation", o.explanation},
          {"record_seq", o.record_seq}};
}

json RecipientStatusToJson(const RecipientStatusInfo& s) {
  return {{"node_id", s.node_id},
          {"nation", s.nation},
          {"state", s.state},
          {"reason", s.reason},
          {"updated_unix", s.updated_unix},
          {"record_seq", s.record_seq}};
}

std::string EncodeSendResponse(const SendResult& r) {
  json outcomes = json::array();
  for (const auto& o : r.outcomes) outcomes.push_back(OutcomeToJson(o, 0));
  return OkResponse({{"report_id", r.report_id_hex},
                     {"banner", r.banner},
                     {"outcomes", std::move(outcomes)},
                     {"duplicate", r.duplicate},
                     {"pending", r.pending},
                     {"detail", r.detail}});
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
    TEARLINE_ASSIGN_OR_RETURN(auto outcome, OutcomeFromJsonImpl(o, 0));
    r.outcomes.push_back(std::move(outcome));
  }
  auto duplicate = GetBool(j, "duplicate");
  auto pending = GetBool(j, "pending");
  auto detail = GetString(j, "detail");
  if (!duplicate || !pending || !detail) {
    return Malformed("send result lacks duplicate, pending or detail");
  }
  r.duplicate = *duplicate;
  r.pending = *pending;
  r.detail = *detail;
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
          {"outbox_reports", s.outbox_reports},
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
                          {"pending_sends", &s.pending_sends},
                          {"outbox_reports", &s.outbox_reports}}) {
    auto v = GetUnsigned(j, key);
    if (!v) return Malformed(std::string("status lacks ") + key);
    *out = *v;
  }
  return s;
}

std::string EncodeTrackResponse(const TrackResult& r) {
  json recipients = json::array();
  for (const auto& s : r.recipients) recipients.push_back(RecipientStatusToJson(s));
  return OkResponse({{"report_id", r.report_id_hex}, {"recipients", std::move(recipients)}});
}

Result<TrackResult> DecodeTrackResponse(std::string_view text) {
  TEARLINE_ASSIGN_OR_RETURN(json j, ResultOf(text));
  if (!j.is_object()) return Malformed("track result is not an object");
  TrackResult r;
  auto id = GetString(j, "report_id");
  auto list = j.find("recipients");
  if (!id || list == j.end() || !list->is_array()) {
    return Malformed("track result lacks report_id or recipients");
  }
  r.report_id_hex = *id;
  for (const auto& e : *list) {
    if (!e.is_object()) return Malformed("recipient status is not an object");
    RecipientStatusInfo s;
    for (auto [key, out] : {std::pair{"node_id", &s.node_id},
                            {"nation", &s.nation},
                            {"state", &s.state},
                            {"reason", &s.reason}}) {
      auto v = GetString(e, key);
      if (!v) return Malformed(std::string("recipient status lacks ") + key);
      *out = *v;
    }
    auto updated = GetInteger(e, "updated_unix");
    auto seq = GetUnsigned(e, "record_seq");
    if (!updated || !seq) return Malformed("recipient status lacks updated_unix or record_seq");
    s.updated_unix = *updated;
    s.record_seq = *seq;
    r.recipients.push_back(std::move(s));
  }
  return r;
}

std::string EncodeProveResponse(const ProveResult& r) {
  json items = json::array();
  for (const auto& i : r.items) {
    items.push_back({{"seq", i.seq},
                     {"description", i.description},
                     {"verified", i.verified},
                     {"reason", i.reason},
                     {"message", i.message},
                     {"checkpoint_size", i.checkpoint_size},
                     {"signer", i.signer}});
  }
  return OkResponse(
      {{"report_id", r.report_id_hex}, {"items", std::move(items)}, {"note", r.note}});
}

Result<ProveResult> DecodeProveResponse(std::string_view text) {
  TEARLINE_ASSIGN_OR_RETURN(json j, ResultOf(text));
  if (!j.is_object()) return Malformed("prove result is not an object");
  ProveResult r;
  auto id = GetString(j, "report_id");
  auto note = GetString(j, "note");
  auto items = j.find("items");
  if (!id || !note || items == j.end() || !items->is_array()) {
    return Malformed("prove result lacks report_id, note or items");
  }
  r.report_id_hex = *id;
  r.note = *note;
  for (const auto& e : *items) {
    if (!e.is_object()) return Malformed("proof item is not an object");
    ProofItem i;
    for (auto [key, out] : {std::pair{"description", &i.description},
                            {"reason", &i.reason},
                            {"message", &i.message},
                            {"signer", &i.signer}}) {
      auto v = GetString(e, key);
      if (!v) return Malformed(std::string("proof item lacks ") + key);
      *out = *v;
    }
    auto seq = GetUnsigned(e, "seq");
    auto size = GetUnsigned(e, "checkpoint_size");
    auto verified = GetBool(e, "verified");
    if (!seq || !size || !verified) return Malformed("proof item lacks seq, size or verified");
    i.seq = *seq;
    i.checkpoint_size = *size;
    i.verified = *verified;
    r.items.push_back(std::move(i));
  }
  return r;
}

}  // namespace tearline::node
