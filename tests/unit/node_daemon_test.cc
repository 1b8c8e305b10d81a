// NodeDaemon against a scripted stand-in broker (a CURVE ROUTER driven by the test), so the
// node's side of the protocol is checked frame by frame: Hello/Welcome, directory, sealing with
// per-portion recipients, outcome printing, Deliver -> verify -> store -> signed Ack, duplicate
// and tampered deliveries, broker unavailability, start-up refusals and signal shutdown.
#include "tearline/node/node_daemon.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "tearline/certificate.h"
#include "tearline/envelope.h"
#include "tearline/key_file.h"
#include "tearline/keys.h"
#include "tearline/node/node_command.h"
#include "tearline/node/node_config.h"
#include "tearline/wire.h"
#include "test_support.h"

extern char** environ;

namespace tearline::node {
namespace {

using tearline::testing::BinaryPath;
using tearline::testing::CoalitionPolicy;
using tearline::testing::RunProcess;
using tearline::testing::TempDir;
using namespace std::chrono_literals;

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

CliResult Cli(std::vector<std::string> args) {
  args.insert(args.begin(), "tearline-node");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  CliResult r;
  r.code = RunNodeCommand(static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::vector<std::uint8_t> FileBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The coalition for every test: a CA, a broker and three nodes, made by tearline-certs.
class Coalition {
 public:
  Coalition() {
    Certs({"init-ca", "--out", (dir_ / "ca").string()});
    Certs({"issue", "--ca", (dir_ / "ca").string(), "--node", "broker", "--nation", "USA",
           "--clearance", "TOP SECRET", "--role", "broker", "--out", (dir_ / "certs").string()});
    for (auto [id, nation] : {std::pair{"usa-1", "USA"}, {"gbr-1", "GBR"}, {"jpn-1", "JPN"}}) {
      Certs({"issue", "--ca", (dir_ / "ca").string(), "--node", id, "--nation", nation,
             "--clearance", "SECRET", "--out", (dir_ / "certs").string()});
    }
  }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path Cert(const std::string& id) const {
    return dir_ / ("certs/" + id + ".cert");
  }
  std::filesystem::path Secret(const std::string& id) const {
    return dir_ / ("certs/" + id + ".secret");
  }

  // Writes a node configuration and returns its path.
  std::string Config(const std::string& id, const std::string& endpoint,
                     const std::string& cert_id = "", const std::string& secret_id = "",
                     const std::string& broker_cert = "broker") const {
    const auto path = dir_ / (id + ".toml");
    std::ofstream(path) << "[node]\nid = \"" << id << "\"\nbroker_endpoint = \"" << endpoint
                        << "\"\nbroker_certificate = \"certs/" << broker_cert
                        << ".cert\"\ncertificate = \"certs/" << (cert_id.empty() ? id : cert_id)
                        << ".cert\"\nsecret = \"certs/" << (secret_id.empty() ? id : secret_id)
                        << ".secret\"\nca_dir = \"ca\"\ndata_dir = \"data/" << id
                        << "\"\nheartbeat_ms = 200\n";
    return path.string();
  }

 private:
  void Certs(std::vector<std::string> args) {
    args.insert(args.begin(), BinaryPath("tearline-certs").string());
    auto r = RunProcess(args, 30s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  TempDir dir_;
};

// A scripted broker: CURVE server with the broker's key, no ZAP (the test trusts the node).
class FakeBroker {
 public:
  explicit FakeBroker(const Coalition& c) : sock_(ctx_, zmq::socket_type::router) {
    auto keys = ReadIdentitySecret(c.Secret("broker"));
    EXPECT_TRUE(keys.ok()) << keys.status().ToString();
    sock_.set(zmq::sockopt::linger, 0);
    sock_.set(zmq::sockopt::curve_server, 1);
    sock_.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(keys->transport.secret_key.data(),
                                                               keys->transport.secret_key.size()));
    sock_.bind("tcp://127.0.0.1:*");
    endpoint_ = sock_.get(zmq::sockopt::last_endpoint);
    for (const auto* id : {"usa-1", "gbr-1", "jpn-1"}) certs_.push_back(FileBytes(c.Cert(id)));
  }
  const std::string& endpoint() const { return endpoint_; }

  // Receives the next frame that is not a Ping, DirectoryRequest or CheckpointRequest (those
  // are answered here; this stand-in has no audit log, so checkpoint requests are ignored).
  std::optional<std::vector<std::uint8_t>> Next(std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 50ms);
      if ((item.revents & ZMQ_POLLIN) == 0) continue;
      std::vector<zmq::message_t> parts;
      (void)zmq::recv_multipart(sock_, std::back_inserter(parts));
      if (parts.size() != 2) continue;
      peer_ = parts[0].to_string();
      std::vector<std::uint8_t> bytes(parts[1].data<std::uint8_t>(),
                                      parts[1].data<std::uint8_t>() + parts[1].size());
      auto f = DecodeFrame(bytes);
      EXPECT_TRUE(f.ok());
      if (!f.ok()) continue;
      if ((*f)->body_type() == schema::Body::Ping) {
        Send(EncodePong((*f)->request_id(), (*f)->body_as_Ping()->nonce()));
        continue;
      }
      if ((*f)->body_type() == schema::Body::CheckpointRequest) continue;
      if (greeted_ && (*f)->body_type() == schema::Body::Hello) {
        // The node re-greets after a quiet spell; a real broker answers Welcome again.
        Send(EncodeWelcome((*f)->request_id(), "broker", std::time(nullptr), 2000));
        continue;
      }
      if ((*f)->body_type() == schema::Body::DirectoryRequest) {
        ++directory_requests;
        Send(EncodeDirectory((*f)->request_id(), certs_, {}));
        continue;
      }
      return bytes;
    }
    return std::nullopt;
  }

  void Send(const std::vector<std::uint8_t>& frame) {
    sock_.send(zmq::buffer(peer_), zmq::send_flags::sndmore);
    sock_.send(zmq::buffer(frame), zmq::send_flags::none);
  }

  // Waits for Hello and answers Welcome.
  void Greet() {
    auto hello = Next();
    ASSERT_TRUE(hello.has_value()) << "no Hello from the node";
    auto f = DecodeFrame(*hello);
    ASSERT_TRUE(f.ok());
    ASSERT_EQ((*f)->body_type(), schema::Body::Hello);
    EXPECT_EQ((*f)->body_as_Hello()->node_id()->str(), "usa-1");
    // A generous heartbeat: this stand-in answers pings only while a test waits in Next(), and
    // sanitizer builds on a loaded machine can spend seconds in between.
    Send(EncodeWelcome((*f)->request_id(), "broker", std::time(nullptr), 2000));
    greeted_ = true;
  }

  int directory_requests = 0;

 private:
  zmq::context_t ctx_{1};
  zmq::socket_t sock_;
  std::string endpoint_;
  std::string peer_;
  std::vector<std::vector<std::uint8_t>> certs_;
  bool greeted_ = false;
};

// Runs a NodeDaemon on its own thread for the lifetime of the object.
class RunningDaemon {
 public:
  explicit RunningDaemon(const std::string& config_path) {
    auto config = LoadNodeConfig(config_path);
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    auto d = NodeDaemon::Create(*config);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d).value();
    thread_ = std::thread([this] { status_ = daemon_->Run(stop_); });
    // Wait for the control socket.
    for (int i = 0; i < 100 && !std::filesystem::exists(config->data_dir / "control.sock"); ++i) {
      std::this_thread::sleep_for(20ms);
    }
  }
  ~RunningDaemon() {
    stop_.store(true);
    thread_.join();
    EXPECT_TRUE(status_.ok()) << status_.ToString();
  }

 private:
  std::atomic<bool> stop_{false};
  std::unique_ptr<NodeDaemon> daemon_;
  std::thread thread_;
  Status status_;
};

class NodeDaemonTest : public ::testing::Test {
 protected:
  Coalition coalition_;
};

TEST_F(NodeDaemonTest, SendSealsPerRecipientAndPrintsOutcomes) {
  FakeBroker broker(coalition_);
  const std::string config = coalition_.Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  broker.Greet();

  const auto p1 = coalition_.dir() / "p1.txt";
  const auto p2 = coalition_.dir() / "p2.txt";
  std::ofstream(p1) << "for the UK only";
  std::ofstream(p2) << "for the UK and Japan";
  auto cli = std::async(std::launch::async, [&] {
    return Cli({"send", "--config", config, "--to", "GBR,JPN", "--portion", "(S//REL TO USA, GBR)",
                p1.string(), "--portion", "(S//REL TO USA, GBR, JPN)", p2.string(), "--timeout",
                "10"});
  });

  auto submit = broker.Next(10s);
  ASSERT_TRUE(submit.has_value());
  auto f = DecodeFrame(*submit);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ((*f)->body_type(), schema::Body::Submit);
  EXPECT_GE(broker.directory_requests, 1);
  const auto* report = (*f)->body_as_Submit()->report();
  auto usa = ReadCertificateFile(coalition_.Cert("usa-1").string());
  ASSERT_TRUE(usa.ok());
  auto view = InspectReport({report->data(), report->size()}, usa->fields().signing_key);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->originator, "usa-1");
  EXPECT_EQ(view->intended_nations, (std::vector<std::string>{"GBR", "JPN"}));
  ASSERT_EQ(view->portions.size(), 2u);
  // Keys are wrapped only for the nodes each label releases to.
  EXPECT_EQ(view->portions[0].recipients, std::vector<std::string>{"gbr-1"});
  EXPECT_EQ(view->portions[1].recipients, (std::vector<std::string>{"gbr-1", "jpn-1"}));

