#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "node_command_internal.h"
#include "tearline/base/encoding.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"
#include "tearline/node/control_client.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/node_command.h"
#include "tearline/node/node_config.h"
#include "tearline/node/node_daemon.h"

namespace tearline::node::command_detail {

namespace {

// Shows canonical markings in a nation's words (tearline/labels/national_markings.h): this
// node's nation, or the code given with --as. Without --as it stays canonical when the policy or
// certificate cannot be read (the daemon reports that itself); with --as those are errors.
class MarkingShower {
 public:
  static Result<MarkingShower> For(const NodeConfig& config, std::string as) {
    for (char& c : as) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    MarkingShower shower;
    auto policy =
        Policy::LoadFile(config.policy.empty() ? DefaultPolicyPath() : config.policy.string());
    if (!policy.ok()) {
      if (as.empty()) return shower;
      return policy.status().WithContext("policy");
    }
    if (!as.empty()) {
      // Another member's words: this node's certificate is not needed.
      TEARLINE_RETURN_IF_ERROR(CheckMarkingCode(as, *policy));
      auto words = NationalMarkings::LoadFile(
          config.policy.empty() ? DefaultPolicyPath() : config.policy.string(), *policy);
      if (!words.ok()) return words.status().WithContext("policy");
      shower.view_.emplace(NationalView{as, std::move(words).value()});
    } else {
      auto view = LoadNationalView(config, *policy);
      if (!view.ok()) return shower;
      shower.view_.emplace(std::move(view).value());
    }
    shower.explicit_ = !as.empty();
    shower.policy_.emplace(std::move(policy).value());
    return shower;
  }
  std::string operator()(const std::string& canonical) const {
    return policy_ && view_ ? ShowAs(*view_, canonical, *policy_) : canonical;
  }
  // Whether --as was given: JSON output then carries the shown words next to the canonical.
  bool explicit_code() const { return explicit_; }

 private:
  MarkingShower() = default;
  std::optional<Policy> policy_;
  std::optional<NationalView> view_;
  bool explicit_ = false;
};

}  // namespace

int DoInbox(const NodeConfig& config, const std::string& as, bool json, std::ostream& out,
            std::ostream& err) {
  auto show = MarkingShower::For(config, as);
  if (!show.ok()) return Fail(err, show.status(), kExitInvalid);
  ControlRequest req;
  req.op = ControlOp::kInbox;
  auto reply = CallControl(config, EncodeControlRequest(req), kQueryTimeout);
  if (!reply.ok()) return FailFromDaemon(err, reply.status());
  auto list = DecodeInboxResponse(*reply);
  if (!list.ok()) return FailFromDaemon(err, list.status());
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& e : *list) {
      nlohmann::json j = InboxEntryToJson(e);
      j.erase("originator_signing_key");
      j.erase("forwarder_signing_key");
      // 1-based portion numbers for analysts, as everywhere in the CLI.
      for (auto& p : j["portions"]) {
        const std::string label = p["label"].get<std::string>();
        p = {{"portion", p["index"].get<std::uint32_t>() + 1}, {"label", label}};
        if (show->explicit_code()) p["label_as"] = (*show)(label);
      }
      if (show->explicit_code()) j["banner_as"] = (*show)(e.banner);
      arr.push_back(std::move(j));
    }
    out << arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  if (list->empty()) {
    out << "no reports received\n";
    return kExitOk;
  }
  for (const auto& e : *list) {
    out << e.report_id_hex << "  " << FormatUnixTime(e.received_unix) << "  " << e.originator
        << " (" << e.originator_nation << ")  portions " << e.portions.size() << "/"
        << e.portion_count << "  " << (*show)(e.banner);
    if (!e.forwarder.empty()) out << "  via " << e.forwarder << " (" << e.forwarder_nation << ")";
    out << "\n";
  }
  return kExitOk;
}

