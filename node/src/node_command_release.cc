// `tearline-node request-release | requests | approve | deny`: the analyst's and the disclosure
// officer's side of release requests (the daemon's ReleaseOfficer does the work).
#include <nlohmann/json.hpp>
#include <ostream>

#include "node_command_internal.h"
#include "tearline/node/control_client.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/node_command.h"

namespace tearline::node::command_detail {
namespace {

std::string Text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? OneLine(it->get<std::string>()) : "";
}

std::int64_t Number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : -1;
}

// One line per request: id, direction, state, report/portion, nation, age or turnaround, detail.
void PrintRequest(const nlohmann::json& r, std::ostream& out) {
  const bool incoming = r.value("incoming", false);
  const std::string state = Text(r, "state");
  out << Text(r, "request_id").substr(0, 12) << " " << (incoming ? "from " : "to ")
      << (incoming ? Text(r, "requester") : Text(r, "originator")) << " " << state << " report "
      << Text(r, "report_id").substr(0, 12) << " portion " << Number(r, "portion") + 1 << " to "
      << Text(r, "to_nation");
  if (state == "pending") {
    out << " age " << Number(r, "age_s") << "s";
  } else {
    out << " decided after " << Number(r, "turnaround_s") << "s";
    if (Number(r, "turnaround_ms") >= 0)
      out << " (turnaround " << Number(r, "turnaround_ms") << " ms)";
  }
  if (state == "approved") {
    out << " label " << Text(r, "label") << " release " << Text(r, "release_report_id");
    if (r.value("sanitised", false)) out << " sanitised";
    if (!Text(r, "rule").empty()) out << " by standing authorisation " << Text(r, "rule");
  } else if (state == "denied") {
    out << " " << Text(r, "reason") << ": " << Text(r, "explanation");
  }
  out << "\n";
}

}  // namespace

int DoRelease(const NodeConfig& config, const std::string& action, const ReleaseArgs& args,
              bool json, std::ostream& out, std::ostream& err) {
  ControlRequest req;
  req.op = ControlOp::kRelease;
  ReleaseControl& c = req.release;
  c.action = action;
  c.id = args.id;
  if (action == "request") {
    if (args.portion == 0 || args.to.empty() || args.why.empty()) {
      return Fail(err,
                  InvalidArgument("CONTROL_MALFORMED",
                                  "request-release needs --portion N (from 1), --to NATION and "
                                  "--why TEXT"),
                  kExitInvalid);
    }
    c.portion = args.portion - 1;
  }
  c.to = args.to;
  c.why = args.why;
  c.label = args.label;
  if (action == "deny" && args.why.empty()) {
    return Fail(err,
                InvalidArgument("CONTROL_MALFORMED", "deny needs --why TEXT for the requester"),
                kExitInvalid);
  }
  if (!args.sanitised_file.empty()) {
    if (args.label.empty()) {
      return Fail(err,
                  InvalidArgument("RELABEL_BAD_LABEL",
                                  "a sanitised version needs its own label: --label MARKING"),
                  kExitInvalid);
    }
    auto content = ReadPortionFile(args.sanitised_file, 1);
    if (!content.ok()) return Fail(err, content.status(), kExitInvalid);
    c.sanitised = std::move(content).value();
  }
  auto reply = CallControl(config, EncodeControlRequest(req), kBrokerQueryTimeout);
  if (!reply.ok()) return FailFromDaemon(err, reply.status());
  auto result = DecodeJsonResponse(*reply);
  if (!result.ok()) return FailFromDaemon(err, result.status());
  const auto list = result->find("requests");
  if (list == result->end() || !list->is_array()) {
    return Fail(err, InvalidArgument("CONTROL_MALFORMED", "the daemon's answer has no requests"),
                kExitNegative);
  }
  if (json) {
    out << result->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  if (list->empty()) out << "no release requests\n";
  for (const auto& r : *list) PrintRequest(r, out);
  return kExitOk;
}

}  // namespace tearline::node::command_detail
