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

#include "node_command_internal.h"
#include "tearline/base/clock.h"
#include "tearline/base/encoding.h"
#include "tearline/cli/command_line.h"
#include "tearline/cli/daemon_exit.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"
#include "tearline/node/control_client.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/node_config.h"
#include "tearline/node/node_config_check.h"
#include "tearline/node/node_daemon.h"
#include "tearline/node/provenance_args.h"

namespace tearline::node {
namespace command_detail {

using cli::ParseCommandLine;

int Fail(std::ostream& err, const Status& s, int code) { return cli::Fail(err, kProgram, s, code); }

// NODE_NOT_RUNNING is a usage problem for the analyst (exit 2); everything else the daemon says
// no to is a negative answer (exit 1).
int FailFromDaemon(std::ostream& err, const Status& s) {
  const bool invalid = s.reason() == "NODE_NOT_RUNNING" || s.code() == Code::kInvalidArgument;
  return Fail(err, s, invalid ? kExitInvalid : kExitNegative);
}

}  // namespace command_detail

namespace {

using namespace command_detail;

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int /*signo*/) { g_stop.store(true); }

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
  if (!daemon.ok()) return Fail(err, daemon.status(), cli::StartupExitCode(daemon.status()));
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
    return Fail(err, s, s.reason() == "CONTROL_BIND_FAILED" ? kExitInvalid : cli::RunExitCode(s));
  }
  return kExitOk;
}