  SubmitReplyInfo reply;
  reply.report_id.assign(view->report_id.begin(), view->report_id.end());
  reply.accepted = true;
  RecipientOutcomeInfo gbr{"GBR", "gbr-1", schema::DeliveryState::Delivered, {0, 1}, {}, "", ""};
  RecipientOutcomeInfo jpn{"JPN",
                           "jpn-1",
                           schema::DeliveryState::Queued,
                           {1},
                           {{0, "(S//REL TO USA, GBR)", "NOT_RELEASABLE", "JPN is not listed"}},
                           "",
                           ""};
  reply.outcomes = {gbr, jpn};
  broker.Send(EncodeSubmitReply((*f)->request_id(), reply));

  auto r = cli.get();
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(
      r.out,
      "GBR gbr-1 DELIVERED portions 1,2\n"
      "JPN jpn-1 QUEUED portions 2 (withheld: portion 1 NOT_RELEASABLE: JPN is not listed)\n");
}

TEST_F(NodeDaemonTest, DeniedRecipientMakesSendExitOneAndJsonIsOneBased) {
  FakeBroker broker(coalition_);
  const std::string config = coalition_.Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  broker.Greet();
  const auto p1 = coalition_.dir() / "p1.txt";
  std::ofstream(p1) << "x";
  auto cli = std::async(std::launch::async, [&] {
    return Cli({"send", "--config", config, "--to", "JPN,IND", "--portion", "(S//NF)", p1.string(),
                "--json"});
  });
  auto submit = broker.Next(10s);
  ASSERT_TRUE(submit.has_value());
  auto f = DecodeFrame(*submit);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ((*f)->body_type(), schema::Body::Submit);
  SubmitReplyInfo reply;
  reply.accepted = true;
  reply.outcomes = {
      {"JPN", "jpn-1", schema::DeliveryState::Denied, {}, {{0, "(S//NF)", "NOFORN", "no"}}, "", ""},
      {"IND", "", schema::DeliveryState::Denied, {}, {}, "NO_NODE", "IND has no node"}};
  broker.Send(EncodeSubmitReply((*f)->request_id(), reply));
  auto r = cli.get();
  EXPECT_EQ(r.code, kExitNegative) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["outcomes"].size(), 2u);
  EXPECT_EQ(j["outcomes"][0]["state"], "DENIED");
  EXPECT_EQ(j["outcomes"][0]["withheld"][0]["portion"], 1);
  EXPECT_EQ(j["outcomes"][1]["reason"], "NO_NODE");
  EXPECT_EQ(j["banner"], "SECRET//NOFORN");
}

