#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
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

Result<Policy> LoadPolicyFor(const NodeConfig& c) {
  auto p = Policy::LoadFile(c.policy.empty() ? DefaultPolicyPath() : c.policy.string());
  if (!p.ok()) return p.status().WithContext("policy");
  return p;
}

}  // namespace

Result<NationalView> LoadNationalView(const NodeConfig& config, const Policy& policy) {
  auto cert = ReadCertificateFile(config.certificate.string());
  if (!cert.ok()) return cert.status().WithContext("certificate");
  auto words = NationalMarkings::LoadFile(
      config.policy.empty() ? DefaultPolicyPath() : config.policy.string(), policy);
  if (!words.ok()) return words.status().WithContext("policy");
  return NationalView{cert->fields().nation, std::move(words).value()};
}

std::string ShowAs(const NationalView& view, const std::string& canonical, const Policy& policy) {
  auto m = ParseMarking(canonical, policy);
  if (!m.ok()) return canonical;
  return view.words.FormatAs(m->label, m->form, view.nation, policy);
}

namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Nations from --to: trigraphs or group codes (expanded), de-duplicated, order kept.
Result<std::vector<std::string>> ResolveNations(const std::vector<std::string>& raw,
                                                const Policy& policy) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& n) {
    if (seen.insert(n).second) out.push_back(n);
  };
  for (const auto& item : raw) {
    std::stringstream ss(item);
    std::string part;
    while (std::getline(ss, part, ',')) {
      const std::string code = Upper(Trim(part));
      if (code.empty()) continue;
      if (policy.IsNation(code)) {
        add(code);
      } else if (const Group* g = policy.FindGroup(code)) {
        for (const auto& m : g->members) add(m);
      } else {
        return InvalidArgument(
            "SEND_UNKNOWN_NATION",
            "--to '" + code + "' is neither a nation nor a group of the coalition policy");
      }
    }
  }
  if (out.empty()) {
    return InvalidArgument("SEND_NO_RECIPIENT",
                           "--to needs at least one nation, e.g. --to GBR,JPN");
  }
  return out;
}

// A correct-looking example marking for the fix hint: SECRET released to this node's nation
// and the requested recipients.
std::string ExampleMarking(const NodeConfig& config, const Policy& policy,
                           const std::vector<std::string>& to) {
  const std::string fallback = "(S//REL TO USA, GBR)";
  auto level = policy.FindLevel("SECRET");
  if (!level) return fallback;
  Label l;
  l.level = *level;
  l.has_rel_to = true;
  auto cert = ReadCertificateFile(config.certificate.string());
  if (cert.ok() && policy.IsNation(cert->fields().nation)) {
    l.rel_to_nations.push_back(cert->fields().nation);
  }
  for (const auto& n : to) {
    if (std::find(l.rel_to_nations.begin(), l.rel_to_nations.end(), n) == l.rel_to_nations.end()) {
      l.rel_to_nations.push_back(n);
    }
  }
  if (l.rel_to_nations.size() < 2) return fallback;
  CanonicalizeRelTo(l, policy);
  return FormatPortion(l, policy);
}

}  // namespace

