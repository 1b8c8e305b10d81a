// Test harness for integration tests: a coalition made with the real tearline-certs binary,
// a real tearline-broker process and real tearline-node daemons on 127.0.0.1 with ephemeral
// ports, all under one TempDir. Every process is stopped when the harness is destroyed.
#ifndef TEARLINE_TESTS_COALITION_H_
#define TEARLINE_TESTS_COALITION_H_

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_support.h"

namespace tearline::testing {

class Coalition {
 public:
  Coalition();
  ~Coalition();

  const std::filesystem::path& root() const { return dir_.path(); }
  std::filesystem::path ca_dir() const { return dir_ / "ca"; }
  std::filesystem::path certs_dir() const { return dir_ / "certs"; }
  std::filesystem::path broker_data() const { return dir_ / "data" / "broker"; }
  std::filesystem::path node_data(const std::string& id) const { return dir_ / "data" / id; }

  // Runs tearline-certs; fails the test on a non-zero exit.
  void Certs(std::vector<std::string> args);
  void IssueNode(const std::string& id, const std::string& nation, const std::string& clearance);

  // Starts the broker and waits until it wrote its endpoint (port 0 -> ephemeral).
  void StartBroker(const std::string& extra_config = "");
  void StopBroker(int sig = 15);
  ChildProcess* broker() { return broker_.get(); }
  const std::string& endpoint() const { return endpoint_; }

  std::filesystem::path NodeConfig(const std::string& id);
  // Starts a node daemon and waits until its control socket answers `status`.
  void StartNode(const std::string& id);
  void StopNode(const std::string& id, int sig = 15);
  ChildProcess* node(const std::string& id) { return nodes_[id].get(); }

  // Runs `tearline-node SUBCOMMAND --config <id's config> ARGS...`.
  ProcessResult NodeCli(const std::string& id, const std::string& subcommand,
                        std::vector<std::string> args,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

  std::string BrokerLog() const { return ReadFile(dir_ / "broker.log"); }
  std::string AuditLogText() const { return ReadFile(broker_data() / "audit" / "log.jsonl"); }

 private:
  TempDir dir_;
  std::unique_ptr<ChildProcess> broker_;
  std::map<std::string, std::unique_ptr<ChildProcess>> nodes_;
  std::string endpoint_;
};

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_COALITION_H_
