// A benchmark coalition on 127.0.0.1: a root CA and certificates made with the real
// tearline-certs, a real tearline-broker and (end-to-end mode) real tearline-node daemons, all
// under one temporary directory, with ephemeral ports. It mirrors what the integration tests'
// Coalition does (tests/support/coalition.cc) without GoogleTest, so the bench binary can run
// anywhere the programs are built.
//
// Limits: unless `shipped_limits` is set, the broker runs with its per-node quotas (submit rate,
// frame rate, queue shares) raised far above what a run can reach, so the run measures the
// pipeline's capacity, not the rate limiter. Extra configuration lines override both.
//
// Ownership: owns its processes (stopped on destruction, nodes first) and the directory (removed
// unless `keep_dir`). Thread-safety: one thread at a time; the accessors of a started cluster
// (paths, ids) may be read from any thread.
#ifndef TEARLINE_BENCH_LOAD_CLUSTER_H_
#define TEARLINE_BENCH_LOAD_CLUSTER_H_

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "process.h"
#include "sync_probe.h"
#include "tearline/base/status.h"

namespace tearline::bench {

struct ClusterOptions {
  int nodes = 4;
  std::filesystem::path bin_dir;     // Where tearline-certs/-broker/-node are.
  std::filesystem::path policy;      // The coalition policy file.
  std::filesystem::path parent_dir;  // Empty: the system temp dir.
  bool keep_dir = false;
  bool shipped_limits = false;
  std::string broker_extra;  // More `[broker]` lines.
  std::string node_extra;    // More `[node]` lines.
  SyncProbe probe = SyncProbe::Disabled("not requested");
};

struct ClusterNode {
  std::string id;      // e.g. "gbr-1"
  std::string nation;  // e.g. "GBR"
};

class Cluster {
 public:
  // Creates the directory, the CA, the broker's and every node's certificate.
  // Errors: BENCH_COMMAND (tearline-certs failed), BENCH_SETUP.
  static Result<std::unique_ptr<Cluster>> Create(const ClusterOptions& options);
  ~Cluster();

  // Starts the broker and waits (bounded) until it wrote its endpoint. Errors: BENCH_SETUP.
  Status StartBroker();
  // Starts node `id`'s daemon and waits until `status` says it is connected. Errors: BENCH_SETUP.
  Status StartNode(const std::string& id);
  void StopNode(const std::string& id);

  const std::filesystem::path& root() const { return root_; }
  const std::string& endpoint() const { return endpoint_; }
  const std::vector<ClusterNode>& nodes() const { return nodes_; }
  std::filesystem::path CertPath(const std::string& id) const;
  std::filesystem::path SecretPath(const std::string& id) const;
  std::filesystem::path NodeConfigPath(const std::string& id) const;
  std::filesystem::path NodeDataDir(const std::string& id) const;
  const std::filesystem::path& PolicyPath() const { return options_.policy; }
  std::filesystem::path BrokerDataDir() const { return root_ / "data" / "broker"; }
  // perf interval file of a process ("broker" or a node id).
  std::filesystem::path SyncFile(const std::string& name) const;
  Process* broker() { return broker_.get(); }
  Process* node(const std::string& id);
  // The broker and every running node, for measurement.
  std::vector<Process*> processes();

 private:
  explicit Cluster(const ClusterOptions& options) : options_(options) {}
  Status Certs(std::vector<std::string> args);
  std::string BrokerConfig() const;

  ClusterOptions options_;
  std::filesystem::path root_;
  std::string endpoint_;
  std::vector<ClusterNode> nodes_;
  std::unique_ptr<Process> broker_;
  std::map<std::string, std::unique_ptr<Process>> daemons_;
};

// The nation of the i-th benchmark node (0-based), cycling through the coalition's trigraphs.
std::string BenchNation(int index);

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_CLUSTER_H_
