// Hostile nodes against the real broker's log service and files (issue 11): a recipient must not
// learn what was withheld from it through proofs or tracking, no node can make the broker sign a
// checkpoint per request, and the broker's data directory is owner-only.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "coalition.h"
#include "hostile_log_client.h"
#include "tearline/base/encoding.h"
#include "tearline/envelope/envelope.h"
#include "tearline/tlog/checkpoint.h"
#include "test_support.h"
#include "wire_client.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using testing::HostileLogClient;
using testing::ProofAnswer;
using testing::WaitFor;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

constexpr const char* kFvey = "(S//REL TO USA, FVEY)";
constexpr const char* kJpn = "(S//REL TO USA, JPN)";
constexpr const char* kNoforn = "(S//NF)";

class LogAbuseTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "TOP SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
    c_.IssueNode("jpn-1", "JPN", "SECRET");
    c_.IssueNode("kor-1", "KOR", "SECRET");
  }
  // From usa-1: FVEY (GBR's), REL TO USA, JPN (JPN's), NOFORN (nobody's); KOR gets nothing.
  SealedReport UsaReport(const IdentityKeys& usa,
                         std::vector<std::string> labels = {kFvey, kJpn, kNoforn}) {
    SealInput in;
    in.originator = "usa-1";
    in.originator_nation = "USA";
    in.created_unix = Now();
    in.expires_unix = Now() + 3600;
    in.intended_nations = {"GBR", "JPN", "KOR"};
    for (const std::string& label : labels) in.portions.push_back({label, {'x'}, std::nullopt});
    in.recipients = {Recipient("gbr-1"), Recipient("jpn-1")};
    auto sealed = Seal(in, usa.signing.secret_key, testing::CoalitionPolicy());
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }
  std::vector<std::string> AuditLines() {
    std::vector<std::string> lines;
    std::istringstream in(c_.AuditLogText());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  static bool Has(const std::string& s, const std::string& needle) {
    return s.find(needle) != std::string::npos;
  }
  // The part of a PROOF_FORBIDDEN message after the record number.
  static std::string Wording(const std::string& message) {
    auto pos = message.find(" is not");
    return pos == std::string::npos ? message : message.substr(pos);
  }
};

