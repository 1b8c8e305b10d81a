#include "tearline/node/node_command.h"

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tearline/base/encoding.h"
#include "tearline/cli/command_line.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"
#include "tearline/node/control_client.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/node_config.h"
#include "tearline/node/node_daemon.h"

namespace tearline::node {
namespace {

constexpr std::string_view kProgram = "tearline-node";
// Extra time the CLI waits beyond the daemon's own send deadline, so the daemon's answer
// (including "not confirmed") is what the analyst sees.
constexpr std::chrono::milliseconds kReplySlack{5000};
constexpr std::chrono::milliseconds kQueryTimeout{10000};
// track/prove wait for the broker; the daemon gives up after 8 s and answers with why.
constexpr std::chrono::milliseconds kBrokerQueryTimeout{15000};

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int /*signo*/) { g_stop.store(true); }

using cli::OneLine;
using cli::ParseCommandLine;

int Fail(std::ostream& err, const Status& s, int code) { return cli::Fail(err, kProgram, s, code); }

// NODE_NOT_RUNNING is a usage problem for the analyst (exit 2); everything else the daemon says
// no to is a negative answer (exit 1).
int FailFromDaemon(std::ostream& err, const Status& s) {
  const bool invalid = s.reason() == "NODE_NOT_RUNNING" || s.code() == Code::kInvalidArgument;
  return Fail(err, s, invalid ? kExitInvalid : kExitNegative);
}

Result<Policy> LoadPolicyFor(const NodeConfig& c) {
  auto p = Policy::LoadFile(c.policy.empty() ? DefaultPolicyPath() : c.policy.string());
  if (!p.ok()) return p.status().WithContext("policy");
  return p;
}

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

int DoSend(const NodeConfig& config, const std::vector<std::string>& to_raw,
           const std::vector<std::pair<std::string, std::string>>& portions, double timeout_s,
           bool json, std::ostream& out, std::ostream& err) {
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
  ControlRequest req;
  req.op = ControlOp::kSend;
  req.to = *to;
  req.timeout_ms = static_cast<std::uint32_t>(timeout_s * 1000);
  std::size_t total = 0;
  for (std::size_t i = 0; i < portions.size(); ++i) {
    const auto& [marking, file] = portions[i];
    auto m = ParseMarking(marking, *policy);
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
    req.portions.push_back({marking, std::move(content).value()});
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
  bool all = !result->outcomes.empty();
  for (const auto& o : result->outcomes) {
    if (o.state == schema::DeliveryState::Denied) all = false;
  }
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

int DoInbox(const NodeConfig& config, bool json, std::ostream& out, std::ostream& err) {
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
      // 1-based portion numbers for analysts, as everywhere in the CLI.
      for (auto& p : j["portions"])
        p = {{"portion", p["index"].get<std::uint32_t>() + 1}, {"label", p["label"]}};
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
        << e.portion_count << "  " << e.banner << "\n";
  }
  return kExitOk;
}

int DoRead(const NodeConfig& config, const std::string& id, bool json, std::ostream& out,
           std::ostream& err) {
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
    }
    out << nlohmann::json{{"report_id", e.report_id_hex},
                          {"banner", e.banner},
                          {"originator", e.originator},
                          {"originator_nation", e.originator_nation},
                          {"created_unix", e.created_unix},
                          {"received_unix", e.received_unix},
                          {"portion_count", e.portion_count},
                          {"portions", portions}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
    return kExitOk;
  }
  std::vector<std::uint32_t> received;
  for (const auto& p : r->portions) received.push_back(p.index);
  out << e.banner << "\n";
  out << "report " << e.report_id_hex << " from " << e.originator << " (" << e.originator_nation
      << "), created " << FormatUnixTime(e.created_unix) << ", received "
      << FormatUnixTime(e.received_unix) << "\n";
  out << "portions " << JoinNumbers(received, 1) << " of " << e.portion_count;
  if (received.size() < e.portion_count) {
    out << " (" << (e.portion_count - received.size()) << " withheld from this nation)";
  }
  out << "\n";
  for (const auto& p : r->portions) {
    out << "\n" << p.label << " portion " << (p.index + 1) << "\n";
    out.write(reinterpret_cast<const char*>(p.content.data()),
              static_cast<std::streamsize>(p.content.size()));
    if (p.content.empty() || p.content.back() != '\n') out << "\n";
  }
  out << "\n" << e.banner << "\n";
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
  }
  return s->connected ? kExitOk : kExitNegative;
}

// Broker refusals and "not found" answers are negative answers (exit 1), not usage errors.
int FailQuery(std::ostream& err, const Status& s) {
  if (s.reason() == "REPORT_BAD_ID" || s.reason() == "REPORT_AMBIGUOUS_ID") {
    return Fail(err, s, kExitInvalid);
  }
  return FailFromDaemon(err, s);
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : OneLine(s); }

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
      items.push_back({{"seq", i.seq},
                       {"description", i.description},
                       {"verified", i.verified},
                       {"reason", i.reason},
                       {"message", i.message},
                       {"checkpoint_size", i.checkpoint_size},
                       {"signer", i.signer}});
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

