#include "traffic.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

namespace tearline::testing {

SendOutcome SendReport(Coalition& c, const std::string& from, const std::string& to,
                       const std::string& marking, const std::string& file,
                       double timeout_seconds) {
  std::ostringstream timeout;
  timeout << timeout_seconds;
  auto r = c.NodeCli(
      from, "send", {"--json", "--timeout", timeout.str(), "--to", to, "--portion", marking, file},
      std::chrono::milliseconds(static_cast<std::int64_t>(timeout_seconds * 1000) + 15000));
  SendOutcome s;
  s.exit_code = r.exit_code;
  s.out = r.out;
  s.err = r.err;
  auto json = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (json.is_object() && json.contains("report_id") && json["report_id"].is_string()) {
    s.report_id = json["report_id"].get<std::string>();
    if (json.contains("outcomes") && json["outcomes"].is_array()) {
      for (const auto& o : json["outcomes"]) {
        if (o.contains("state") && o["state"].is_string()) s.states.push_back(o["state"]);
      }
    }
  }
  return s;
}

std::map<std::string, int> InboxCounts(Coalition& c, const std::string& id, bool* ok) {
  std::map<std::string, int> counts;
  auto r = c.NodeCli(id, "inbox", {"--json"}, std::chrono::seconds(10));
  auto json = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  const bool good = r.exit_code == 0 && json.is_array();
  if (ok != nullptr) *ok = good;
  if (!good) return counts;
  for (const auto& e : json) {
    if (e.contains("report_id") && e["report_id"].is_string()) {
      ++counts[e["report_id"].get<std::string>()];
    }
  }
  return counts;
}

std::size_t CountAuditRecords(const std::string& audit_text, const std::string& type,
                              const std::string& needle) {
  std::size_t n = 0;
  std::istringstream in(audit_text);
  std::string line;
  while (std::getline(in, line)) {
    auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object() || json.value("type", std::string()) != type) continue;
    if (needle.empty() || line.find(needle) != std::string::npos) ++n;
  }
  return n;
}

std::uint64_t TestSeed() {
  if (const char* env = std::getenv("TEARLINE_TEST_SEED"); env != nullptr && *env != '\0') {
    return std::strtoull(env, nullptr, 10);
  }
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) | rd();
}

}  // namespace tearline::testing
