// Test harness: a coalition made with the real tearline-certs binary, under one TempDir. For
// integration tests it also runs a real tearline-broker process and real tearline-node daemons
// on 127.0.0.1 with ephemeral ports; unit tests that run a daemon in process against a stand-in
// broker use only its certificates and NodeConfig(id, options). Every process is stopped when
// the harness is destroyed.
#ifndef TEARLINE_TESTS_COALITION_H_
#define TEARLINE_TESTS_COALITION_H_

#include <cstddef>
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
  // The certificate and secret file tearline-certs wrote for `id` (a node or "broker").
  std::filesystem::path Cert(const std::string& id) const { return certs_dir() / (id + ".cert"); }
  std::filesystem::path Secret(const std::string& id) const {
    return certs_dir() / (id + ".secret");
  }

  // Runs tearline-certs; fails the test on a non-zero exit.
  void Certs(std::vector<std::string> args);
  void IssueNode(const std::string& id, const std::string& nation, const std::string& clearance);

  // Starts the broker and waits until it wrote its endpoint (port 0 -> ephemeral).
  // A second call restarts the broker on the same endpoint (port) and data_dir.
  void StartBroker(const std::string& extra_config = "");
  void StopBroker(int sig = 15);
  // kill -9: no shutdown record, no final checkpoint, whatever was not yet durable is lost.
  void KillBroker();
  // Sends a signal without waiting (e.g. SIGSTOP / SIGCONT to freeze and thaw the broker).
  void SignalBroker(int sig);
  ChildProcess* broker() { return broker_.get(); }

  // Mounts a tmpfs of `size_bytes` on broker_data() (before StartBroker) so a test can fill the
  // broker's disk. Returns false with `why` when mounting is not permitted (not root, no
  // CAP_SYS_ADMIN, ...); the caller should GTEST_SKIP. The harness unmounts it on destruction,
  // after every process has stopped.
  bool MountBrokerTmpfs(std::size_t size_bytes, std::string* why);

  // Runs `tearline-audit verify <broker_data()>/audit` (read-only; safe while the broker runs).
  ProcessResult VerifyAudit();
  const std::string& endpoint() const { return endpoint_; }

  // What a node configuration may say other than the defaults (empty: this coalition's own).
  struct NodeConfigOptions {
    std::string broker_endpoint;  // Empty: the broker started by StartBroker().
    std::string cert_id;          // Use this id's certificate instead of the node's own.
    std::string secret_id;        // Use this id's secret file instead of the node's own.
    std::string broker_cert_id = "broker";
    int heartbeat_ms = 250;
  };
  // Writes <root>/<id>.toml and returns its path.
  std::filesystem::path NodeConfig(const std::string& id) { return NodeConfig(id, {}); }
  std::filesystem::path NodeConfig(const std::string& id, const NodeConfigOptions& options);
  // Starts a node daemon and waits until its control socket answers `status`.
  void StartNode(const std::string& id);
  // Same, with more `[node]` lines in its configuration (e.g. "max_inbox_reports = 2\n").
  void StartNode(const std::string& id, const std::string& extra_config);
  // Same, with a configuration written from `options` (e.g. another certificate and secret).
  void StartNode(const std::string& id, const NodeConfigOptions& options,
                 const std::string& extra_config);
  void StopNode(const std::string& id, int sig = 15);
  void KillNode(const std::string& id) { StopNode(id, 9); }
  void SignalNode(const std::string& id, int sig);
  std::string NodeLog(const std::string& id) const { return ReadFile(dir_ / (id + ".log")); }
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
  bool tmpfs_mounted_ = false;
};

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_COALITION_H_
