// The broker's metrics page over real sockets with the real tearline-broker: reports submitted,
// delivered and acknowledged, a denial and a refused connection show up in the file it writes
// for node_exporter's textfile collector, every read of that file is a complete page that a
// strict exposition-format parser accepts, and the final page written at stop agrees with the
// audit log it summarises.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coalition.h"
#include "prometheus_parser.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/wire/wire.h"
#include "test_support.h"
#include "traffic.h"
#include "wire_client.h"

namespace tearline {
namespace {

using Ms = std::chrono::milliseconds;
using testing::ParsedMetrics;
using testing::WaitFor;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

class MetricsTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "TOP SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
    c_.IssueNode("jpn-1", "JPN", "SECRET");
  }
  std::filesystem::path File() const { return c_.root() / "tearline_broker.prom"; }
  // USA report: portion 0 releasable to GBR, 1 to JPN, 2 to nobody (NOFORN); KOR has no node.
  SealedReport UsaReport(const IdentityKeys& usa) {
    SealInput in;
    in.originator = "usa-1";
    in.originator_nation = "USA";
    in.created_unix = Now();
    in.expires_unix = Now() + 3600;
    in.intended_nations = {"GBR", "JPN", "KOR"};
    in.portions = {{"(S//REL TO USA, FVEY)", {'f'}, std::nullopt},
                   {"(S//REL TO USA, JPN)", {'j'}, std::nullopt},
                   {"(S//NF)", {'n'}, std::nullopt}};
    in.recipients = {Recipient("gbr-1"), Recipient("jpn-1")};
    auto sealed = Seal(in, usa.signing.secret_key, testing::CoalitionPolicy());
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }
  // The page as it is now; every read must be a whole valid page (the file is replaced by
  // rename, never written in place). nullopt while none was written yet.
  std::optional<ParsedMetrics> Page() {
    const std::string text = testing::ReadFile(File());
    if (text.empty()) return std::nullopt;
    ParsedMetrics parsed;
    std::string error;
    EXPECT_TRUE(testing::ParsePrometheusText(text, &parsed, &error)) << error << "\n" << text;
    ++pages_read_;
    return parsed;
  }
  int pages_read_ = 0;
};

