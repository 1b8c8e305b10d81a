// The real tearline-audit binary on synthetic audit directories (built exactly as a broker
// would: RFC 6962 tree, checkpoints signed with an Ed25519 log key, witness cosignatures by
// certified nodes), plus the HTML report rendered in headless Chromium.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "audit_dir_builder.h"
#include "coalition.h"
#include "hostile_audit.h"
#include "tearline/audit/audit_records.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/identity/certificate.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"
#include "test_support.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using testing::BinaryPath;
using testing::Leaf;
using testing::ProcessResult;
using testing::ReadFile;
using testing::RunProcess;
using testing::SourcePath;
using testing::SplitLines;
using testing::TempDir;
using testing::WriteText;

constexpr std::int64_t kBaseTime = testing::kAuditBaseTime;
const std::string& kR1 = testing::kAuditReport1;
const std::string& kR2 = testing::kAuditReport2;

// A small audit directory with two reports, a denial, live and queued deliveries.
class AuditFixture : public testing::AuditDirBuilder {
 public:
  AuditFixture() {
    const std::string digest = Sha256Hex(policy_text());
    auto delivery = [](const std::string& id, const std::string& onation,
                       const std::string& recipient, const std::string& nation,
                       const std::string& label) {
      return nlohmann::json{
          {"report_id", id},        {"originator_nation", onation},
          {"recipient", recipient}, {"nation", nation},
          {"clearance", "SECRET"},  {"portions", {{{"index", 0}, {"label", label}}}}};
    };
    Add("broker_start", {{"broker", "broker-1"}, {"nodes", 3}, {"torn_tail_bytes", 0}});
    Add("policy_loaded", {{"policy", "tearline-coalition"}, {"policy_sha256", digest}});
    Add("node_connected", {{"node", "usa-node"}});
    Add("node_connected", {{"node", "gbr-node"}});
    Add("accepted", {{"report_id", kR1},
                     {"originator", "usa-node"},
                     {"originator_nation", "USA"},
                     {"portions",
                      {{{"index", 0}, {"label", "(S//REL TO USA, GBR)"}},
                       {{"index", 1}, {"label", "(S//NF)"}}}},
                     {"policy_sha256", digest}});  // line 5, t+6
    Add("denied", {{"report_id", kR1},
                   {"recipient", "gbr-node"},
                   {"nation", "GBR"},
                   {"portion", 1},
                   {"label", "(S//NF)"},
                   {"reason", "NOFORN"},
                   {"explanation", "NOFORN"}});                                         // line 6
    Add("delivered", delivery(kR1, "USA", "gbr-node", "GBR", "(S//REL TO USA, GBR)"));  // 7
    Add("accepted", {{"report_id", kR2},
                     {"originator", "gbr-node"},
                     {"originator_nation", "GBR"},
                     {"portions", {{{"index", 0}, {"label", "(C//REL TO USA, FRA, GBR)"}}}},
                     {"policy_sha256", digest}});                                         // line 8
    Add("queued", delivery(kR2, "GBR", "fra-node", "FRA", "(C//REL TO USA, FRA, GBR)"));  // 9
    Add("delivered", delivery(kR2, "GBR", "usa-node", "USA", "(C//REL TO USA, FRA, GBR)"));
    Add("node_connected", {{"node", "fra-node"}});  // line 11
    Add("delivered", {{"report_id", kR2}, {"recipient", "fra-node"}, {"from_queue", true}});
    Add("denied", {{"report_id", kR2},
                   {"recipient", ""},
                   {"nation", "JPN"},
                   {"reason", "NO_NODE"},
                   {"explanation", "no node"}});  // line 13
    Finish({}, {{5, "usa-node"}, {9, "gbr-node"}});
  }
};

ProcessResult Audit(std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("tearline-audit").string());
  return RunProcess(args, std::chrono::seconds(60));
}

TEST(AuditCliTest, VerifyPassesOnIntactDirectory) {
  AuditFixture f;
  auto r = Audit({"verify", f.dir().string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS: 13 records; 13 checkpoints"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 cosignatures by gbr-node usa-node"), std::string::npos) << r.out;
}

