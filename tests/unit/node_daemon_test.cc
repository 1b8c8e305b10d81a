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

#include <array>
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

#include "coalition.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/key_file.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/net/socket.h"
#include "tearline/net/zap_handler.h"
#include "tearline/node/node_command.h"
#include "tearline/node/node_config.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"
#include "tearline/wire/wire.h"
#include "test_support.h"

extern char** environ;

namespace tearline::node {
namespace {

using tearline::testing::BinaryPath;
using tearline::testing::Coalition;
using tearline::testing::CoalitionPolicy;
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

// A scripted broker: the network layer's CURVE server with the broker's key, whose ZAP handler
// admits any client key (the test trusts the node), or none when `admit` is false.
class FakeBroker {
 public:
  explicit FakeBroker(const Coalition& c, bool admit = true) {
    auto keys = ReadIdentitySecret(c.Secret("broker"));
    EXPECT_TRUE(keys.ok()) << keys.status().ToString();
    auto zap = net::ZapHandler::Start(
        ctx_,
        [admit](const std::array<std::uint8_t, 32>&, const std::string&) -> Result<std::string> {
          if (!admit) return PermissionDenied("AUTH_UNKNOWN_KEY", "refused by the test");
          return std::string("node");
        });
    EXPECT_TRUE(zap.ok()) << zap.status().ToString();
    if (zap.ok()) zap_ = std::move(zap).value();
    net::CurveServerOptions o;
    o.endpoint = "tcp://127.0.0.1:0";
    o.secret_key = {keys->transport.secret_key.data(), keys->transport.secret_key.size()};
    auto sock = net::BindCurveRouter(ctx_, o);
    EXPECT_TRUE(sock.ok()) << sock.status().ToString();
    if (sock.ok()) sock_ = std::move(sock).value();
    for (const auto* id : {"usa-1", "gbr-1", "jpn-1"}) certs_.push_back(FileBytes(c.Cert(id)));
  }
  const std::string& endpoint() const { return sock_.endpoint(); }

  // Receives the next frame that is not a Ping, DirectoryRequest or CheckpointRequest (those
  // are answered here; this stand-in has no audit log, so checkpoint requests are ignored).
  std::optional<std::vector<std::uint8_t>> Next(std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!sock_.WaitReadable(50ms)) continue;
      auto parts = sock_.TryReceive();
      if (!parts || parts->size() != 2) continue;
      peer_ = (*parts)[0].str();
      const auto body = (*parts)[1].bytes();
      std::vector<std::uint8_t> bytes(body.begin(), body.end());
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