TEST_F(LogAbuseTest, RecipientsCannotProveOrTrackWhatWasWithheldFromThem) {
  StartBroker("checkpoint_interval_ms = 300\n");
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto kor = Keys("kor-1");
  auto u = Connect("usa-1", usa);
  auto g = Connect("gbr-1", gbr);
  auto k = Connect("kor-1", kor);
  SealedReport report = UsaReport(usa);
  SubmitReplyInfo reply = Submit(*u, report.bytes);
  ASSERT_TRUE(reply.accepted) << reply.error_reason;

  const std::vector<std::string> lines = AuditLines();
  std::vector<std::uint64_t> all, withheld_from_gbr, withheld_from_kor, strangers_of_gbr, denied;
  for (std::uint64_t seq = 0; seq < lines.size(); ++seq) {
    const std::string& l = lines[seq];
    all.push_back(seq);
    const bool is_denied = Has(l, "\"type\":\"denied\"");
    if (is_denied) denied.push_back(seq);
    if (is_denied && Has(l, "\"recipient\":\"gbr-1\"")) withheld_from_gbr.push_back(seq);
    if (is_denied && Has(l, "\"recipient\":\"kor-1\"")) withheld_from_kor.push_back(seq);
    if (Has(l, "\"recipient\":\"jpn-1\"") || Has(l, "\"node\":\"jpn-1\"")) {
      strangers_of_gbr.push_back(seq);
    }
  }
  ASSERT_EQ(withheld_from_gbr.size(), 2u) << c_.AuditLogText();  // JPN's and NOFORN portions.
  ASSERT_FALSE(withheld_from_kor.empty()) << c_.AuditLogText();
  ASSERT_FALSE(strangers_of_gbr.empty()) << c_.AuditLogText();

  // gbr-1 asks for every record there is.
  HostileLogClient hostile_gbr(*g);
  auto answers = hostile_gbr.AskProofs(all, std::chrono::seconds(5));
  ASSERT_EQ(answers.size(), all.size());
  bool proved_own_copy = false;
  for (const auto& [seq, a] : answers) {
    ASSERT_TRUE(a.answered) << seq;
    if (!a.proved) continue;
    EXPECT_FALSE(Has(a.record, "\"type\":\"denied\"")) << a.record;
    EXPECT_FALSE(Has(a.record, kJpn)) << a.record;
    EXPECT_FALSE(Has(a.record, kNoforn)) << a.record;
    EXPECT_FALSE(Has(a.record, "\"type\":\"accepted\"")) << a.record;
    proved_own_copy =
        proved_own_copy || (Has(a.record, "\"recipient\":\"gbr-1\"") && Has(a.record, kFvey));
  }
  EXPECT_TRUE(proved_own_copy);
  // A refused record about gbr-1 reads exactly like one about jpn-1.
  const std::string stranger = Wording(answers[strangers_of_gbr.front()].message);
  for (std::uint64_t seq : withheld_from_gbr) {
    EXPECT_EQ(answers[seq].reason, "PROOF_FORBIDDEN") << seq;
    EXPECT_EQ(Wording(answers[seq].message), stranger) << answers[seq].message;
    EXPECT_FALSE(Has(answers[seq].message, kJpn)) << answers[seq].message;
  }
  EXPECT_EQ(answers[strangers_of_gbr.front()].reason, "PROOF_FORBIDDEN");

  // kor-1 got nothing: no record of the report is its to prove, and tracking the report reads
  // like tracking an id the broker never saw.
  HostileLogClient hostile_kor(*k);
  auto kor_answers = hostile_kor.AskProofs(all, std::chrono::seconds(5));
  for (const auto& [seq, a] : kor_answers) {
    if (a.proved) {
      EXPECT_TRUE(Has(a.record, "\"node\":\"kor-1\"")) << a.record;
    }
  }
  for (std::uint64_t seq : withheld_from_kor) {
    EXPECT_EQ(kor_answers[seq].reason, "PROOF_FORBIDDEN") << seq;
  }
  const auto tracked = hostile_kor.Track(reply.report_id);
  std::vector<std::uint8_t> never(16, 0x5a);
  const auto unknown = hostile_kor.Track(never);
  EXPECT_EQ(tracked.first, "TRACK_UNKNOWN_REPORT");
  EXPECT_EQ(unknown.first, "TRACK_UNKNOWN_REPORT");
  std::string tracked_text = tracked.second;
  const std::string id_hex = ToHex(reply.report_id);
  ASSERT_NE(tracked_text.find(id_hex), std::string::npos) << tracked_text;
  tracked_text.replace(tracked_text.find(id_hex), id_hex.size(), ToHex(never));
  EXPECT_EQ(tracked_text, unknown.second);

  // The originator proves every record of its report, the denials included.
  HostileLogClient originator(*u);
  auto mine = originator.AskProofs(denied, std::chrono::seconds(5));
  for (std::uint64_t seq : denied) EXPECT_TRUE(mine[seq].proved) << seq << mine[seq].reason;
}

std::size_t CountFiles(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n;
}