TEST(AuditCliTest, VerifyNamesTheDeletedRecord) {
  AuditFixture f;
  auto lines = SplitLines(ReadFile(f.dir() / "log.jsonl"));
  lines.erase(lines.begin() + 5);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  WriteText(f.dir() / "log.jsonl", text);
  auto r = Audit({"verify", f.dir().string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL line 6: AUDIT_SEQ_MISMATCH"), std::string::npos) << r.out;
}

TEST(AuditCliTest, VerifyCatchesReSignedHistoryWithTrustedCheckpoint) {
  AuditFixture f;
  const fs::path trusted = f.tmp() / "trusted";
  WriteText(trusted, ReadFile(f.dir() / "checkpoints" / "9") + f.CosignLine(9, "gbr-node"));
  // The broker drops the NOFORN denial (line 6), renumbers, re-signs and hides the cosignature.
  auto lines = SplitLines(ReadFile(f.dir() / "log.jsonl"));
  lines.erase(lines.begin() + 5);
  std::string text;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto j = nlohmann::json::parse(lines[i]);
    j["seq"] = i;
    text += j.dump() + "\n";
  }
  WriteText(f.dir() / "log.jsonl", text);
  f.SignAll();
  fs::remove(f.dir() / "cosignatures" / "9.gbr-node");
  auto plain = Audit({"verify", f.dir().string()});
  EXPECT_EQ(plain.exit_code, 0) << plain.out;
  // Options may come before DIR: --trusted-checkpoint takes exactly one value per use.
  auto r = Audit({"verify", "--trusted-checkpoint", trusted.string(), f.dir().string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL lines 6-9"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("TRUSTED_CHECKPOINT_MISMATCH"), std::string::npos) << r.out;
}

// --- What a PASS rests on ----------------------------------------------------------------------

TEST(AuditCliTest, VerifyWithCaRejectsALogReSignedWithAFreshKey) {
  AuditFixture f;
  const std::string ca = (f.dir() / "certs").string();  // The auditor's own copy of the root.
  auto good = Audit({"verify", f.dir().string(), "--ca", ca});
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_EQ(good.out.rfind("PASS: ", 0), 0u) << good.out;
  EXPECT_NE(good.out.find("log key certified for broker broker-1"), std::string::npos) << good.out;

  testing::ResignWithFreshKey(f.dir(), testing::kAuditOrigin);
  auto r = Audit({"verify", f.dir().string(), "--ca", ca});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("FAIL log.pub: LOG_KEY_NOT_BROKER: ", 0), 0u) << r.out;
}

TEST(AuditCliTest, VerifySaysWhenNothingWitnessedTheLog) {
  AuditFixture f;
  const std::string ca = (f.dir() / "certs").string();
  auto two = Audit({"verify", f.dir().string(), "--ca", ca, "--min-witnesses", "2"});
  EXPECT_EQ(two.exit_code, 0) << two.out << two.err;
  auto three = Audit({"verify", f.dir().string(), "--ca", ca, "--min-witnesses", "3"});
  EXPECT_EQ(three.exit_code, 1) << three.out;
  EXPECT_NE(three.out.find("AUDIT_TOO_FEW_WITNESSES: 2 distinct witnesses"), std::string::npos)
      << three.out;
  // Witnesses certified by a root the directory supplies prove nothing.
  EXPECT_EQ(Audit({"verify", f.dir().string(), "--min-witnesses", "1"}).exit_code, 2);

  for (const auto& e : fs::directory_iterator(f.dir() / "cosignatures")) fs::remove(e.path());
  auto r = Audit({"verify", f.dir().string(), "--ca", ca});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("PASS (unwitnessed): 13 records", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("rests on the broker's signature alone"), std::string::npos) << r.out;
  auto required = Audit({"verify", f.dir().string(), "--ca", ca, "--min-witnesses", "1"});
  EXPECT_EQ(required.exit_code, 1) << required.out;
  auto text = Audit({"report", f.dir().string(), "--text", "--ca", ca});
  EXPECT_NE(text.out.find("verification: PASS (unwitnessed)"), std::string::npos) << text.out;
}

// --- Node-supplied text in the auditor's output --------------------------------------------------

// Splits one CSV row (RFC 4180 quoting) into its cells.
std::vector<std::string> CsvCells(const std::string& row) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < row.size(); ++i) {
    const char c = row[i];
    if (quoted && c == '"' && i + 1 < row.size() && row[i + 1] == '"') {
      cells.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  return cells;
}

TEST(AuditCliTest, NodeSuppliedTextCannotFakeLinesTerminalsOrFormulas) {
  testing::AuditDirBuilder b;
  b.StandardStory();
  for (const std::string& t : testing::kHostileTexts) {
    b.Add("rejected_input", {{"node", t}, {"reason", t}, {"explanation", t}, {"report_id", kR1}});
    b.Add("denied", {{"report_id", kR1},
                     {"originator", t},
                     {"recipient", t},
                     {"nation", t},
                     {"reason", t},
                     {"explanation", t}});
  }
  b.Finish({}, {{5, "usa-node"}});
  const std::size_t records = b.size();
  const std::string dir = b.dir().string();

  auto text = Audit({"query", dir});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_FALSE(testing::HasTerminalControl(text.out)) << text.out;
  EXPECT_EQ(SplitLines(text.out).size(), records) << text.out;
  for (const auto& line : SplitLines(text.out)) EXPECT_EQ(line.rfind("line ", 0), 0u) << line;

  auto json = Audit({"query", dir, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_FALSE(testing::HasTerminalControl(json.out)) << json.out;
  const auto json_lines = SplitLines(json.out);
  ASSERT_EQ(json_lines.size(), records);
  const auto original = SplitLines(ReadFile(b.dir() / "log.jsonl"));
  for (std::size_t i = 0; i < records; ++i) {
    // Escaped, but the same JSON value as the logged record.
    EXPECT_EQ(nlohmann::json::parse(json_lines[i]), nlohmann::json::parse(original[i]));
  }

  auto csv = Audit({"query", dir, "--csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_FALSE(testing::HasTerminalControl(csv.out)) << csv.out;
  const auto rows = SplitLines(csv.out);
  ASSERT_EQ(rows.size(), records + 1) << csv.out;
  for (const auto& row : rows) {
    const auto cells = CsvCells(row);
    EXPECT_EQ(cells.size(), 12u) << row;
    for (const auto& cell : cells) {
      EXPECT_TRUE(cell.empty() || std::string("=+-@").find(cell[0]) == std::string::npos)
          << "a cell starts a formula: " << row;
    }
  }

  for (const std::vector<std::string>& args : {std::vector<std::string>{"custody", dir, kR1},
                                               {"report", dir, "--text"},
                                               {"verify", dir}}) {
    auto r = Audit(args);
    EXPECT_FALSE(testing::HasTerminalControl(r.out)) << args[0] << ":\n" << r.out;
  }
  // A failure message quoting a record's text is one escaped line too.
  auto lines = b.Lines();
  auto accepted = nlohmann::json::parse(lines[4]);
  accepted["portions"][0]["label"] = testing::kHostileTexts[0];
  lines[4] = accepted.dump();
  b.SetLines(lines);
  b.SignAll();
  auto failed = Audit({"verify", dir});
  EXPECT_EQ(failed.exit_code, 1) << failed.out;
  EXPECT_FALSE(testing::HasTerminalControl(failed.out)) << failed.out;
  EXPECT_EQ(SplitLines(failed.out).size(), 1u) << failed.out;
  EXPECT_EQ(failed.out.rfind("FAIL line 5: AUDIT_BAD_LABEL", 0), 0u) << failed.out;
}

TEST(AuditCliTest, MalformedInputAndUsageErrors) {
  AuditFixture f;
  auto missing = Audit({"verify", (f.tmp() / "nope").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("AUDIT_DIR_NOT_FOUND"), std::string::npos) << missing.out;

  std::string text = ReadFile(f.dir() / "log.jsonl");
  text.insert(text.find('\n') + 1, "{not json\n");
  WriteText(f.dir() / "log.jsonl", text);
  auto bad = Audit({"verify", f.dir().string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("FAIL line 2: AUDIT_BAD_JSON"), std::string::npos) << bad.out;
  auto bad_query = Audit({"query", f.dir().string()});
  EXPECT_EQ(bad_query.exit_code, 1);
  EXPECT_NE(bad_query.out.find("line 2"), std::string::npos) << bad_query.out;

  EXPECT_EQ(Audit({}).exit_code, 2);
  EXPECT_EQ(Audit({"verify"}).exit_code, 2);
  EXPECT_EQ(Audit({"verify", f.dir().string(), "--bogus"}).exit_code, 2);
  EXPECT_EQ(Audit({"query", f.dir().string(), "--since", "yesterday"}).exit_code, 2);
  EXPECT_EQ(Audit({"custody", f.dir().string(), "not-an-id"}).exit_code, 2);
  EXPECT_EQ(Audit({"verify", f.dir().string(), "--ca", f.tmp().string()}).exit_code, 2);
}

TEST(AuditCliTest, QueryFilters) {
  AuditFixture f;
  auto gbr = Audit({"query", f.dir().string(), "--nation", "GBR", "--json"});
  ASSERT_EQ(gbr.exit_code, 0) << gbr.err;
  // accepted R2 (originator GBR), denied to GBR, delivered to GBR, queued and delivered R2.
  const auto lines = SplitLines(gbr.out);
  EXPECT_EQ(lines.size(), 5u) << gbr.out;
  for (const auto& l : lines) EXPECT_NE(l.find("GBR"), std::string::npos) << l;

  auto delivered =
      Audit({"query", f.dir().string(), "--decision", "delivered", "--report", kR2, "--csv"});
  ASSERT_EQ(delivered.exit_code, 0);
  const auto rows = SplitLines(delivered.out);
  ASSERT_EQ(rows.size(), 3u) << delivered.out;
  EXPECT_EQ(rows[0].rfind("line,seq,time,time_utc,type,report_id", 0), 0u);
  EXPECT_EQ(rows[1].rfind("10,9,", 0), 0u) << rows[1];
  EXPECT_NE(rows[1].find("(C//REL TO USA, FRA, GBR)"), std::string::npos) << rows[1];

  // Record i has time kBaseTime + 1.5 i: lines 5..7 are records 4..6 (t+6 .. t+9).
  auto window = Audit({"query", f.dir().string(), "--since", "2025-11-29T07:06:46Z", "--until",
                       std::to_string(kBaseTime + 9)});
  ASSERT_EQ(window.exit_code, 0);
  const auto w = SplitLines(window.out);
  ASSERT_EQ(w.size(), 3u) << window.out;
  EXPECT_EQ(w[0].rfind("line 5  2025-11-29T07:06:46.000Z  accepted", 0), 0u) << w[0];
}

TEST(AuditCliTest, CustodyProvesEveryRecordOfAReport) {
  AuditFixture f;
  auto r = Audit({"custody", f.dir().string(), kR2});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::size_t verified = 0;
  for (std::size_t p = r.out.find("inclusion: verified"); p != std::string::npos;
       p = r.out.find("inclusion: verified", p + 1)) {
    ++verified;
  }
  EXPECT_EQ(verified, 5u) << r.out;  // accepted, queued, delivered, from_queue, denied
  EXPECT_NE(r.out.find("line 12"), std::string::npos);
  auto none = Audit({"custody", f.dir().string(), std::string(32, '9')});
  EXPECT_EQ(none.exit_code, 1);
}

std::map<std::string, std::string> Header(const std::vector<std::string>& lines,
                                          std::vector<Hash>& hashes) {
  std::map<std::string, std::string> h;
  for (const auto& l : lines) {
    const auto sp = l.find(' ');
    if (sp == std::string::npos) {
      auto bytes = Base64Decode(l);
      EXPECT_TRUE(bytes.ok()) << l;
      hashes.push_back(*HashFromBytes(*bytes));
    } else {
      h[l.substr(0, sp)] = l.substr(sp + 1);
    }
  }
  return h;
}

Hash Decode(const std::string& b64) { return *HashFromBytes(*Base64Decode(b64)); }

TEST(AuditCliTest, ProofsVerifyIndependently) {
  AuditFixture f;
  auto inc = Audit({"prove", f.dir().string(), "--leaf", "3"});
  ASSERT_EQ(inc.exit_code, 0) << inc.err;
  std::vector<Hash> proof;
  auto h = Header(SplitLines(inc.out), proof);
  EXPECT_EQ(h["tree_size"], "13");
  EXPECT_EQ(h["signed_checkpoint"], "matches");
  EXPECT_EQ(proof.size(), std::stoul(h["proof_hashes"]));
  const auto line3 = SplitLines(ReadFile(f.dir() / "log.jsonl"))[3];
  EXPECT_EQ(Decode(h["leaf_hash"]), Leaf(line3));
  EXPECT_TRUE(VerifyInclusion(Decode(h["leaf_hash"]), 3, 13, proof, Decode(h["root"])).ok());

  auto con = Audit({"prove", f.dir().string(), "--consistency", "5", "9"});
  ASSERT_EQ(con.exit_code, 0) << con.err;
  std::vector<Hash> cproof;
  auto c = Header(SplitLines(con.out), cproof);
  EXPECT_TRUE(VerifyConsistency(5, 9, Decode(c["old_root"]), Decode(c["new_root"]), cproof).ok());
  EXPECT_EQ(Audit({"prove", f.dir().string(), "--leaf", "13"}).exit_code, 2);
  EXPECT_EQ(Audit({"prove", f.dir().string()}).exit_code, 2);
}

// Renders the report in headless Chromium and returns the DOM it built ("" if it failed).
std::string ChromiumDom(const fs::path& html, const fs::path& profile, const fs::path& shot) {
  const std::vector<std::string> common = {"/usr/bin/chromium",
                                           "--headless",
                                           "--no-sandbox",
                                           "--disable-gpu",
                                           "--disable-background-networking",
                                           "--disable-component-update",
                                           "--disable-sync",
                                           "--no-first-run",
                                           "--user-data-dir=" + profile.string()};
  auto dump = common;
  dump.push_back("--dump-dom");
  dump.push_back("file://" + html.string());
  auto r = RunProcess(dump, std::chrono::seconds(90));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto snap = common;
  snap.push_back("--window-size=1200,1600");
  snap.push_back("--screenshot=" + shot.string());
  snap.push_back("file://" + html.string());
  (void)RunProcess(snap, std::chrono::seconds(90));
  return r.out;
}

TEST(AuditCliTest, HtmlReportRendersInChromium) {
  AuditFixture f;
  const fs::path html = f.tmp() / "report.html";
  auto r = Audit({"report", f.dir().string(), "--html", html.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string page = ReadFile(html);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  if (!fs::exists("/usr/bin/chromium")) {
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium, or "
                    "deploy/install-deps.sh): the HTML report was written but not rendered";
  }
  const std::string dom = ChromiumDom(html, f.tmp() / "profile", f.tmp() / "report.png");
  ASSERT_FALSE(dom.empty());
  EXPECT_NE(dom.find("<p id=\"verdict\" class=\"verdict pass\">PASS</p>"), std::string::npos);
  // Matrix: USA->GBR 1 (R1), GBR->USA 1 and GBR->FRA 1 (R2, the latter from the queue).
  for (const char* cell : {"data-from=\"USA\" data-to=\"GBR\"", "data-from=\"GBR\" data-to=\"USA\"",
                           "data-from=\"GBR\" data-to=\"FRA\""}) {
    const auto p = dom.find(cell);
    ASSERT_NE(p, std::string::npos) << cell;
    EXPECT_NE(dom.find(">1</td>", p), std::string::npos);
    EXPECT_EQ(dom.find(">1</td>", p), dom.find("</td>", p) - 2) << cell;
  }
  const auto zero = dom.find("data-from=\"USA\" data-to=\"FRA\"");
  ASSERT_NE(zero, std::string::npos);
  EXPECT_EQ(dom.find(">0</td>", zero), dom.find("</td>", zero) - 2);
  // One of two accepted reports rolls up to NOFORN; deliveries took 3, 3 and 6 s.
  EXPECT_NE(dom.find("id=\"share-noforn\">50.0%"), std::string::npos);
  EXPECT_NE(dom.find("id=\"latency-min\">3.000 s"), std::string::npos);
  EXPECT_NE(dom.find("id=\"latency-median\">3.000 s"), std::string::npos);
  EXPECT_NE(dom.find("id=\"latency-max\">6.000 s"), std::string::npos);
  EXPECT_NE(dom.find("<td>NOFORN</td><td class=\"num\">1</td>"), std::string::npos);
  EXPECT_NE(dom.find("<td>JPN</td><td class=\"num\">1</td>"), std::string::npos);
  // Turnaround per nation pair, and the release, forward and derived-material sections (this
  // log has none of those records: each section still renders, saying so).
  const auto by_pair = dom.find("<table id=\"latency-by-pair\">");
  ASSERT_NE(by_pair, std::string::npos);
  EXPECT_NE(dom.find("<td>USA -&gt; GBR</td><td class=\"num\">1</td>", by_pair),
            std::string::npos);
  for (const char* table : {"releases", "forwards", "provenance"}) {
    EXPECT_NE(dom.find("<table id=\"" + std::string(table) + "\">"), std::string::npos) << table;
  }
  EXPECT_NE(dom.find(">no forwards</td>"), std::string::npos);
  EXPECT_NE(dom.find(">no derived portions</td>"), std::string::npos);
  EXPECT_GT(fs::exists(f.tmp() / "report.png") ? fs::file_size(f.tmp() / "report.png") : 0u, 0u);

  // A tampered directory: the page says FAIL with the reason, and the tool exits 1.
  auto lines = SplitLines(ReadFile(f.dir() / "log.jsonl"));
  std::swap(lines[7], lines[8]);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  WriteText(f.dir() / "log.jsonl", text);
  const fs::path bad_html = f.tmp() / "bad.html";
  auto bad = Audit({"report", f.dir().string(), "--html", bad_html.string()});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  const std::string bad_dom = ChromiumDom(bad_html, f.tmp() / "profile2", f.tmp() / "bad.png");
  EXPECT_NE(bad_dom.find("class=\"verdict fail\">FAIL</p>"), std::string::npos);
  EXPECT_NE(bad_dom.find("line 8: AUDIT_SEQ_MISMATCH"), std::string::npos);
}

TEST(AuditCliTest, TextReportSummarisesTheLog) {
  AuditFixture f;
  auto r = Audit({"report", f.dir().string(), "--text"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verification: PASS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("USA -> GBR: 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GBR -> FRA: 1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("USA -> FRA"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NOFORN=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(50.0%)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("min 3.000 s, median 3.000 s, max 6.000 s"), std::string::npos) << r.out;

  auto usage = Audit({"report", f.dir().string()});
  EXPECT_EQ(usage.exit_code, 2) << usage.out << usage.err;

  auto lines = SplitLines(ReadFile(f.dir() / "log.jsonl"));
  lines.erase(lines.begin() + 4);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  WriteText(f.dir() / "log.jsonl", text);
  auto bad = Audit({"report", f.dir().string(), "--text"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("verification: FAIL line 5"), std::string::npos) << bad.out;
}

// The tool on the audit directory a real broker wrote while real nodes exchanged reports.
TEST(AuditCliTest, RealBrokerAuditDirectoryVerifies) {
  testing::Coalition c;
  c.IssueNode("usa-1", "USA", "SECRET");
  c.IssueNode("gbr-1", "GBR", "SECRET");
  c.StartBroker();
  c.StartNode("usa-1");
  c.StartNode("gbr-1");
  WriteText(c.root() / "a.txt", "Convoy sighted.");
  WriteText(c.root() / "b.txt", "Source identity.");
  auto sent =
      c.NodeCli("usa-1", "send",
                {"--to", "GBR", "--portion", "(S//REL TO USA, GBR)", (c.root() / "a.txt").string(),
                 "--portion", "(S//NF)", (c.root() / "b.txt").string()});
  EXPECT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  c.StopNode("gbr-1");
  auto queued = c.NodeCli(
      "usa-1", "send",
      {"--to", "GBR", "--portion", "(C//REL TO USA, GBR)", (c.root() / "a.txt").string()});
  EXPECT_EQ(queued.exit_code, 0) << queued.out << queued.err;
  c.StartNode("gbr-1");
  testing::WaitFor([&] { return c.AuditLogText().find("from_queue") != std::string::npos; });
  c.StopBroker();
  const fs::path dir = c.broker_data() / "audit";
  if (!fs::exists(dir / "checkpoint")) {
    GTEST_SKIP() << "this broker does not sign audit checkpoints (no " << dir / "checkpoint"
                 << "); nothing to verify";
  }
  auto r = Audit({"verify", dir.string(), "--ca", c.ca_dir().string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n" << c.AuditLogText();
  EXPECT_EQ(r.out.rfind("PASS", 0), 0u) << r.out;
  // The live delivery and the queued copy were both re-decided under the logged policy.
  EXPECT_NE(r.out.find("2 deliveries (2 portions) allowed"), std::string::npos) << r.out;
  // Whatever the nodes cosigned was verified under their certificates.
  std::size_t cosignatures = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir / "cosignatures", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++cosignatures;
  }
  EXPECT_NE(r.out.find("; " + std::to_string(cosignatures) + " cosignatures"), std::string::npos)
      << r.out;

  auto delivered = Audit({"query", dir.string(), "--decision", "delivered", "--json"});
  EXPECT_EQ(SplitLines(delivered.out).size(), 2u) << delivered.out;
  const fs::path html = c.root() / "report.html";
  auto rep = Audit({"report", dir.string(), "--html", html.string(), "--ca", c.ca_dir().string()});
  EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_NE(ReadFile(html).find("data-from=\"USA\" data-to=\"GBR\""), std::string::npos);

  // Cutting a record out of the real log is caught and named.
  auto lines = SplitLines(ReadFile(dir / "log.jsonl"));
  ASSERT_GT(lines.size(), 3u);
  lines.erase(lines.begin() + 2);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  WriteText(dir / "log.jsonl", text);
  auto bad = Audit({"verify", dir.string(), "--ca", c.ca_dir().string()});
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("FAIL line 3: AUDIT_SEQ_MISMATCH"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace tearline