  void Send(const std::vector<std::uint8_t>& frame) { (void)sock_.SendTo(peer_, frame); }

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
  net::Context ctx_;
  std::unique_ptr<net::ZapHandler> zap_;  // Started before the socket is bound.
  net::Socket sock_;
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

// The report id of a Submit frame sent by usa-1 (its signature checked on the way).
std::string SubmittedId(const Coalition& c, const schema::Frame& f) {
  const auto* report = f.body_as_Submit()->report();
  auto usa = ReadCertificateFile(c.Cert("usa-1").string());
  EXPECT_TRUE(usa.ok());
  auto view = InspectReport({report->data(), report->size()}, usa->fields().signing_key);
  EXPECT_TRUE(view.ok()) << view.status().ToString();
  return view.ok() ? ReportIdHex(view->report_id) : "";
}

std::vector<std::uint8_t> SubmittedBytes(const schema::Frame& f) {
  const auto* report = f.body_as_Submit()->report();
  return {report->begin(), report->end()};
}

// Waits for the next frame of `type`, skipping others (e.g. outbox resubmissions after the
// node re-greeted a quiet stand-in broker).
std::optional<std::vector<std::uint8_t>> NextOfType(FakeBroker& broker, schema::Body type,
                                                    std::chrono::milliseconds timeout = 10000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto bytes = broker.Next(100ms);
    if (!bytes) continue;
    auto f = DecodeFrame(*bytes);
    if (f.ok() && (*f)->body_type() == type) return bytes;
  }
  return std::nullopt;
}

SubmitReplyInfo AcceptedReply(const std::string& id_hex, std::uint64_t seq_gbr) {
  SubmitReplyInfo reply;
  reply.report_id.resize(kReportIdBytes);
  for (std::size_t i = 0; i < kReportIdBytes; ++i) {
    reply.report_id[i] = static_cast<std::uint8_t>(std::stoi(id_hex.substr(2 * i, 2), nullptr, 16));
  }
  reply.accepted = true;
  RecipientOutcomeInfo gbr{"GBR", "gbr-1", schema::DeliveryState::Delivered, {0}, {}, "", ""};
  gbr.record_seq = seq_gbr;
  reply.outcomes = {gbr};
  return reply;
}

// The coalition for every test: a CA, a broker and three nodes, made by tearline-certs.
class NodeDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto [id, nation] : {std::pair{"usa-1", "USA"}, {"gbr-1", "GBR"}, {"jpn-1", "JPN"}}) {
      coalition_.IssueNode(id, nation, "SECRET");
    }
  }

  // Writes a node configuration pointing at `endpoint` (the stand-in broker) and returns its
  // path; the other ids swap in another node's certificate or secret, or another broker's.
  std::string Config(const std::string& id, const std::string& endpoint,
                     const std::string& cert_id = "", const std::string& secret_id = "",
                     const std::string& broker_cert = "broker") {
    return coalition_
        .NodeConfig(id, {.broker_endpoint = endpoint,
                         .cert_id = cert_id,
                         .secret_id = secret_id,
                         .broker_cert_id = broker_cert,
                         .heartbeat_ms = 200})
        .string();
  }

  Coalition coalition_;
};