int DoRead(const NodeConfig& config, const std::string& id, const std::string& as, bool json,
           std::ostream& out, std::ostream& err) {
  auto shower = MarkingShower::For(config, as);
  if (!shower.ok()) return Fail(err, shower.status(), kExitInvalid);
  const MarkingShower& show = *shower;
  ControlRequest req;
  req.op = ControlOp::kRead;
  req.id = id;
  auto reply = CallControl(config, EncodeControlRequest(req), kQueryTimeout);
  if (!reply.ok()) return FailFromDaemon(err, reply.status());
  auto r = DecodeReadResponse(*reply);
  std::fill(reply->begin(), reply->end(), '\0');
  if (!r.ok()) {
    if (r.status().reason() == "INBOX_NOT_FOUND") return Fail(err, r.status(), kExitNegative);
    return FailFromDaemon(err, r.status());
  }
  const InboxEntry& e = r->entry;
  if (json) {
    nlohmann::json portions = nlohmann::json::array();
    for (const auto& p : r->portions) {
      portions.push_back({{"portion", p.index + 1},
                          {"label", p.label},
                          {"content_base64", Base64Encode(p.content)}});
      if (show.explicit_code()) portions.back()["label_as"] = show(p.label);
    }
    nlohmann::json j{{"report_id", e.report_id_hex},     {"banner", e.banner},
                     {"originator", e.originator},       {"originator_nation", e.originator_nation},
                     {"created_unix", e.created_unix},   {"received_unix", e.received_unix},
                     {"portion_count", e.portion_count}, {"portions", portions}};
    if (show.explicit_code()) j["banner_as"] = show(e.banner);
    if (!e.forwarder.empty()) {
      j["forwarder"] = e.forwarder;
      j["forwarder_nation"] = e.forwarder_nation;
      j["forwarded_report_id"] = e.forwarded_report_id_hex;
    }
    out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  std::vector<std::uint32_t> received;
  for (const auto& p : r->portions) received.push_back(p.index);
  out << show(e.banner) << "\n";
  out << "report " << e.report_id_hex << " from " << e.originator << " (" << e.originator_nation
      << "), created " << FormatUnixTime(e.created_unix) << ", received "
      << FormatUnixTime(e.received_unix) << "\n";
  if (!e.forwarder.empty()) {
    out << "forwarded by " << e.forwarder << " (" << e.forwarder_nation << ") from report "
        << e.forwarded_report_id_hex << "; originator's and forwarder's signatures verified\n";
  }
  out << "portions " << JoinNumbers(received, 1) << " of " << e.portion_count;
  if (received.size() < e.portion_count) {
    out << " (" << (e.portion_count - received.size()) << " withheld from this nation)";
  }
  out << "\n";
  for (const auto& p : r->portions) {
    out << "\n" << show(p.label) << " portion " << (p.index + 1) << "\n";
    out.write(reinterpret_cast<const char*>(p.content.data()),
              static_cast<std::streamsize>(p.content.size()));
    if (p.content.empty() || p.content.back() != '\n') out << "\n";
  }
  out << "\n" << show(e.banner) << "\n";
  return kExitOk;
}

int DoStatus(const NodeConfig& config, bool json, std::ostream& out, std::ostream& err) {
  ControlRequest req;
  req.op = ControlOp::kStatus;
  auto reply = CallControl(config, EncodeControlRequest(req), kQueryTimeout);
  if (!reply.ok()) return FailFromDaemon(err, reply.status());
  auto s = DecodeStatusResponse(*reply);
  if (!s.ok()) return FailFromDaemon(err, s.status());
  if (json) {
    out << StatusToJson(*s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    out << "node " << s->node_id << " (" << s->nation << ", " << s->clearance << ") up "
        << s->uptime_s << " s\n";
    out << "broker " << s->broker_endpoint
        << (s->broker_id.empty() ? "" : " (" + s->broker_id + ")") << " "
        << (s->connected ? "connected" : "NOT CONNECTED (" + s->transport + ")");
    if (s->last_broker_frame_ms_ago >= 0) {
      out << ", last frame " << s->last_broker_frame_ms_ago << " ms ago";
    } else {
      out << ", never heard from";
    }
    out << ", reconnects " << s->reconnects << "\n";
    out << "directory " << s->directory_nodes << " nodes, inbox " << s->inbox_reports
        << " reports, pending sends " << s->pending_sends << ", outbox " << s->outbox_reports
        << " reports awaiting the broker\n";
    out << "audit witness: cosigned up to size " << s->witnessed_size << "\n";
    if (!s->audit_alarm.empty()) out << "AUDIT ALARM: " << s->audit_alarm << "\n";
  }
  // An alarm is a negative answer too: scripts that check `status` must not miss it.
  return s->connected && s->audit_alarm.empty() ? kExitOk : kExitNegative;
}

// Broker refusals and "not found" answers are negative answers (exit 1), not usage errors.
namespace {

int FailQuery(std::ostream& err, const Status& s) {
  if (s.reason() == "REPORT_BAD_ID" || s.reason() == "REPORT_AMBIGUOUS_ID") {
    return Fail(err, s, kExitInvalid);
  }
  return FailFromDaemon(err, s);
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : OneLine(s); }

}  // namespace

int DoTrack(const NodeConfig& config, const std::string& id, bool json, std::ostream& out,
            std::ostream& err) {
  ControlRequest req;
  req.op = ControlOp::kTrack;
  req.id = id;
  auto reply = CallControl(config, EncodeControlRequest(req), kBrokerQueryTimeout);
  if (!reply.ok()) return FailFromDaemon(err, reply.status());
  auto r = DecodeTrackResponse(*reply);
  if (!r.ok()) return FailQuery(err, r.status());
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : r->recipients) list.push_back(RecipientStatusToJson(s));
    out << nlohmann::json{{"report_id", r->report_id_hex}, {"recipients", list}}.dump(
               -1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
    return kExitOk;
  }
  if (r->recipients.empty()) out << "report " << r->report_id_hex << ": no recipient node\n";
  for (const auto& s : r->recipients) {
    out << OrDash(s.node_id) << " " << OrDash(s.nation) << " " << OrDash(s.state) << " "
        << OrDash(s.reason) << " " << FormatUnixTime(s.updated_unix) << " record " << s.record_seq
        << "\n";
  }
  return kExitOk;
}

int DoProve(const NodeConfig& config, const std::string& id, std::optional<std::uint64_t> seq,
            bool json, std::ostream& out, std::ostream& err) {
  ControlRequest req;
  req.op = ControlOp::kProve;
  req.id = id;
  req.seq = seq;
  auto reply = CallControl(config, EncodeControlRequest(req), kBrokerQueryTimeout);
  if (!reply.ok()) return FailFromDaemon(err, reply.status());
  auto r = DecodeProveResponse(*reply);
  if (!r.ok()) return FailQuery(err, r.status());
  bool all = !r->items.empty();
  for (const auto& i : r->items) all = all && i.verified;
  if (json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& i : r->items) {
      items.push_back(ProveItemToJson(i));
    }
    out << nlohmann::json{{"report_id", r->report_id_hex}, {"items", items}, {"note", r->note}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  } else {
    if (!r->note.empty()) out << OneLine(r->note) << "\n";
    for (const auto& i : r->items) {
      out << "record " << i.seq << " (" << OneLine(i.description) << ") ";
      if (i.verified) {
        out << "is in the broker's log: inclusion verified against checkpoint " << i.checkpoint_size
            << " signed by " << i.signer;
        if (!i.message.empty()) out << " (" << OneLine(i.message) << ")";
      } else {
        out << "NOT PROVEN: " << i.reason << ": " << OneLine(i.message);
      }
      out << "\n";
    }
  }
  return all ? kExitOk : kExitNegative;
}

}  // namespace tearline::node::command_detail
