#include "tearline/node/control_protocol.h"

#include <sodium.h>

#include <optional>

#include "control_json.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/envelope/envelope.h"
#include "tearline/wire/release_frames.h"

namespace tearline::node {
namespace {

using namespace control_detail;

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
    case ControlOp::kForward:
      return "forward";
    case ControlOp::kRelease:
      return "release";
  }
  return "status";
}

// An id for read/track/prove: a report id or a prefix of one.
bool ValidIdArgument(const std::optional<std::string>& id) {
  return id && !id->empty() && id->size() <= 64;
}

Status DecodeForwardRequest(const json& j, ControlRequest& r) {
  r.op = ControlOp::kForward;
  auto id = GetString(j, "id");
  if (!ValidIdArgument(id)) return Malformed("forward needs an 'id'");
  r.id = *id;
  auto to = j.find("to");
  if (to == j.end() || !to->is_array() || to->size() != 1 || !(*to)[0].is_string() ||
      (*to)[0].get<std::string>().empty() || (*to)[0].get<std::string>().size() > 16) {
    return Malformed("forward needs exactly one nation code in 'to'");
  }
  r.to.push_back((*to)[0].get<std::string>());
  auto portions = j.find("portions");
  if (portions != j.end()) {
    if (!portions->is_array() || portions->size() > 64) {
      return Malformed("'portions' must be a list of at most 64 indices");
    }
    for (const auto& p : *portions) {
      if (!p.is_number_unsigned() || p.get<std::uint64_t>() >= 64) {
        return Malformed("'portions' entries must be portion indices below 64");
      }
      r.indices.push_back(static_cast<std::uint32_t>(p.get<std::uint64_t>()));
    }
  }
  auto timeout = GetUnsigned(j, "timeout_ms");
  if (!timeout || *timeout == 0 || *timeout > kMaxSendTimeoutMs) {
    return Malformed("'timeout_ms' must be between 1 and " + std::to_string(kMaxSendTimeoutMs));
  }
  r.timeout_ms = static_cast<std::uint32_t>(*timeout);
  return Status::Ok();
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

namespace {

void AddProvenanceJson(const SendPortionRequest& p, json& out) {
  if (!p.derived_from.empty()) {
    json refs = json::array();
    for (const auto& d : p.derived_from) refs.push_back({{"id", d.id}, {"portion", d.portion}});
    out["derived_from"] = std::move(refs);
  }
  if (!p.override_provenance.empty()) out["override_provenance"] = p.override_provenance;
}

Status ReadProvenanceJson(const json& p, SendPortionRequest& sp) {
  if (auto refs = p.find("derived_from"); refs != p.end()) {
    if (!refs->is_array() || refs->size() > kMaxSourcesPerPortion) {
      return Malformed("'derived_from' must be a list of at most " +
                       std::to_string(kMaxSourcesPerPortion) + " sources");
    }
    for (const auto& d : *refs) {
      if (!d.is_object()) return Malformed("'derived_from' entry is not an object");
      auto id = GetString(d, "id");
      auto portion = GetUnsigned(d, "portion");
      if (!id || !portion || *portion >= kMaxPortions) {
        return Malformed("'derived_from' entry needs 'id' and 'portion' (0 to 63)");
      }
      sp.derived_from.push_back({*id, static_cast<std::uint32_t>(*portion)});
    }
  }
  if (p.contains("override_provenance")) {
    auto why = GetString(p, "override_provenance");
    if (!why) return Malformed("'override_provenance' is not a string");
    sp.override_provenance = *why;
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeControlRequest(const ControlRequest& r) {
  json j{{"v", kControlProtocolVersion}, {"op", OpName(r.op)}};
  if (r.op == ControlOp::kSend) {
    j["to"] = r.to;
    j["timeout_ms"] = r.timeout_ms;
    json portions = json::array();
    for (const auto& p : r.portions) {
      json jp{{"marking", p.marking}, {"content", Base64Encode(p.content)}};
      AddProvenanceJson(p, jp);
      portions.push_back(std::move(jp));
    }
    j["portions"] = std::move(portions);
  } else if (r.op == ControlOp::kRead || r.op == ControlOp::kTrack || r.op == ControlOp::kProve) {
    j["id"] = r.id;
    if (r.op == ControlOp::kProve && r.seq) j["seq"] = *r.seq;
  } else if (r.op == ControlOp::kForward) {
    j["id"] = r.id;
    j["to"] = r.to;
    j["portions"] = r.indices;
    j["timeout_ms"] = r.timeout_ms;
  } else if (r.op == ControlOp::kRelease) {
    const ReleaseControl& c = r.release;
    j.update({{"action", c.action},
              {"id", c.id},
              {"portion", c.portion},
              {"to", c.to},
              {"why", c.why},
              {"label", c.label}});
    if (c.sanitised) j["sanitised"] = Base64Encode(*c.sanitised);
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
      SendPortionRequest sp;
      sp.marking = *marking;
      sp.content = std::move(bytes);
      TEARLINE_RETURN_IF_ERROR(ReadProvenanceJson(p, sp));
      r.portions.push_back(std::move(sp));
    }
  } else if (*op == "forward") {
    TEARLINE_RETURN_IF_ERROR(DecodeForwardRequest(j, r));
  } else if (*op == "release") {
    r.op = ControlOp::kRelease;
    ReleaseControl& c = r.release;
    auto action = GetString(j, "action");
    auto portion = GetUnsigned(j, "portion");
    if (!action ||
        (*action != "request" && *action != "list" && *action != "approve" && *action != "deny")) {
      return Malformed("release needs an 'action': request, list, approve or deny");
    }
    c.action = *action;
    c.id = GetString(j, "id").value_or("");
    c.portion = portion && *portion < kMaxPortions ? static_cast<std::uint32_t>(*portion) : 0;
    c.to = GetString(j, "to").value_or("");
    c.why = GetString(j, "why").value_or("");
    c.label = GetString(j, "label").value_or("");
    if (c.id.size() > 64 || c.to.size() > 16 || c.why.size() > kMaxReleaseWhyBytes ||
        c.label.size() > kMaxReleaseLabelBytes) {
      return Malformed("release fields too long");
    }
    if (auto sanitised = GetString(j, "sanitised")) {
      TEARLINE_ASSIGN_OR_RETURN(auto bytes, Base64Decode(*sanitised));
      c.sanitised = std::move(bytes);
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

}  // namespace tearline::node
