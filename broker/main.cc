// tearline-broker --config FILE: routes sealed reports between national nodes.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <exception>
#include <iostream>

#include "tearline/broker/broker.h"

namespace {
tearline::broker::Broker* g_broker = nullptr;
extern "C" void OnSignal(int) {
  if (g_broker != nullptr) g_broker->RequestStop();
}
}  // namespace

int main(int argc, char** argv) {
  try {
    // The same line format as tearline-node's daemon: UTC time, level, `event=... key=value`.
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    CLI::App app{"Tearline broker: routes reports, enforces releasability, audits",
                 "tearline-broker"};
    std::string config_path;
    app.add_option("--config", config_path, "Broker configuration file (TOML)")->required();
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e) == 0 ? 0 : 2;
    }
    auto config = tearline::broker::LoadBrokerConfig(config_path);
    if (!config.ok()) {
      std::cerr << "tearline-broker: error: " << config.status().ToString() << "\n";
      return 2;
    }
    auto broker = tearline::broker::Broker::Start(*config);
    if (!broker.ok()) {
      std::cerr << "tearline-broker: error: " << broker.status().ToString() << "\n";
      return 2;
    }
    g_broker = broker->get();
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    // A write past the file-size limit then fails with EFBIG, which the audit log reports and the
    // broker stops on with a clear line and a non-zero status, instead of dying silently.
    std::signal(SIGXFSZ, SIG_IGN);
    tearline::Status st = (*broker)->Run();
    g_broker = nullptr;
    if (!st.ok()) {
      std::cerr << "tearline-broker: error: " << st.ToString() << "\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "tearline-broker: error: INTERNAL: " << e.what() << "\n";
    return 1;
  }
}