TEST_F(NodeDaemonTest, DeliveredReportIsVerifiedStoredAckedAndReadable) {
  FakeBroker broker(coalition_);
  const std::string config = coalition_.Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  broker.Greet();

  // gbr-1 seals a report with one portion for usa-1 and one for jpn-1 only.
  auto gbr_keys = ReadIdentitySecret(coalition_.Secret("gbr-1"));
  ASSERT_TRUE(gbr_keys.ok());
  auto usa = ReadCertificateFile(coalition_.Cert("usa-1").string());
  auto jpn = ReadCertificateFile(coalition_.Cert("jpn-1").string());
  ASSERT_TRUE(usa.ok() && jpn.ok());
  SealInput in;
  in.originator = "gbr-1";
  in.originator_nation = "GBR";
  in.created_unix = std::time(nullptr);
  in.expires_unix = in.created_unix + 3600;
  in.portions = {{"(S//REL TO USA, GBR)", {'h', 'e', 'l', 'l', 'o'}, std::nullopt},
                 {"(S//REL TO GBR, JPN)", {'n', 'o'}, std::nullopt}};
  const auto secret = CoalitionPolicy().FindLevel("SECRET");
  ASSERT_TRUE(secret.has_value());
  in.recipients = {{"usa-1", "USA", secret, usa->fields().encryption_key},
                   {"jpn-1", "JPN", secret, jpn->fields().encryption_key}};
  auto sealed = Seal(in, gbr_keys->signing.secret_key, CoalitionPolicy());
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  const std::uint32_t only_first[] = {0};
  auto copy = SelectPortions(sealed->bytes, only_first);
  ASSERT_TRUE(copy.ok());

  for (int round = 0; round < 2; ++round) {  // The second delivery is a duplicate.
    broker.Send(EncodeDeliver(40 + static_cast<std::uint64_t>(round), *copy));
    auto ack = broker.Next();
    ASSERT_TRUE(ack.has_value()) << "round " << round;
    auto f = DecodeFrame(*ack);
    ASSERT_TRUE(f.ok());
    ASSERT_EQ((*f)->body_type(), schema::Body::Ack) << schema::EnumNameBody((*f)->body_type());
    EXPECT_EQ((*f)->request_id(), 40u + static_cast<std::uint64_t>(round));
    const auto* a = (*f)->body_as_Ack();
    ASSERT_EQ(a->report_id()->size(), kReportIdBytes);
    EXPECT_TRUE(
        std::equal(sealed->report_id.begin(), sealed->report_id.end(), a->report_id()->begin()));
    EXPECT_TRUE(VerifyWithDomain(usa->fields().signing_key, kAckDomain,
                                 AckMessage(sealed->report_id, "usa-1"),
                                 {a->signature()->data(), a->signature()->size()}));
  }

  auto inbox = Cli({"inbox", "--config", config});
  EXPECT_EQ(inbox.code, kExitOk) << inbox.err;
  const std::string id = ReportIdHex(sealed->report_id);
  EXPECT_EQ(std::count(inbox.out.begin(), inbox.out.end(), '\n'), 1) << inbox.out;
  EXPECT_NE(inbox.out.find(id), std::string::npos) << inbox.out;
  EXPECT_NE(inbox.out.find("SECRET//REL TO USA, GBR"), std::string::npos) << inbox.out;
  EXPECT_NE(inbox.out.find("portions 1/2"), std::string::npos) << inbox.out;

  auto read = Cli({"read", "--config", config, id.substr(0, 8)});
  EXPECT_EQ(read.code, kExitOk) << read.err;
  EXPECT_NE(read.out.find("hello"), std::string::npos) << read.out;
  EXPECT_NE(read.out.find("(S//REL TO USA, GBR) portion 1"), std::string::npos) << read.out;
  EXPECT_NE(read.out.find("1 withheld"), std::string::npos) << read.out;
  EXPECT_EQ(read.out.find("no\n"), std::string::npos) << "withheld content leaked";

  // The inbox holds ciphertext only.
  auto stored = FileBytes(coalition_.dir() / "data/usa-1/inbox" / (id + ".report"));
  EXPECT_EQ(std::search(stored.begin(), stored.end(), std::begin("hello"), std::end("hello") - 1),
            stored.end());

  // A report claiming to come from gbr-1 but signed with another key is refused with an
  // Error and not acknowledged.
  auto jpn_keys = ReadIdentitySecret(coalition_.Secret("jpn-1"));
  ASSERT_TRUE(jpn_keys.ok());
  in.report_id.reset();
  auto forged = Seal(in, jpn_keys->signing.secret_key, CoalitionPolicy());
  ASSERT_TRUE(forged.ok());
  broker.Send(EncodeDeliver(99, forged->bytes));
  auto answer = broker.Next();
  ASSERT_TRUE(answer.has_value());
  auto f = DecodeFrame(*answer);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ((*f)->body_type(), schema::Body::Error);
  EXPECT_EQ((*f)->request_id(), 99u);
  EXPECT_EQ((*f)->body_as_Error()->reason()->str(), "ENVELOPE_BAD_SIGNATURE");
  auto after = Cli({"inbox", "--config", config});
  EXPECT_EQ(std::count(after.out.begin(), after.out.end(), '\n'), 1) << after.out;

  auto missing = Cli({"read", "--config", config, std::string(32, '0')});
  EXPECT_EQ(missing.code, kExitNegative);
  EXPECT_NE(missing.err.find("INBOX_NOT_FOUND"), std::string::npos);
}