// Installs the daemon's stderr logger for the duration of `run` and puts the previous default
// logger back afterwards (RunNodeCommand may run in-process, e.g. in tests).
class ScopedLogger {
 public:
  explicit ScopedLogger(const std::string& name) : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    logger_ = std::make_shared<spdlog::logger>(name, std::move(sink));
    logger_->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    spdlog::set_default_logger(logger_);
  }
  ~ScopedLogger() {
    logger_->flush();
    spdlog::set_default_logger(previous_);
  }
  ScopedLogger(const ScopedLogger&) = delete;
  ScopedLogger& operator=(const ScopedLogger&) = delete;
  spdlog::logger& logger() { return *logger_; }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::logger> logger_;
};

int DoRun(const NodeConfig& config, const std::string& log_level, std::ostream& err) {
  const auto level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off") {
    return Fail(err,
                InvalidArgument("NODE_BAD_LOG_LEVEL", "unknown --log-level '" + log_level + "'"),
                kExitInvalid);
  }
  ScopedLogger scoped("tearline-node");
  scoped.logger().set_level(level);
  auto daemon = NodeDaemon::Create(config);
  if (!daemon.ok()) return Fail(err, daemon.status(), kExitInvalid);
  g_stop.store(false);
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // No SA_RESTART: let zmq::poll return EINTR at once.
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  Status s = (*daemon)->Run(g_stop);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  daemon->reset();
  if (!s.ok()) {
    // Binding the control socket fails before serving anything: a start-up error.
    return Fail(err, s, s.reason() == "CONTROL_BIND_FAILED" ? kExitInvalid : kExitNegative);
  }
  return kExitOk;
}

}  // namespace

int RunNodeCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"Tearline national node: daemon and analyst client", std::string(kProgram)};
  app.require_subcommand(1);
  std::string config_path;
  bool json = false;

  std::string log_level = "info";
  auto* run = app.add_subcommand("run", "Run the node daemon until SIGINT/SIGTERM");
  run->add_option("--log-level", log_level, "trace, debug, info (default), warn, error");

  std::vector<std::string> to;
  std::vector<std::pair<std::string, std::string>> portions;
  double timeout_s = kDefaultSendTimeoutMs / 1000.0;
  auto* send = app.add_subcommand("send", "Seal and send a report to nations through the broker");
  send->add_option("--to", to, "Recipient nations or group codes, comma separated");
  send->add_option("--portion", portions,
                   "Portion marking and content file, e.g. --portion \"(S//REL TO USA, GBR)\" "
                   "p1.txt (repeat for more portions; numbered from 1)");
  send->add_option("--timeout", timeout_s, "Seconds to wait for the broker's confirmation (15)");

  auto* inbox = app.add_subcommand("inbox", "List received reports with their banners");

  std::string id;
  auto* read = app.add_subcommand("read", "Show the portions of a received report");
  read->add_option("ID", id, "Report id (or a unique prefix of at least 4 hex digits)")->required();

  auto* status = app.add_subcommand("status", "Show the daemon's connection and inbox state");

  auto* track =
      app.add_subcommand("track", "Ask the broker what became of a report this node sent");
  track->add_option("REPORT_ID", id, "Report id (or a unique prefix of at least 4 hex digits)")
      ->required();

  std::uint64_t seq = 0;
  auto* prove = app.add_subcommand(
      "prove", "Verify the broker's audit log records for a report (inclusion proofs)");
  prove->add_option("REPORT_ID", id, "Report id (or a unique prefix of at least 4 hex digits)")
      ->required();
  auto* seq_opt =
      prove->add_option("--seq", seq, "Prove only this audit record (it must name the report)");

  for (auto* sub : {run, send, inbox, read, status, track, prove}) {
    sub->add_option("--config", config_path, "Node configuration file (TOML)")->required();
    if (sub != run) sub->add_flag("--json", json, "Print JSON instead of text");
  }

  if (auto exit_code = ParseCommandLine(app, argc, argv, out, err)) return *exit_code;

  // An absolute configuration path makes every derived path (notably the ipc endpoint of the
  // control socket) independent of the working directory of the daemon and of the CLI.
  std::error_code ec;
  const auto abs_config = std::filesystem::absolute(config_path, ec);
  auto config = LoadNodeConfig(ec ? std::filesystem::path(config_path) : abs_config);
  if (!config.ok()) return Fail(err, config.status(), kExitInvalid);

  if (run->parsed()) return DoRun(*config, log_level, err);
  if (send->parsed()) {
    if (to.empty()) {
      return Fail(err,
                  InvalidArgument("SEND_NO_RECIPIENT",
                                  "--to is required: the nations to send to, e.g. --to GBR,JPN"),
                  kExitInvalid);
    }
    return DoSend(*config, to, portions, timeout_s, json, out, err);
  }
  if (inbox->parsed()) return DoInbox(*config, json, out, err);
  if (read->parsed()) return DoRead(*config, id, json, out, err);
  if (track->parsed()) return DoTrack(*config, id, json, out, err);
  if (prove->parsed()) {
    return DoProve(*config, id,
                   seq_opt->count() > 0 ? std::optional<std::uint64_t>(seq) : std::nullopt, json,
                   out, err);
  }
  return DoStatus(*config, json, out, err);
}

}  // namespace tearline::node