// Every proof of a record no checkpoint covered yet used to make the broker sign one; now the
// requests wait for the scheduled checkpoint (at most one per interval) and are all answered.
TEST_F(LogAbuseTest, FloodedProofAndCheckpointRequestsSignAtMostOncePerInterval) {
  constexpr int kIntervalMs = 1000;
  StartBroker(
      "checkpoint_interval_ms = " + std::to_string(kIntervalMs) +
      "\ncheckpoint_every = 1000000\nrate_per_node = 100000\nframe_rate_per_node = 100000\n");
  auto usa = Keys("usa-1");
  auto u = Connect("usa-1", usa);
  const fs::path checkpoints = c_.broker_data() / "audit" / "checkpoints";
  const std::size_t before = CountFiles(checkpoints);
  HostileLogClient hostile(*u);
  constexpr int kRounds = 40;
  auto result = hostile.FloodProofAndCheckpointRequests(
      // The drain ends as soon as every request is answered; the bound only matters on a
      // machine slowed down by sanitizers, where the last parked answers can take seconds.
      [&](int) { return UsaReport(usa, {kFvey}).bytes; }, kRounds, std::chrono::seconds(20));
  const std::size_t written = CountFiles(checkpoints) - before;
  std::cout << "measured: rounds=" << kRounds << " proof_requests=" << result.proof_requests
            << " proofs_answered=" << result.proofs_answered << " errors=" << result.other_answers
            << " elapsed_ms=" << result.elapsed.count() << " checkpoints_written=" << written
            << "\n";
  EXPECT_EQ(result.submits, static_cast<std::size_t>(kRounds));
  EXPECT_GE(result.proof_requests, static_cast<std::size_t>(kRounds));
  EXPECT_EQ(result.proofs_answered, result.proof_requests) << "no request may be starved";
  EXPECT_LE(written, static_cast<std::size_t>(result.elapsed.count() / kIntervalMs + 2));
}

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode;
}

// Every directory under data_dir is 0700 and every file 0600; returns what is not.
std::vector<std::string> NotOwnerOnly(const fs::path& dir) {
  std::vector<std::string> wrong;
  auto check = [&](const fs::path& p) {
    const mode_t m = ModeOf(p);
    const mode_t want = S_ISDIR(m) ? 0700 : 0600;
    if ((m & 07777) != want) {
      std::ostringstream s;
      s << p.string() << " has mode " << std::oct << (m & 07777);
      wrong.push_back(s.str());
    }
  };
  check(dir);
  for (const auto& e : fs::recursive_directory_iterator(dir)) check(e.path());
  return wrong;
}

TEST_F(LogAbuseTest, BrokerDataDirectoryIsOwnerOnly) {
  // What an operator or an older version may have left: readable directories and files.
  const fs::path data = c_.broker_data();
  fs::create_directories(data / "audit" / "checkpoints");
  std::ofstream(data / "notes.txt") << "left by an operator\n";
  for (const fs::path& p : {data, data / "audit", data / "audit" / "checkpoints"}) {
    fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  }
  fs::permissions(data / "notes.txt", fs::perms::owner_read | fs::perms::owner_write |
                                          fs::perms::group_read | fs::perms::others_read);

  StartBroker("checkpoint_interval_ms = 200\n");
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  auto g = Connect("gbr-1", gbr);
  ASSERT_TRUE(Submit(*u, UsaReport(usa).bytes).accepted);
  // A witness cosigns the latest checkpoint, so cosignatures/ gets a file too.
  ASSERT_TRUE(WaitFor([&] { return CountFiles(data / "audit" / "checkpoints") >= 2; }));
  g->Send(EncodeCheckpointRequest(3, 0));
  auto cp = g->Expect(schema::Body::CheckpointReply);
  ASSERT_TRUE(cp.has_value());
  const std::string note = (*DecodeFrame(*cp))->body_as_CheckpointReply()->note()->str();
  auto body = ParseCheckpointBody(note.substr(0, note.find("\n\n") + 1));
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto line = Cosign(*body, "gbr-1", gbr.signing, static_cast<std::uint64_t>(Now()));
  ASSERT_TRUE(line.ok()) << line.status().ToString();
  if (!line->empty() && line->back() == '\n') line->pop_back();
  g->Send(EncodeCosignature(4, body->tree_size, *line));
  ASSERT_TRUE(WaitFor([&] { return CountFiles(data / "audit" / "cosignatures") >= 1; }));
  ASSERT_TRUE(fs::exists(data / "reports.db-wal"));
  ASSERT_TRUE(fs::exists(data / "endpoint"));

  EXPECT_EQ(NotOwnerOnly(data), std::vector<std::string>{});
  c_.StopBroker();  // Writes the last checkpoint.
  EXPECT_EQ(NotOwnerOnly(data), std::vector<std::string>{});
}

}  // namespace
}  // namespace tearline
