// tearline-broker --config FILE: routes sealed reports between national nodes.
// tearline-broker --check-config FILE: validates FILE and the files it names, starts nothing.
// Exit statuses (tearline/cli/daemon_exit.h): 0 clean stop on SIGTERM/SIGINT (after the final
// signed checkpoint) or a valid configuration; 2 usage or a start-up refusal; 78 the
// configuration is invalid; 74 a fatal I/O failure; 70 any other fatal failure. Every failure
// is one line on stderr: "tearline-broker: error: REASON: message".
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <exception>
#include <iostream>

#include "tearline/base/clock.h"
#include "tearline/broker/broker.h"
#include "tearline/broker/broker_config_check.h"
#include "tearline/cli/command_line.h"
#include "tearline/cli/daemon_exit.h"

namespace {
constexpr const char* kProgram = "tearline-broker";
tearline::broker::Broker* g_broker = nullptr;
extern "C" void OnSignal(int) {
  if (g_broker != nullptr) g_broker->RequestStop();
}

int CheckConfig(const std::string& path) {
  auto checked = tearline::broker::CheckBrokerConfig(path, tearline::SystemClock::Get().UnixNow());
  if (!checked.ok()) {
    return tearline::cli::Fail(std::cerr, kProgram, checked.status(), tearline::cli::kExitConfig);
  }
  for (const auto& skipped : checked->skipped_certificates) {
    std::cerr << kProgram << ": warning: directory: " << skipped.reason() << ": "
              << tearline::cli::OneLine(skipped.message()) << "\n";
  }
  std::cout << path << ": valid (broker " << checked->id << ", " << checked->directory_nodes
            << " nodes in the directory)\n";
  return tearline::cli::kExitOk;
}
}  // namespace

int main(int argc, char** argv) {
  using tearline::cli::Fail;
  try {
    // The same line format as tearline-node's daemon: UTC time, level, `event=... key=value`.
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    CLI::App app{"Tearline broker: routes reports, enforces releasability, audits", kProgram};
    std::string config_path;
    std::string check_path;
    auto* config_opt = app.add_option("--config", config_path, "Broker configuration file (TOML)");
    auto* check_opt = app.add_option("--check-config", check_path,
                                     "Validate this configuration and the files it names, then "
                                     "exit (0 valid, 78 not)");
    config_opt->excludes(check_opt);
    try {
      app.parse(argc, argv);
      if (config_opt->count() == 0 && check_opt->count() == 0) {
        throw CLI::RequiredError("--config or --check-config");
      }
    } catch (const CLI::ParseError& e) {
      return app.exit(e) == 0 ? 0 : tearline::cli::kExitInvalid;
    }
    if (check_opt->count() > 0) return CheckConfig(check_path);
    auto config = tearline::broker::LoadBrokerConfig(config_path);
    if (!config.ok()) {
      return Fail(std::cerr, kProgram, config.status(),
                  tearline::cli::StartupExitCode(config.status()));
    }
    auto broker = tearline::broker::Broker::Start(*config);
    if (!broker.ok()) {
      return Fail(std::cerr, kProgram, broker.status(),
                  tearline::cli::StartupExitCode(broker.status()));
    }
    g_broker = broker->get();
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    // A write past the file-size limit then fails with EFBIG, which the audit log reports and the
    // broker stops on with a clear line and a non-zero status, instead of dying silently.
    std::signal(SIGXFSZ, SIG_IGN);
    tearline::Status st = (*broker)->Run();
    g_broker = nullptr;
    if (!st.ok()) return Fail(std::cerr, kProgram, st, tearline::cli::RunExitCode(st));
    return tearline::cli::kExitOk;
  } catch (const std::exception& e) {
    std::cerr << kProgram << ": error: INTERNAL: " << tearline::cli::OneLine(e.what()) << "\n";
    return tearline::cli::kExitSoftware;
  }
}
