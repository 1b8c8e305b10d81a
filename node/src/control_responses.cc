#include <sodium.h>

#include <optional>

#include "control_json.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/node/control_protocol.h"

namespace tearline::node {

using namespace control_detail;

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
          {"uptime_s", s.uptime_s},
          {"witnessed_size", s.witnessed_size},
          {"audit_alarm", s.audit_alarm}};
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
  // Newer fields: a daemon that predates them has no alarm to show.
  if (auto size = GetUnsigned(j, "witnessed_size")) s.witnessed_size = *size;
  if (auto alarm = GetString(j, "audit_alarm")) s.audit_alarm = *alarm;
  return s;
}

std::string EncodeJsonResponse(json result) { return OkResponse(std::move(result)); }

Result<json> DecodeJsonResponse(std::string_view text) { return ResultOf(text); }

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

json ProveItemToJson(const ProofItem& i) {
  return {{"seq", i.seq},           {"description", i.description},
          {"verified", i.verified}, {"reason", i.reason},
          {"message", i.message},   {"checkpoint_size", i.checkpoint_size},
          {"signer", i.signer}};
}

std::string EncodeProveResponse(const ProveResult& r) {
  json items = json::array();
  for (const auto& i : r.items) {
    items.push_back(ProveItemToJson(i));
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