int DoCheckConfig(const std::filesystem::path& path, std::ostream& out, std::ostream& err) {
  auto checked = CheckNodeConfig(path, SystemClock::Get().UnixNow());
  if (!checked.ok()) return Fail(err, checked.status(), cli::kExitConfig);
  out << path.string() << ": valid (node " << checked->id << " of " << checked->nation
      << ", broker " << checked->broker_id << ")\n";
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
  auto* portion_opt =
      send->add_option("--portion", portions,
                       "Portion marking and content file, e.g. --portion \"(S//REL TO USA, GBR)\" "
                       "p1.txt (repeat for more portions; numbered from 1)");
  std::vector<std::string> derived_from;
  std::vector<std::string> override_provenance;
  auto* derived_opt = send->add_option(
      "--derived-from", derived_from,
      "ID:N: the portion before it is derived from portion N (from 1) of a report this node "
      "received or sent (repeatable); its label must keep releasing to the contributor");
  auto* override_opt = send->add_option(
      "--override-provenance", override_provenance,
      "Reason (audited) why the portion before it may exclude a contributing nation");
  send->add_option("--timeout", timeout_s, "Seconds to wait for the broker's confirmation (15)");

  auto* inbox = app.add_subcommand("inbox", "List received reports with their banners");

  std::string id;
  auto* read = app.add_subcommand("read", "Show the portions of a received report");
  read->add_option("ID", id, "Report id (or a unique prefix of at least 4 hex digits)")->required();
  std::string as;
  for (auto* sub : {inbox, read}) {
    sub->add_option("--as", as,
                    "Show markings in this nation's (or group's) own words, e.g. DEU (default: "
                    "this node's nation)");
  }

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

  std::string forward_to;
  std::vector<std::uint32_t> forward_portions;
  auto* forward = app.add_subcommand(
      "forward", "Forward portions of a received report to another nation, within its label");
  forward->add_option("REPORT_ID", id, "Received report id (or a unique prefix)")->required();
  forward->add_option("--to", forward_to, "The one nation to forward to")->required();
  forward->add_option("--portion", forward_portions,
                      "Portion number (from 1; repeat for more; default: every portion held)");
  forward->add_option("--timeout", timeout_s, "Seconds to wait for the broker's answer (15)");

  ReleaseArgs rel;
  auto* request_release = app.add_subcommand(
      "request-release", "Ask a portion's originator to release it to another nation");
  request_release->add_option("REPORT_ID", rel.id, "Report id (or a unique prefix)")->required();
  request_release->add_option("--portion", rel.portion, "Portion number (from 1)")->required();
  request_release->add_option("--to", rel.to, "Nation to release to")->required();
  request_release->add_option("--why", rel.why, "Justification for the originator")->required();
  auto* requests = app.add_subcommand(
      "requests", "List release requests made by and to this node, with their age and state");
  auto* approve = app.add_subcommand("approve", "Approve a release request made to this node");
  approve->add_option("REQUEST_ID", rel.id, "Request id (or a unique prefix)")->required();
  approve->add_option("--label", rel.label, "New portion label (default: widened to the nation)");
  approve->add_option("--sanitised", rel.sanitised_file,
                      "Release this sanitised version instead (needs --label)");
  auto* deny = app.add_subcommand("deny", "Deny a release request made to this node");
  deny->add_option("REQUEST_ID", rel.id, "Request id (or a unique prefix)")->required();
  deny->add_option("--why", rel.why, "The reason the requester will see")->required();

  auto* check = app.add_subcommand(
      "check-config",
      "Validate the configuration and the files it names without starting (0 valid, 78 not)");

  for (auto* sub : {run, send, inbox, read, status, track, prove, forward, request_release,
                    requests, approve, deny, check}) {
    sub->add_option("--config", config_path, "Node configuration file (TOML)")->required();
    if (sub != run && sub != check) sub->add_flag("--json", json, "Print JSON instead of text");
  }

  if (auto exit_code = ParseCommandLine(app, argc, argv, out, err)) return *exit_code;

  // An absolute configuration path makes every derived path (notably the ipc endpoint of the
  // control socket) independent of the working directory of the daemon and of the CLI.
  std::error_code ec;
  const auto abs_config = std::filesystem::absolute(config_path, ec);
  const auto path = ec ? std::filesystem::path(config_path) : abs_config;
  if (check->parsed()) return DoCheckConfig(path, out, err);
  auto config = LoadNodeConfig(path);
  // The daemon reports a bad configuration as supervisors expect (EX_CONFIG); the analyst's
  // commands keep their usage status.
  if (!config.ok())
    return Fail(err, config.status(), run->parsed() ? cli::kExitConfig : kExitInvalid);

  if (run->parsed()) return DoRun(*config, log_level, err);
  if (send->parsed()) {
    if (to.empty()) {
      return Fail(err,
                  InvalidArgument("SEND_NO_RECIPIENT",
                                  "--to is required: the nations to send to, e.g. --to GBR,JPN"),
                  kExitInvalid);
    }
    std::vector<SendArgKind> order;
    for (const CLI::Option* o : send->parse_order()) {
      if (o == portion_opt) order.push_back(SendArgKind::kPortionValue);
      if (o == derived_opt) order.push_back(SendArgKind::kDerivedFrom);
      if (o == override_opt) order.push_back(SendArgKind::kOverride);
    }
    auto provenance =
        AttributeProvenance(order, derived_from, override_provenance, portions.size());
    if (!provenance.ok()) return Fail(err, provenance.status(), kExitInvalid);
    return DoSend(*config, to, portions, *provenance, timeout_s, json, out, err);
  }
  if (forward->parsed()) {
    return DoForward(*config, id, forward_to, forward_portions, timeout_s, json, out, err);
  }
  if (inbox->parsed()) return DoInbox(*config, as, json, out, err);
  if (request_release->parsed()) return DoRelease(*config, "request", rel, json, out, err);
  if (requests->parsed()) return DoRelease(*config, "list", rel, json, out, err);
  if (approve->parsed()) return DoRelease(*config, "approve", rel, json, out, err);
  if (deny->parsed()) return DoRelease(*config, "deny", rel, json, out, err);
  if (read->parsed()) return DoRead(*config, id, as, json, out, err);
  if (track->parsed()) return DoTrack(*config, id, json, out, err);
  if (prove->parsed()) {
    return DoProve(*config, id,
                   seq_opt->count() > 0 ? std::optional<std::uint64_t>(seq) : std::nullopt, json,
                   out, err);
  }
  return DoStatus(*config, json, out, err);
}

}  // namespace tearline::node