Result<std::vector<std::uint8_t>> ReadPortionFile(const std::string& path, std::size_t number) {
  const std::string where = "portion " + std::to_string(number) + ": file " + path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return InvalidArgument("SEND_FILE_UNREADABLE", where + " does not exist or is not a file");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return InvalidArgument("SEND_FILE_UNREADABLE", where + ": " + ec.message());
  if (size == 0) {
    return InvalidArgument("SEND_PORTION_EMPTY", where + " is empty; a portion needs content");
  }
  if (size > kMaxReportBytes) {
    return InvalidArgument("SEND_PORTION_TOO_LARGE",
                           where + " is larger than a report may be (16 MiB)");
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> data(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!in || in.gcount() != static_cast<std::streamsize>(data.size())) {
    return InvalidArgument("SEND_FILE_UNREADABLE", where + ": read failed");
  }
  return data;
}

std::string JoinNumbers(const std::vector<std::uint32_t>& v, std::uint32_t base) {
  std::string s;
  for (auto n : v) {
    if (!s.empty()) s += ",";
    s += std::to_string(n + base);
  }
  return s;
}

namespace {

std::string DenialList(const RecipientOutcomeInfo& o) {
  std::string s;
  for (const auto& d : o.denials) {
    if (!s.empty()) s += "; ";
    s += "portion " + std::to_string(d.index + 1) + " " + d.reason + ": " + d.explanation;
  }
  return OneLine(s);
}

void PrintOutcome(std::ostream& out, const RecipientOutcomeInfo& o) {
  out << o.nation << " " << (o.node_id.empty() ? "-" : o.node_id) << " "
      << DeliveryStateName(o.state);
  if (o.state == schema::DeliveryState::Denied) {
    std::string why = DenialList(o);
    if (!o.reason.empty()) {
      const std::string whole = o.reason + (o.explanation.empty() ? "" : ": " + o.explanation);
      why = why.empty() ? OneLine(whole) : OneLine(whole) + "; " + why;
    }
    out << ": " << (why.empty() ? "no portion is releasable" : why);
  } else {
    out << " portions " << JoinNumbers(o.portions, 1);
    if (!o.denials.empty()) out << " (withheld: " << DenialList(o) << ")";
  }
  out << "\n";
}

// The exit status of send and forward: 0 only when some recipient was named and none denied.
bool EveryRecipientReleased(const std::vector<RecipientOutcomeInfo>& outcomes) {
  return !outcomes.empty() && std::none_of(outcomes.begin(), outcomes.end(), [](const auto& o) {
    return o.state == schema::DeliveryState::Denied;
  });
}

}  // namespace

int DoSend(const NodeConfig& config, const std::vector<std::string>& to_raw,
           const std::vector<std::pair<std::string, std::string>>& portions,
           const std::vector<PortionProvenanceArgs>& provenance, double timeout_s, bool json,
           std::ostream& out, std::ostream& err) {
  auto policy = LoadPolicyFor(config);
  if (!policy.ok()) return Fail(err, policy.status(), kExitInvalid);
  auto to = ResolveNations(to_raw, *policy);
  if (!to.ok()) return Fail(err, to.status(), kExitInvalid);
  if (portions.empty()) {
    return Fail(err,
                InvalidArgument("SEND_NO_PORTION",
                                "give at least one --portion MARKING FILE, e.g. --portion \"" +
                                    ExampleMarking(config, *policy, *to) + "\" report.txt"),
                kExitInvalid);
  }
  if (portions.size() > kMaxPortions) {
    return Fail(err,
                InvalidArgument("SEND_TOO_MANY_PORTIONS",
                                "at most " + std::to_string(kMaxPortions) + " portions per report"),
                kExitInvalid);
  }
  if (!(timeout_s > 0) || timeout_s * 1000 > kMaxSendTimeoutMs) {
    return Fail(err,
                InvalidArgument("SEND_BAD_TIMEOUT", "--timeout must be between 0 and " +
                                                        std::to_string(kMaxSendTimeoutMs / 1000) +
                                                        " seconds"),
                kExitInvalid);
  }
  // The nation's own words need its certificate; without one only canonical words are read here
  // (the daemon refuses to run without it anyway).
  const auto national = LoadNationalView(config, *policy);
  ControlRequest req;
  req.op = ControlOp::kSend;
  req.to = *to;
  req.timeout_ms = static_cast<std::uint32_t>(timeout_s * 1000);
  std::size_t total = 0;
  for (std::size_t i = 0; i < portions.size(); ++i) {
    const auto& [marking, file] = portions[i];
    // The analyst may write the level in the nation's own words; the wire carries the canonical.
    auto m = national.ok() ? national->words.ParseAs(marking, national->nation, *policy)
                           : ParseMarking(marking, *policy);
    if (!m.ok()) {
      return Fail(err,
                  InvalidArgument("SEND_PORTION_UNMARKED",
                                  "portion " + std::to_string(i + 1) +
                                      " has no valid marking: " + m.status().ToString() +
                                      "; nothing was sent; mark it, e.g. --portion \"" +
                                      ExampleMarking(config, *policy, *to) + "\" " + file),
                  kExitInvalid);
    }
    auto content = ReadPortionFile(file, i + 1);
    if (!content.ok()) return Fail(err, content.status(), kExitInvalid);
    total += content->size();
    if (total > kMaxReportBytes) {
      return Fail(err, InvalidArgument("SEND_TOO_LARGE", "portions together exceed 16 MiB"),
                  kExitInvalid);
    }
    SendPortionRequest sp;
    sp.marking = FormatMarking(m->label, m->form, *policy);
    sp.content = std::move(content).value();
    if (i < provenance.size()) {
      sp.derived_from = provenance[i].derived_from;
      sp.override_provenance = provenance[i].override_reason;
    }
    req.portions.push_back(std::move(sp));
  }
  std::string request = EncodeControlRequest(req);
  for (auto& p : req.portions) std::fill(p.content.begin(), p.content.end(), std::uint8_t{0});
  auto reply =
      CallControl(config, request, std::chrono::milliseconds(req.timeout_ms) + kReplySlack);
  std::fill(request.begin(), request.end(), '\0');
  if (!reply.ok()) return FailFromDaemon(err, reply.status());
  auto result = DecodeSendResponse(*reply);
  if (!result.ok()) return FailFromDaemon(err, result.status());
  if (result->pending) {
    if (json) {
      out << nlohmann::json{{"report_id", result->report_id_hex},
                            {"banner", result->banner},
                            {"pending", true},
                            {"detail", result->detail},
                            {"outcomes", nlohmann::json::array()}}
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
          << "\n";
    } else {
      out << "PENDING report " << result->report_id_hex << " is kept in the outbox and will be "
          << "resent automatically with the same id; follow it with `tearline-node track "
          << result->report_id_hex << "`\n";
    }
    err << kProgram << ": " << OneLine(result->detail) << "\n";
    return kExitPending;
  }
  const bool all = EveryRecipientReleased(result->outcomes);
  if (json) {
    nlohmann::json outcomes = nlohmann::json::array();
    for (const auto& o : result->outcomes) outcomes.push_back(OutcomeToJson(o, 1));
    out << nlohmann::json{{"report_id", result->report_id_hex},
                          {"banner", result->banner},
                          {"duplicate", result->duplicate},
                          {"outcomes", outcomes}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  } else {
    for (const auto& o : result->outcomes) PrintOutcome(out, o);
    if (result->duplicate) out << "(already stored by the broker; not routed again)\n";
  }
  return all ? kExitOk : kExitNegative;
}

}  // namespace tearline::node::command_detail

namespace tearline::node::command_detail {

int DoForward(const NodeConfig& config, const std::string& id, const std::string& to_raw,
              const std::vector<std::uint32_t>& portions, double timeout_s, bool json,
              std::ostream& out, std::ostream& err) {
  auto policy = LoadPolicyFor(config);
  if (!policy.ok()) return Fail(err, policy.status(), kExitInvalid);
  if (!policy->IsNation(to_raw)) {
    return Fail(err,
                InvalidArgument("FORWARD_BAD_TARGET",
                                "--to must name one nation of the policy, e.g. --to KOR"),
                kExitInvalid);
  }
  if (!(timeout_s > 0) || timeout_s * 1000 > kMaxSendTimeoutMs) {
    return Fail(err, InvalidArgument("SEND_BAD_TIMEOUT", "--timeout out of range"), kExitInvalid);
  }
  ControlRequest req;
  req.op = ControlOp::kForward;
  req.id = id;
  req.to = {to_raw};
  req.timeout_ms = static_cast<std::uint32_t>(timeout_s * 1000);
  for (std::uint32_t n : portions) {
    if (n == 0 || n > kMaxPortions) {
      return Fail(err, InvalidArgument("FORWARD_BAD_PORTION", "--portion counts from 1 to 64"),
                  kExitInvalid);
    }
    req.indices.push_back(n - 1);
  }
  auto reply = CallControl(config, EncodeControlRequest(req),
                           std::chrono::milliseconds(req.timeout_ms) + kReplySlack);
  if (!reply.ok()) return FailFromDaemon(err, reply.status());
  auto result = DecodeSendResponse(*reply);
  if (!result.ok()) return FailFromDaemon(err, result.status());
  const bool all = EveryRecipientReleased(result->outcomes);
  if (json) {
    nlohmann::json outcomes = nlohmann::json::array();
    for (const auto& o : result->outcomes) outcomes.push_back(OutcomeToJson(o, 1));
    out << nlohmann::json{{"forward_id", result->report_id_hex}, {"outcomes", outcomes}}.dump(
               -1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  } else {
    out << "FORWARDED as " << result->report_id_hex << "\n";
    for (const auto& o : result->outcomes) PrintOutcome(out, o);
  }
  return all ? kExitOk : kExitNegative;
}

}  // namespace tearline::node::command_detail