TEST_F(NodeDaemonTest, SendSealsPerRecipientAndPrintsOutcomes) {
  FakeBroker broker(coalition_);
  const std::string config = Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  broker.Greet();

  const auto p1 = coalition_.root() / "p1.txt";
  const auto p2 = coalition_.root() / "p2.txt";
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
  const std::string config = Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  broker.Greet();
  const auto p1 = coalition_.root() / "p1.txt";
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
  const std::string config = Config("usa-1", broker.endpoint());
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
  auto stored = FileBytes(coalition_.root() / "data/usa-1/inbox" / (id + ".report"));
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

TEST_F(NodeDaemonTest, MissingSubmitReplyLeavesTheReportPendingInTheOutbox) {
  FakeBroker broker(coalition_);
  const std::string config = Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  broker.Greet();
  const auto p1 = coalition_.root() / "p1.txt";
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
  EXPECT_EQ(r.code, kExitPending) << r.out << r.err;
  auto f = DecodeFrame(*submit);
  ASSERT_TRUE(f.ok());
  const std::string id = SubmittedId(coalition_, **f);
  EXPECT_NE(r.out.find("PENDING report " + id + " is kept in the outbox"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("same id"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("did not answer"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(coalition_.root() / "data/usa-1/outbox" / (id + ".report")));
}

TEST_F(NodeDaemonTest, UnreachableBrokerMeansNotSent) {
  // Nothing listens on this endpoint (a bound-then-closed port).
  std::string endpoint;
  {
    FakeBroker gone(coalition_);
    endpoint = gone.endpoint();
  }
  const std::string config = Config("usa-1", endpoint);
  RunningDaemon daemon(config);
  const auto p1 = coalition_.root() / "p1.txt";
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

// The monitor is attached before the node connects, so even a broker that refuses the very
// first handshake is reported (not just a silent "not connected").
TEST_F(NodeDaemonTest, BrokerRefusingTheKeyIsShownInStatus) {
  FakeBroker broker(coalition_, /*admit=*/false);
  const std::string config = Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  CliResult s;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    s = Cli({"status", "--config", config});
    if (s.out.find("authentication failed") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(s.code, kExitNegative);
  EXPECT_NE(s.out.find("NOT CONNECTED"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("refused this node's key (authentication failed)"), std::string::npos)
      << s.out;
}

TEST_F(NodeDaemonTest, RefusesToStartWithWrongIdentity) {
  struct Case {
    std::string cert, secret, broker, reason;
  };
  for (const auto& c : {Case{"gbr-1", "", "broker", "NODE_CERT_MISMATCH"},
                        Case{"", "gbr-1", "broker", "NODE_KEY_MISMATCH"},
                        Case{"", "", "jpn-1", "BROKER_CERT_ROLE"}}) {
    auto config = LoadNodeConfig(Config("usa-1", "tcp://127.0.0.1:1", c.cert, c.secret, c.broker));
    ASSERT_TRUE(config.ok());
    auto d = NodeDaemon::Create(*config);
    ASSERT_FALSE(d.ok()) << c.reason;
    EXPECT_EQ(d.status().reason(), c.reason) << d.status().ToString();
  }
  // A group-readable secret file is refused.
  const std::string path = Config("usa-1", "tcp://127.0.0.1:1");
  ASSERT_EQ(::chmod(coalition_.Secret("usa-1").c_str(), 0640), 0);
  auto r = Cli({"run", "--config", path});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("KEY_FILE_PERMISSIONS"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  ASSERT_EQ(::chmod(coalition_.Secret("usa-1").c_str(), 0600), 0);
}

TEST_F(NodeDaemonTest, SecondDaemonOnSameDataDirIsRefused) {
  const std::string path = Config("usa-1", "tcp://127.0.0.1:1");
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
  const std::string config = Config("usa-1", "tcp://127.0.0.1:1");
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
  const auto sock = coalition_.root() / "data/usa-1/control.sock";
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

TEST_F(NodeDaemonTest, ReportIsInTheOutboxBeforeSubmitAndResentWithTheSameBytes) {
  FakeBroker broker(coalition_);
  const std::string config = Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  broker.Greet();
  const auto p1 = coalition_.root() / "p1.txt";
  std::ofstream(p1) << "for the UK";
  const auto outbox = coalition_.root() / "data/usa-1/outbox";
  auto cli = std::async(std::launch::async, [&] {
    return Cli({"send", "--config", config, "--to", "GBR", "--portion", "(S//REL TO USA, GBR)",
                p1.string(), "--timeout", "10"});
  });
  auto first = NextOfType(broker, schema::Body::Submit);
  ASSERT_TRUE(first.has_value());
  auto f1 = DecodeFrame(*first);
  ASSERT_TRUE(f1.ok());
  const std::string id = SubmittedId(coalition_, **f1);
  const auto stored = outbox / (id + ".report");
  // Durable before the Submit left the node: exactly the submitted bytes, owner-only.
  ASSERT_TRUE(std::filesystem::exists(stored));
  EXPECT_EQ(FileBytes(stored), SubmittedBytes(**f1));
  struct stat st {};
  ASSERT_EQ(::stat(stored.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A transient refusal keeps it, and the analyst learns why at once (pending, exit 3).
  SubmitReplyInfo busy;
  busy.report_id = AcceptedReply(id, 0).report_id;
  busy.error_reason = "RATE_LIMITED";
  busy.error_message = "slow down";
  broker.Send(EncodeSubmitReply((*f1)->request_id(), busy));
  auto r = cli.get();
  EXPECT_EQ(r.code, kExitPending) << r.out << r.err;
  EXPECT_NE(r.out.find("PENDING report " + id), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("RATE_LIMITED: slow down"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(stored));

  // A new session (Welcome) resubmits the same bytes.
  broker.Send(EncodeWelcome(0, "broker", std::time(nullptr), 2000));
  auto second = NextOfType(broker, schema::Body::Submit);
  ASSERT_TRUE(second.has_value());
  auto f2 = DecodeFrame(*second);
  ASSERT_TRUE(f2.ok());
  EXPECT_NE((*f2)->request_id(), (*f1)->request_id());
  EXPECT_EQ(SubmittedBytes(**f2), SubmittedBytes(**f1)) << "resubmitted, never resealed";
  EXPECT_TRUE(std::filesystem::exists(stored));

  // The broker had stored it already: a duplicate answer is final.
  auto reply = AcceptedReply(id, 17);
  reply.duplicate = true;
  broker.Send(EncodeSubmitReply((*f2)->request_id(), reply));
  for (int i = 0; i < 100 && std::filesystem::exists(stored); ++i) (void)broker.Next(50ms);
  EXPECT_FALSE(std::filesystem::exists(stored));
  const auto sent = coalition_.root() / "data/usa-1/sent" / (id + ".json");
  ASSERT_TRUE(std::filesystem::exists(sent));
  auto j = nlohmann::json::parse(std::ifstream(sent));
  EXPECT_EQ(j["duplicate"], true);
  EXPECT_EQ(j["outcomes"][0]["record_seq"], 17);
  auto status = Cli({"status", "--config", config, "--json"});
  EXPECT_EQ(nlohmann::json::parse(status.out)["outbox_reports"], 0) << status.out;
}

TEST_F(NodeDaemonTest, DuplicateReplyIsShownWithANote) {
  FakeBroker broker(coalition_);
  const std::string config = Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  broker.Greet();
  const auto p1 = coalition_.root() / "p1.txt";
  std::ofstream(p1) << "x";
  auto cli = std::async(std::launch::async, [&] {
    return Cli({"send", "--config", config, "--to", "GBR", "--portion", "(S//REL TO USA, GBR)",
                p1.string(), "--timeout", "10"});
  });
  auto submit = NextOfType(broker, schema::Body::Submit);
  ASSERT_TRUE(submit.has_value());
  auto f = DecodeFrame(*submit);
  ASSERT_TRUE(f.ok());
  auto reply = AcceptedReply(SubmittedId(coalition_, **f), 3);
  reply.duplicate = true;
  broker.Send(EncodeSubmitReply((*f)->request_id(), reply));
  auto r = cli.get();
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "GBR gbr-1 DELIVERED portions 1\n"
            "(already stored by the broker; not routed again)\n");
}

TEST_F(NodeDaemonTest, DefinitiveRejectionEmptiesTheOutbox) {
  FakeBroker broker(coalition_);
  const std::string config = Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  broker.Greet();
  const auto p1 = coalition_.root() / "p1.txt";
  std::ofstream(p1) << "x";
  auto cli = std::async(std::launch::async, [&] {
    return Cli({"send", "--config", config, "--to", "GBR", "--portion", "(S//REL TO USA, GBR)",
                p1.string(), "--timeout", "10"});
  });
  auto submit = NextOfType(broker, schema::Body::Submit);
  ASSERT_TRUE(submit.has_value());
  auto f = DecodeFrame(*submit);
  ASSERT_TRUE(f.ok());
  const std::string id = SubmittedId(coalition_, **f);
  SubmitReplyInfo no;
  no.error_reason = "ROUTING_BAD_LABEL";
  no.error_message = "label does not parse";
  broker.Send(EncodeSubmitReply((*f)->request_id(), no));
  auto r = cli.get();
  EXPECT_EQ(r.code, kExitNegative);
  EXPECT_NE(r.err.find("ROUTING_BAD_LABEL"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(coalition_.root() / "data/usa-1/outbox" / (id + ".report")));
  auto j =
      nlohmann::json::parse(std::ifstream(coalition_.root() / "data/usa-1/sent" / (id + ".json")));
  EXPECT_EQ(j["accepted"], false);
  EXPECT_EQ(j["error_reason"], "ROUTING_BAD_LABEL");
}

TEST_F(NodeDaemonTest, OutboxSurvivesADaemonRestart) {
  FakeBroker broker(coalition_);
  const std::string config = Config("usa-1", broker.endpoint());
  const auto p1 = coalition_.root() / "p1.txt";
  std::ofstream(p1) << "x";
  std::string id;
  std::vector<std::uint8_t> bytes;
  {
    RunningDaemon daemon(config);
    broker.Greet();
    auto cli = std::async(std::launch::async, [&] {
      return Cli({"send", "--config", config, "--to", "GBR", "--portion", "(S//REL TO USA, GBR)",
                  p1.string(), "--timeout", "1"});
    });
    auto submit = NextOfType(broker, schema::Body::Submit);
    ASSERT_TRUE(submit.has_value());
    auto f = DecodeFrame(*submit);
    ASSERT_TRUE(f.ok());
    id = SubmittedId(coalition_, **f);
    bytes = SubmittedBytes(**f);
    while (cli.wait_for(20ms) != std::future_status::ready) (void)broker.Next(20ms);
    EXPECT_EQ(cli.get().code, kExitPending);
  }
  // A new daemon process on the same data directory resubmits after its Welcome.
  RunningDaemon restarted(config);
  auto again = NextOfType(broker, schema::Body::Submit);
  ASSERT_TRUE(again.has_value());
  auto f = DecodeFrame(*again);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(SubmittedBytes(**f), bytes);
  broker.Send(EncodeSubmitReply((*f)->request_id(), AcceptedReply(id, 5)));
  const auto stored = coalition_.root() / "data/usa-1/outbox" / (id + ".report");
  for (int i = 0; i < 100 && std::filesystem::exists(stored); ++i) (void)broker.Next(50ms);
  EXPECT_FALSE(std::filesystem::exists(stored));
  EXPECT_TRUE(std::filesystem::exists(coalition_.root() / "data/usa-1/sent" / (id + ".json")));
}

TEST_F(NodeDaemonTest, RedeliveryAfterRestartIsStoredOnceAndAckedAgain) {
  FakeBroker broker(coalition_);
  const std::string config = Config("usa-1", broker.endpoint());
  auto gbr_keys = ReadIdentitySecret(coalition_.Secret("gbr-1"));
  auto usa = ReadCertificateFile(coalition_.Cert("usa-1").string());
  ASSERT_TRUE(gbr_keys.ok() && usa.ok());
  SealInput in;
  in.originator = "gbr-1";
  in.originator_nation = "GBR";
  in.created_unix = std::time(nullptr);
  in.expires_unix = in.created_unix + 3600;
  in.portions = {{"(S//REL TO USA, GBR)", {'o', 'n', 'c', 'e'}, std::nullopt}};
  in.recipients = {
      {"usa-1", "USA", CoalitionPolicy().FindLevel("SECRET"), usa->fields().encryption_key}};
  auto sealed = Seal(in, gbr_keys->signing.secret_key, CoalitionPolicy());
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  const std::string id = ReportIdHex(sealed->report_id);
  const auto meta = coalition_.root() / "data/usa-1/inbox" / (id + ".json");
  for (int life = 0; life < 2; ++life) {  // The broker re-sends after the node restarted.
    const int directories = broker.directory_requests;
    RunningDaemon daemon(config);
    if (life == 0) broker.Greet();
    // Deliver only once the (new) session fetched the directory, as a broker would.
    for (int i = 0; i < 100 && broker.directory_requests == directories; ++i) {
      (void)broker.Next(100ms);
    }
    ASSERT_GT(broker.directory_requests, directories);
    broker.Send(EncodeDeliver(70 + static_cast<std::uint64_t>(life), sealed->bytes));
    auto ack = NextOfType(broker, schema::Body::Ack);
    ASSERT_TRUE(ack.has_value()) << "life " << life;
    // Persisted before the Ack left the node.
    EXPECT_TRUE(std::filesystem::exists(meta));
    auto f = DecodeFrame(*ack);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ((*f)->request_id(), 70u + static_cast<std::uint64_t>(life));
    EXPECT_TRUE(VerifyWithDomain(
        usa->fields().signing_key, kAckDomain, AckMessage(sealed->report_id, "usa-1"),
        {(*f)->body_as_Ack()->signature()->data(), (*f)->body_as_Ack()->signature()->size()}));
  }
  std::size_t files = 0;
  for (const auto& de :
       std::filesystem::directory_iterator(coalition_.root() / "data/usa-1/inbox")) {
    (void)de;
    ++files;
  }
  EXPECT_EQ(files, 2u) << "one .report and one .json";
}

// A scripted broker with a real audit log: tracks and proves report `id` for usa-1.
class ScriptedLog {
 public:
  ScriptedLog(const Coalition& c, const std::string& id) {
    auto keys = ReadIdentitySecret(c.Secret("broker"));
    EXPECT_TRUE(keys.ok());
    auto k = SigningKeyPairFromSecret(std::move(keys->signing.secret_key));
    EXPECT_TRUE(k.ok());
    key_ = std::move(k).value();
    lines_ = {R"({"seq":0,"time":1.0,"type":"broker_start","broker":"broker"})",
              R"({"seq":1,"time":2.0,"type":"accepted","report_id":")" + id +
                  R"(","originator":"usa-1"})",
              R"({"seq":2,"time":2.0,"type":"delivered","report_id":")" + id +
                  R"(","recipient":"gbr-1","nation":"GBR"})",
              R"({"seq":3,"time":3.0,"type":"acknowledged","report_id":")" + id +
                  R"(","recipient":"gbr-1"})",
              R"({"seq":4,"time":4.0,"type":"node_connected","node":"jpn-1"})"};
    for (const auto& l : lines_) {
      tree_.Append(LeafHash({reinterpret_cast<const std::uint8_t*>(l.data()), l.size()}));
    }
  }
  std::vector<std::uint8_t> Reply(std::uint64_t rid, std::uint64_t seq, bool tamper) const {
    Checkpoint cp{"tearline/audit/broker", tree_.size(), tree_.Root(), {}};
    auto note = SignCheckpoint(cp, cp.origin, key_);
    EXPECT_TRUE(note.ok());
    auto path = tree_.InclusionProof(seq, tree_.size());
    EXPECT_TRUE(path.ok());
    std::vector<std::uint8_t> proof;
    for (const auto& h : *path) proof.insert(proof.end(), h.begin(), h.end());
    std::string record = lines_[seq];
    if (tamper) record[record.find("gbr-1") + 4] = '9';
    return EncodeProofReply(rid, *note, seq, record, proof);
  }

 private:
  SigningKeyPair key_;
  std::vector<std::string> lines_;
  MerkleTree tree_;
};

TEST_F(NodeDaemonTest, TrackAndProveUseTheBrokersAnswersAndVerifyProofs) {
  FakeBroker broker(coalition_);
  const std::string config = Config("usa-1", broker.endpoint());
  RunningDaemon daemon(config);
  broker.Greet();
  const auto p1 = coalition_.root() / "p1.txt";
  std::ofstream(p1) << "x";
  auto cli = std::async(std::launch::async, [&] {
    return Cli({"send", "--config", config, "--to", "GBR", "--portion", "(S//REL TO USA, GBR)",
                p1.string(), "--timeout", "10"});
  });
  auto submit = NextOfType(broker, schema::Body::Submit);
  ASSERT_TRUE(submit.has_value());
  auto f = DecodeFrame(*submit);
  ASSERT_TRUE(f.ok());
  const std::string id = SubmittedId(coalition_, **f);
  auto accepted = AcceptedReply(id, 2);
  RecipientOutcomeInfo jpn{"JPN", "jpn-1", schema::DeliveryState::Denied, {}, {}, "", ""};
  jpn.record_seq = 4;  // A record that does not name the report: must not prove.
  accepted.outcomes.push_back(jpn);
  broker.Send(EncodeSubmitReply((*f)->request_id(), accepted));
  ASSERT_EQ(cli.get().code, kExitNegative);  // JPN denied.

  // track
  auto track = std::async(std::launch::async, [&] {
    return Cli({"track", "--config", config, id.substr(0, 8)});
  });
  auto treq = NextOfType(broker, schema::Body::TrackRequest);
  ASSERT_TRUE(treq.has_value());
  auto tf = DecodeFrame(*treq);
  ASSERT_TRUE(tf.ok());
  EXPECT_EQ(ToHex(std::span((*tf)->body_as_TrackRequest()->report_id()->data(),
                            (*tf)->body_as_TrackRequest()->report_id()->size())),
            id);
  TrackReplyInfo ti;
  ti.report_id = accepted.report_id;
  ti.recipients = {{"gbr-1", "GBR", "acknowledged", "", 1764460800, 3},
                   {"jpn-1", "JPN", "denied", "NOT_RELEASABLE", 1764460799, 4}};
  broker.Send(EncodeTrackReply((*tf)->request_id(), ti));
  auto tr = track.get();
  EXPECT_EQ(tr.code, kExitOk) << tr.err;
  EXPECT_EQ(tr.out,
            "gbr-1 GBR acknowledged - 2025-11-30T00:00:00Z record 3\n"
            "jpn-1 JPN denied NOT_RELEASABLE 2025-11-29T23:59:59Z record 4\n");

  // An unknown report: the broker's Error is a negative answer.
  auto unknown = std::async(std::launch::async, [&] {
    return Cli({"track", "--config", config, std::string(32, '7')});
  });
  auto ureq = NextOfType(broker, schema::Body::TrackRequest);
  ASSERT_TRUE(ureq.has_value());
  auto uf = DecodeFrame(*ureq);
  ASSERT_TRUE(uf.ok());
  broker.Send(EncodeError((*uf)->request_id(),
                          NotFound("TRACK_UNKNOWN_REPORT", "no such report was accepted")));
  auto ur = unknown.get();
  EXPECT_EQ(ur.code, kExitNegative);
  EXPECT_NE(ur.err.find("TRACK_UNKNOWN_REPORT"), std::string::npos) << ur.err;

  // prove: genuine proofs for records 2 and 4; record 4 does not name the report.
  ScriptedLog log(coalition_, id);
  for (bool tamper : {false, true}) {
    auto prove = std::async(std::launch::async, [&] {
      return Cli({"prove", "--config", config, id});
    });
    for (int n = 0; n < 2; ++n) {
      auto preq = NextOfType(broker, schema::Body::ProofRequest);
      ASSERT_TRUE(preq.has_value());
      auto pf = DecodeFrame(*preq);
      ASSERT_TRUE(pf.ok());
      const std::uint64_t seq = (*pf)->body_as_ProofRequest()->seq();
      ASSERT_TRUE(seq == 2 || seq == 4) << seq;
      broker.Send(log.Reply((*pf)->request_id(), seq, tamper && seq == 2));
    }
    auto pr = prove.get();
    EXPECT_EQ(pr.code, kExitNegative) << pr.out << pr.err;
    EXPECT_NE(pr.out.find("record 4 (denied to jpn-1) NOT PROVEN: PROOF_WRONG_RECORD"),
              std::string::npos)
        << pr.out;
    if (!tamper) {
      EXPECT_NE(pr.out.find("record 2 (delivered to gbr-1) is in the broker's log: inclusion "
                            "verified against checkpoint 5 signed by broker"),
                std::string::npos)
          << pr.out;
    } else {
      EXPECT_NE(pr.out.find("record 2 (delivered to gbr-1) NOT PROVEN: PROOF_NOT_INCLUDED"),
                std::string::npos)
          << pr.out;
    }
  }
  // Only record 2: all verified, exit 0.
  auto one = std::async(std::launch::async, [&] {
    return Cli({"prove", "--config", config, id, "--seq", "2", "--json"});
  });
  auto preq = NextOfType(broker, schema::Body::ProofRequest);
  ASSERT_TRUE(preq.has_value());
  auto pf = DecodeFrame(*preq);
  ASSERT_TRUE(pf.ok());
  EXPECT_EQ((*pf)->body_as_ProofRequest()->seq(), 2u);
  broker.Send(log.Reply((*pf)->request_id(), 2, false));
  auto o = one.get();
  EXPECT_EQ(o.code, kExitOk) << o.out << o.err;
  auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["items"][0]["verified"], true);
  EXPECT_EQ(j["items"][0]["checkpoint_size"], 5);

  // A received report: no record number is known.
  auto none = Cli({"prove", "--config", config, std::string(32, '5')});
  EXPECT_EQ(none.code, kExitNegative);
  EXPECT_NE(none.out.find("not known to this node"), std::string::npos) << none.out;
}

}  // namespace
}  // namespace tearline::node
