#include "coalition.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>

namespace tearline::testing {

Coalition::Coalition() {
  std::filesystem::create_directories(certs_dir());
  std::filesystem::create_directories(dir_ / "data");
  Certs({"init-ca", "--out", ca_dir().string()});
  Certs({"issue", "--ca", ca_dir().string(), "--node", "broker", "--nation", "USA", "--clearance",
         "TOP SECRET", "--role", "broker", "--out", certs_dir().string()});
}

Coalition::~Coalition() {
  for (auto& [id, node] : nodes_) node.reset();
  broker_.reset();
  if (tmpfs_mounted_ && ::umount(broker_data().c_str()) != 0) {
    // Still busy (should not happen: every process is gone): detach so the TempDir can go.
    ::umount2(broker_data().c_str(), MNT_DETACH);
  }
}

bool Coalition::MountBrokerTmpfs(std::size_t size_bytes, std::string* why) {
  std::filesystem::create_directories(broker_data());
  const std::string options = "size=" + std::to_string(size_bytes) + ",mode=0700";
  if (::mount("tmpfs", broker_data().c_str(), "tmpfs", 0, options.c_str()) != 0) {
    if (why != nullptr) {
      *why = std::string("cannot mount a tmpfs for the broker's data_dir (") +
             std::strerror(errno) + "); run as root or with CAP_SYS_ADMIN to test a full disk";
    }
    return false;
  }
  tmpfs_mounted_ = true;
  return true;
}

void Coalition::KillBroker() {
  if (broker_) broker_->Stop(SIGKILL);
}

void Coalition::SignalBroker(int sig) {
  if (broker_) broker_->Signal(sig);
}

void Coalition::SignalNode(const std::string& id, int sig) {
  auto it = nodes_.find(id);
  if (it != nodes_.end() && it->second) it->second->Signal(sig);
}

ProcessResult Coalition::VerifyAudit() {
  return RunProcess(
      {BinaryPath("tearline-audit").string(), "verify", (broker_data() / "audit").string()},
      std::chrono::seconds(60));
}

void Coalition::Certs(std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("tearline-certs").string());
  auto r = RunProcess(args, std::chrono::seconds(30));
  ASSERT_EQ(r.exit_code, 0) << "tearline-certs failed: " << r.err << r.out;
}

void Coalition::IssueNode(const std::string& id, const std::string& nation,
                          const std::string& clearance) {
  Certs({"issue", "--ca", ca_dir().string(), "--node", id, "--nation", nation, "--clearance",
         clearance, "--out", certs_dir().string()});
}

void Coalition::StartBroker(const std::string& extra_config) {
  const auto config = dir_ / "broker.toml";
  std::ofstream(config) << "[broker]\n"
                        << "id = \"broker\"\n"
                        << "endpoint = \"" << (endpoint_.empty() ? "tcp://127.0.0.1:0" : endpoint_)
                        << "\"\n"
                        << "certificate = \"certs/broker.cert\"\n"
                        << "secret = \"certs/broker.secret\"\n"
                        << "ca_dir = \"ca\"\n"
                        << "directory = \"certs\"\n"
                        << "data_dir = \"data/broker\"\n"
                        << "heartbeat_ms = 250\n"
                        << "policy = \"" << SourcePath("deploy/policy/coalition.toml").string()
                        << "\"\n"
                        << extra_config;
  std::filesystem::remove(broker_data() / "endpoint");
  broker_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{BinaryPath("tearline-broker").string(), "--config", config.string()},
      dir_ / "broker.log");
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(broker_data() / "endpoint"); }))
      << "broker did not start: " << BrokerLog();
  std::string ep = ReadFile(broker_data() / "endpoint");
  while (!ep.empty() && (ep.back() == '\n' || ep.back() == '\r')) ep.pop_back();
  endpoint_ = ep;
}

void Coalition::StopBroker(int sig) {
  if (broker_) broker_->Stop(sig);
}

std::filesystem::path Coalition::NodeConfig(const std::string& id,
                                            const NodeConfigOptions& options) {
  const auto config = dir_ / (id + ".toml");
  const auto or_id = [&](const std::string& other) { return other.empty() ? id : other; };
  std::ofstream(config) << "[node]\n"
                        << "id = \"" << id << "\"\n"
                        << "broker_endpoint = \""
                        << (options.broker_endpoint.empty() ? endpoint_ : options.broker_endpoint)
                        << "\"\n"
                        << "broker_certificate = \"certs/" << options.broker_cert_id << ".cert\"\n"
                        << "certificate = \"certs/" << or_id(options.cert_id) << ".cert\"\n"
                        << "secret = \"certs/" << or_id(options.secret_id) << ".secret\"\n"
                        << "ca_dir = \"ca\"\n"
                        << "data_dir = \"data/" << id << "\"\n"
                        << "heartbeat_ms = " << options.heartbeat_ms << "\n"
                        << "policy = \"" << SourcePath("deploy/policy/coalition.toml").string()
                        << "\"\n";
  return config;
}

void Coalition::StartNode(const std::string& id) { StartNode(id, std::string()); }

void Coalition::StartNode(const std::string& id, const std::string& extra_config) {
  StartNode(id, NodeConfigOptions{}, extra_config);
}

void Coalition::StartNode(const std::string& id, const NodeConfigOptions& options,
                          const std::string& extra_config) {
  const auto config = NodeConfig(id, options);
  std::ofstream(config, std::ios::app) << extra_config;
  nodes_[id] =
      std::make_unique<ChildProcess>(std::vector<std::string>{BinaryPath("tearline-node").string(),
                                                              "run", "--config", config.string()},
                                     dir_ / (id + ".log"));
  ASSERT_TRUE(WaitFor(
      [&] {
        // `status` exits 0 only when the daemon runs and is connected to the broker.
        return NodeCli(id, "status", {}, std::chrono::seconds(5)).exit_code == 0;
      },
      std::chrono::seconds(20)))
      << "node " << id << " did not connect: " << ReadFile(dir_ / (id + ".log"))
      << "\nthe broker is " << (broker_ && broker_->running() ? "running" : "NOT running")
      << "; its log ends:\n"
      << [&] {
           const std::string log = BrokerLog();
           return log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
         }();
}

void Coalition::StopNode(const std::string& id, int sig) {
  auto it = nodes_.find(id);
  if (it != nodes_.end() && it->second) it->second->Stop(sig);
}

ProcessResult Coalition::NodeCli(const std::string& id, const std::string& subcommand,
                                 std::vector<std::string> args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {BinaryPath("tearline-node").string(), subcommand, "--config",
                                   (dir_ / (id + ".toml")).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, timeout);
}

}  // namespace tearline::testing
