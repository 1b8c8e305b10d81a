#include "cluster.h"

#include <unistd.h>

#include <array>
#include <cctype>
#include <fstream>
#include <random>
#include <thread>

#include "tearline/node/control_client.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/node_config.h"

namespace tearline::bench {
namespace {

// Trigraphs of the shipped coalition policy, so every node's nation is known to it.
constexpr std::array<const char*, 24> kNations = {
    "USA", "GBR", "AUS", "CAN", "NZL", "JPN", "KOR", "FRA", "DEU", "ITA", "ESP", "NLD",
    "NOR", "DNK", "BEL", "POL", "PRT", "SWE", "FIN", "EST", "LTU", "LVA", "CZE", "ROU"};

Status SetupError(std::string message) {
  return {Code::kUnavailable, "BENCH_SETUP", std::move(message)};
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string Tail(const std::string& text) {
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

// Polls `done` every 20 ms until it holds or `timeout` passes.
template <typename F>
bool WaitUntil(F done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace

std::string BenchNation(int index) {
  return kNations[static_cast<std::size_t>(index) % kNations.size()];
}

Result<std::unique_ptr<Cluster>> Cluster::Create(const ClusterOptions& options) {
  std::unique_ptr<Cluster> c(new Cluster(options));
  const auto parent =
      options.parent_dir.empty() ? std::filesystem::temp_directory_path() : options.parent_dir;
  std::random_device rd;
  std::error_code ec;
  for (int attempt = 0; attempt < 100 && c->root_.empty(); ++attempt) {
    auto candidate =
        parent / ("tearline-bench-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate, ec)) c->root_ = candidate;
  }
  if (c->root_.empty()) return SetupError("cannot create a directory under " + parent.string());
  std::filesystem::permissions(c->root_, std::filesystem::perms::owner_all, ec);
  std::filesystem::create_directories(c->root_ / "data", ec);
  std::filesystem::create_directories(c->root_ / "certs", ec);

  const std::string ca = (c->root_ / "ca").string(), certs = (c->root_ / "certs").string();
  if (auto st = c->Certs({"init-ca", "--out", ca}); !st.ok()) return st;
  if (auto st = c->Certs({"issue", "--ca", ca, "--node", "broker", "--nation", "USA", "--clearance",
                          "TOP SECRET", "--role", "broker", "--out", certs});
      !st.ok()) {
    return st;
  }
  std::map<std::string, int> per_nation;
  for (int i = 0; i < options.nodes; ++i) {
    ClusterNode n;
    n.nation = BenchNation(i);
    std::string lower = n.nation;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    n.id = lower + "-" + std::to_string(++per_nation[n.nation]);
    if (auto st = c->Certs({"issue", "--ca", ca, "--node", n.id, "--nation", n.nation,
                            "--clearance", "SECRET", "--out", certs});
        !st.ok()) {
      return st;
    }
    c->nodes_.push_back(n);
  }
  return c;
}

Cluster::~Cluster() {
  daemons_.clear();
  broker_.reset();
  if (!options_.keep_dir && !root_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
}

Status Cluster::Certs(std::vector<std::string> args) {
  args.insert(args.begin(), (options_.bin_dir / "tearline-certs").string());
  auto out = RunCommand(args, std::chrono::seconds(60));
  return out.ok() ? Status() : out.status();
}

std::filesystem::path Cluster::CertPath(const std::string& id) const {
  return root_ / "certs" / (id + ".cert");
}
std::filesystem::path Cluster::SecretPath(const std::string& id) const {
  return root_ / "certs" / (id + ".secret");
}
std::filesystem::path Cluster::NodeConfigPath(const std::string& id) const {
  return root_ / (id + ".toml");
}
std::filesystem::path Cluster::NodeDataDir(const std::string& id) const {
  return root_ / "data" / id;
}
std::filesystem::path Cluster::SyncFile(const std::string& name) const {
  return root_ / (name + ".syncs");
}

std::string Cluster::BrokerConfig() const {
  std::string text =
      "[broker]\nid = \"broker\"\nendpoint = \"tcp://127.0.0.1:0\"\n"
      "certificate = \"certs/broker.cert\"\nsecret = \"certs/broker.secret\"\n"
      "ca_dir = \"ca\"\ndirectory = \"certs\"\ndata_dir = \"data/broker\"\n"
      "heartbeat_ms = 1000\n";
  text += "policy = \"" + options_.policy.string() + "\"\n";
  if (!options_.shipped_limits) {
    // Quotas far above any run, so the run measures the pipeline (see the file comment).
    text +=
        "rate_per_node = 100000\nframe_rate_per_node = 100000\n"
        "max_queue_per_node = 1000000\nmax_queue_per_sender_per_recipient = 1000000\n"
        "max_store_bytes = 68719476736\nmax_store_bytes_per_node = 68719476736\n";
  }
  return text + options_.broker_extra;
}

Status Cluster::StartBroker() {
  const auto config = root_ / "broker.toml";
  std::ofstream(config) << BrokerConfig();
  std::error_code ec;
  std::filesystem::remove(BrokerDataDir() / "endpoint", ec);
  broker_ = std::make_unique<Process>(
      "broker",
      std::vector<std::string>{(options_.bin_dir / "tearline-broker").string(), "--config",
                               config.string()},
      root_ / "broker.log", options_.probe.Wrapper(SyncFile("broker")));
  if (!WaitUntil([&] { return std::filesystem::exists(BrokerDataDir() / "endpoint"); },
                 std::chrono::seconds(20))) {
    return SetupError("the broker did not start: " + Tail(ReadAll(root_ / "broker.log")));
  }
  std::string ep = ReadAll(BrokerDataDir() / "endpoint");
  while (!ep.empty() && (ep.back() == '\n' || ep.back() == '\r')) ep.pop_back();
  endpoint_ = ep;
  return {};
}

Status Cluster::StartNode(const std::string& id) {
  const auto config = NodeConfigPath(id);
  std::ofstream(config) << "[node]\nid = \"" << id << "\"\nbroker_endpoint = \"" << endpoint_
                        << "\"\nbroker_certificate = \"certs/broker.cert\"\n"
                        << "certificate = \"certs/" << id << ".cert\"\nsecret = \"certs/" << id
                        << ".secret\"\nca_dir = \"ca\"\ndata_dir = \"data/" << id << "\"\n"
                        << "heartbeat_ms = 1000\npolicy = \"" << options_.policy.string() << "\"\n"
                        << options_.node_extra;
  daemons_[id] = std::make_unique<Process>(
      id,
      std::vector<std::string>{(options_.bin_dir / "tearline-node").string(), "run", "--config",
                               config.string()},
      root_ / (id + ".log"), options_.probe.Wrapper(SyncFile(id)));
  auto loaded = node::LoadNodeConfig(config);
  if (!loaded.ok()) return loaded.status();
  const bool up = WaitUntil(
      [&] {
        node::ControlRequest request;
        request.op = node::ControlOp::kStatus;
        auto r = node::CallControl(*loaded, node::EncodeControlRequest(request),
                                   std::chrono::seconds(2));
        if (!r.ok()) return false;
        auto status = node::DecodeStatusResponse(*r);
        return status.ok() && status->connected;
      },
      std::chrono::seconds(30));
  if (!up)
    return SetupError("node " + id + " did not connect: " + Tail(ReadAll(root_ / (id + ".log"))));
  return {};
}

void Cluster::StopNode(const std::string& id) {
  auto it = daemons_.find(id);
  if (it != daemons_.end() && it->second) it->second->Stop();
}

Process* Cluster::node(const std::string& id) {
  auto it = daemons_.find(id);
  return it == daemons_.end() ? nullptr : it->second.get();
}

std::vector<Process*> Cluster::processes() {
  std::vector<Process*> out;
  if (broker_ && broker_->running()) out.push_back(broker_.get());
  for (auto& [id, p] : daemons_) {
    if (p && p->running()) out.push_back(p.get());
  }
  return out;
}

}  // namespace tearline::bench