TEST_F(MetricsTest, PageCountsTrafficDenialsAndRefusalsAndAgreesWithTheAuditLog) {
  StartBroker(
      "metrics_file = \"tearline_broker.prom\"\nmetrics_interval = 1\n"
      "max_connections = 2\ncheckpoint_interval_ms = 200\n");
  ASSERT_FALSE(HasFatalFailure());
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  auto g = Connect("gbr-1", gbr);
  // A third session is over max_connections: refused at the handshake (CONNECTION_LIMIT).
  auto jpn = Keys("jpn-1");
  auto j = std::make_unique<testing::WireClient>(ctx_, c_.endpoint(), *broker_cert_, jpn);
  j->Send(EncodeHello(1, "jpn-1"));
  EXPECT_TRUE(j->Recv(Ms(500)).empty());

  // Two reports: delivered to GBR and acknowledged, queued for the offline JPN, denied to KOR
  // (NO_NODE) and portion by portion (NOFORN, NOT_RELEASABLE).
  for (std::uint64_t i = 0; i < 2; ++i) {
    SealedReport report = UsaReport(usa);
    SubmitReplyInfo reply = Submit(*u, report.bytes, 100 + i);
    ASSERT_TRUE(reply.accepted) << reply.error_reason;
    ASSERT_TRUE(g->Expect(schema::Body::Deliver).has_value());
    auto sig = SignWithDomain(gbr.signing, kAckDomain, AckMessage(report.report_id, "gbr-1"));
    ASSERT_TRUE(sig.ok());
    g->Send(EncodeAck(200 + i, report.report_id, *sig));
  }

  std::optional<ParsedMetrics> page;
  EXPECT_TRUE(WaitFor(
      [&] {
        page = Page();
        return page && page->Value("tearline_broker_acknowledgements_total") == 2.0 &&
               page->Value("tearline_broker_limit_refusals_total",
                           {{"limit", "CONNECTION_LIMIT"}}) >= 1.0;
      },
      std::chrono::seconds(15)))
      << testing::ReadFile(File()) << c_.BrokerLog();
  ASSERT_TRUE(page.has_value());
  const ParsedMetrics& p = *page;
  EXPECT_EQ(p.Value("tearline_broker_reports_accepted_total"), 2.0);
  EXPECT_EQ(p.Value("tearline_broker_deliveries_total"), 2.0);
  EXPECT_EQ(p.Value("tearline_broker_copies_queued_total"), 2.0);
  EXPECT_EQ(p.Value("tearline_broker_denials_total", {{"reason", "NO_NODE"}}), 2.0);
  EXPECT_GE(p.Value("tearline_broker_denials_total", {{"reason", "NOFORN"}}).value_or(0), 2.0);
  EXPECT_GE(p.Value("tearline_broker_refusals_total",
                    {{"kind", "connection"}, {"reason", "CONNECTION_LIMIT"}})
                .value_or(0),
            1.0);
  EXPECT_EQ(p.Value("tearline_broker_queue_depth", {{"recipient", "jpn-1"}}), 2.0);
  EXPECT_EQ(p.Value("tearline_broker_queue_depth", {{"recipient", "gbr-1"}}), 0.0);
  // Online means heard from within three heartbeats; these test clients do not ping.
  EXPECT_LE(p.Value("tearline_broker_nodes_online").value_or(-1), 2.0);
  EXPECT_GE(p.Value("tearline_broker_nodes_online").value_or(-1), 0.0);
  EXPECT_GT(p.Value("tearline_broker_audit_log_bytes").value_or(0), 0.0);
  EXPECT_GT(p.Value("tearline_broker_checkpoint_size").value_or(0), 0.0);
  EXPECT_LT(p.Value("tearline_broker_checkpoint_age_seconds").value_or(1e9), 60.0);
  for (const char* witness : {"usa-1", "gbr-1", "jpn-1"}) {
    EXPECT_TRUE(p.Value("tearline_broker_cosignature_age_seconds", {{"witness", witness}}))
        << witness;
  }
  EXPECT_GT(p.Value("tearline_broker_uptime_seconds").value_or(0), 0.0);

  j.reset();
  // The page written at stop describes the final log exactly: every record it holds was counted.
  c_.StopBroker();
  auto last = Page();
  ASSERT_TRUE(last.has_value());
  const auto records =
      static_cast<std::size_t>(last->Value("tearline_broker_audit_log_records").value_or(0));
  const std::vector<std::string> lines = testing::SplitLines(c_.AuditLogText());
  ASSERT_GE(lines.size(), records);
  // A handshake of the closed client still in flight may have been refused (and recorded, by
  // the authentication thread) after the page was written; nothing else may follow it.
  std::string counted;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i < records)
      counted += lines[i] + "\n";
    else
      EXPECT_NE(lines[i].find("\"connection_refused\""), std::string::npos) << lines[i];
  }
  EXPECT_GT(records, 0u);
  EXPECT_EQ(last->Value("tearline_broker_audit_log_bytes"), static_cast<double>(counted.size()));
  EXPECT_EQ(last->Sum("tearline_broker_audit_records_written_total"), static_cast<double>(records));
  EXPECT_EQ(last->Value("tearline_broker_audit_records_written_total", {{"type", "denied"}}),
            static_cast<double>(testing::CountAuditRecords(counted, "denied")));
  EXPECT_EQ(last->Value("tearline_broker_audit_records_written_total", {{"type", "accepted"}}),
            2.0);
  EXPECT_EQ(last->Value("tearline_broker_checkpoint_size"), static_cast<double>(records))
      << "the final checkpoint covers the whole log";
  EXPECT_GT(pages_read_, 1);
  EXPECT_FALSE(std::filesystem::exists(File().string() + ".tmp"));
}

}  // namespace
}  // namespace tearline