TEST_F(NodeDaemonTest, MissingSubmitReplyIsReportedAsUnconfirmed) {
  FakeBroker broker(coalition_);
  const std::string config = coalition_.Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  broker.Greet();
  const auto p1 = coalition_.dir() / "p1.txt";
  std::ofstream(p1) << "x";
  auto cli = std::async(std::launch::async, [&] {
    return Cli({"send", "--config", config, "--to", "GBR", "--portion", "(S//REL TO USA, GBR)",
                p1.string(), "--timeout", "1"});
  });
  auto submit = broker.Next(10s);
  ASSERT_TRUE(submit.has_value());  // ...and never answered.
  // Keep answering pings so the session stays up while the send times out.
  while (cli.wait_for(20ms) != std::future_status::ready) (void)broker.Next(20ms);
  auto r = cli.get();
  EXPECT_EQ(r.code, kExitNegative);
  EXPECT_NE(r.err.find("BROKER_NO_REPLY"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(NodeDaemonTest, UnreachableBrokerMeansNotSent) {
  // Nothing listens on this endpoint (a bound-then-closed port).
  std::string endpoint;
  {
    zmq::context_t ctx;
    zmq::socket_t s(ctx, zmq::socket_type::router);
    s.set(zmq::sockopt::linger, 0);
    s.bind("tcp://127.0.0.1:*");
    endpoint = s.get(zmq::sockopt::last_endpoint);
  }
  const std::string config = coalition_.Config("usa-1", endpoint);
  RunningDaemon daemon(config);
  const auto p1 = coalition_.dir() / "p1.txt";
  std::ofstream(p1) << "x";
  auto r = Cli({"send", "--config", config, "--to", "GBR", "--portion", "(S//REL TO USA, GBR)",
                p1.string()});
  EXPECT_EQ(r.code, kExitNegative);
  EXPECT_NE(r.err.find("BROKER_UNAVAILABLE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("NOT sent"), std::string::npos) << r.err;
  auto s = Cli({"status", "--config", config});
  EXPECT_EQ(s.code, kExitNegative);
  EXPECT_NE(s.out.find("NOT CONNECTED"), std::string::npos) << s.out;
}

TEST_F(NodeDaemonTest, RefusesToStartWithWrongIdentity) {
  struct Case {
    std::string cert, secret, broker, reason;
  };
  for (const auto& c : {Case{"gbr-1", "", "broker", "NODE_CERT_MISMATCH"},
                        Case{"", "gbr-1", "broker", "NODE_KEY_MISMATCH"},
                        Case{"", "", "jpn-1", "BROKER_CERT_ROLE"}}) {
    auto config =
        LoadNodeConfig(coalition_.Config("usa-1", "tcp://127.0.0.1:1", c.cert, c.secret, c.broker));
    ASSERT_TRUE(config.ok());
    auto d = NodeDaemon::Create(*config);
    ASSERT_FALSE(d.ok()) << c.reason;
    EXPECT_EQ(d.status().reason(), c.reason) << d.status().ToString();
  }
  // A group-readable secret file is refused.
  const std::string path = coalition_.Config("usa-1", "tcp://127.0.0.1:1");
  ASSERT_EQ(::chmod(coalition_.Secret("usa-1").c_str(), 0640), 0);
  auto r = Cli({"run", "--config", path});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("KEY_FILE_PERMISSIONS"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  ASSERT_EQ(::chmod(coalition_.Secret("usa-1").c_str(), 0600), 0);
}

TEST_F(NodeDaemonTest, SecondDaemonOnSameDataDirIsRefused) {
  const std::string path = coalition_.Config("usa-1", "tcp://127.0.0.1:1");
  RunningDaemon first(path);
  auto config = LoadNodeConfig(path);
  ASSERT_TRUE(config.ok());
  auto second = NodeDaemon::Create(*config);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().reason(), "NODE_ALREADY_RUNNING");
  struct stat st {};
  ASSERT_EQ(::stat((config->data_dir / "control.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(config->data_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(NodeDaemonTest, BinaryExitsPromptlyOnSigterm) {
  const std::string config = coalition_.Config("usa-1", "tcp://127.0.0.1:1");
  const std::string bin = BinaryPath("tearline-node").string();
  std::vector<char*> argv = {const_cast<char*>(bin.c_str()),
                             const_cast<char*>("run"),
                             const_cast<char*>("--config"),
                             const_cast<char*>(config.c_str()),
                             const_cast<char*>("--log-level"),
                             const_cast<char*>("warn"),
                             nullptr};
  pid_t pid = 0;
  ASSERT_EQ(::posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  const auto sock = coalition_.dir() / "data/usa-1/control.sock";
  for (int i = 0; i < 250 && !std::filesystem::exists(sock); ++i) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(std::filesystem::exists(sock));
  auto st = Cli({"status", "--config", config});
  EXPECT_NE(st.out.find("node usa-1"), std::string::npos) << st.err;

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  pid_t done = 0;
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() - start < 3s) {
    std::this_thread::sleep_for(10ms);
  }
  const auto took = std::chrono::steady_clock::now() - start;
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "tearline-node did not exit after SIGTERM";
  }
  EXPECT_LT(took, 1s);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(std::filesystem::exists(sock));
}

}  // namespace
}  // namespace tearline::node
