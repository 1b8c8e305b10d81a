// OutboxStore / SentStore: the sender's durable state (sealed reports until the broker's final
// answer; the final answers themselves) and the transient/final classification of rejections.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "tearline/node/outbox_store.h"
#include "test_support.h"

namespace tearline::node {
namespace {

using tearline::testing::TempDir;

const std::string kId = "0123456789abcdef0123456789abcdef";

TEST(NodeOutboxTest, PutGetListRemoveWithPrivateModes) {
  TempDir dir;
  auto box = OutboxStore::Open(dir.path());
  ASSERT_TRUE(box.ok()) << box.status().ToString();
  const std::vector<std::uint8_t> bytes = {1, 2, 3, 0, 255};
  ASSERT_TRUE(box->Put(kId, bytes).ok());
  EXPECT_TRUE(box->Contains(kId));
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "outbox" / (kId + ".report")).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path() / "outbox").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto back = box->Get(kId);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, bytes);
  // Stray files (temporaries, other names) are not entries.
  std::ofstream(dir.path() / "outbox" / ".x.report.tmp1") << "x";
  std::ofstream(dir.path() / "outbox" / "notes.report") << "x";
  auto list = box->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, std::vector<std::string>{kId});
  // Reopening (a restart) sees the same entry.
  auto again = OutboxStore::Open(dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->Contains(kId));
  ASSERT_TRUE(box->Remove(kId).ok());
  EXPECT_FALSE(box->Contains(kId));
  EXPECT_TRUE(box->Remove(kId).ok()) << "removing twice is fine";
  EXPECT_EQ(box->Get(kId).status().reason(), "OUTBOX_NOT_FOUND");
  EXPECT_EQ(box->Put("../evil", bytes).reason(), "OUTBOX_BAD_ID");
  EXPECT_EQ(box->Get("ABCDEF0123456789ABCDEF0123456789").status().reason(), "OUTBOX_BAD_ID");
}

TEST(NodeOutboxTest, SentRecordRoundTripsWithRecordSeq) {
  TempDir dir;
  auto sent = SentStore::Open(dir.path());
  ASSERT_TRUE(sent.ok());
  SentRecord r;
  r.report_id_hex = kId;
  r.banner = "SECRET//REL TO USA, GBR";
  r.accepted = true;
  r.duplicate = true;
  r.submitted_unix = 100;
  r.replied_unix = 105;
  RecipientOutcomeInfo o;
  o.nation = "GBR";
  o.node_id = "gbr-1";
  o.state = schema::DeliveryState::Delivered;
  o.portions = {0, 2};
  o.denials = {{1, "(S//NF)", "NOFORN", "not releasable"}};
  o.record_seq = 17;
  r.outcomes = {o};
  ASSERT_TRUE(sent->Put(r).ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "sent" / (kId + ".json")).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = sent->Get(kId);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->accepted);
  EXPECT_TRUE(back->duplicate);
  EXPECT_EQ(back->banner, r.banner);
  EXPECT_EQ(back->replied_unix, 105);
  ASSERT_EQ(back->outcomes.size(), 1u);
  EXPECT_EQ(back->outcomes[0].record_seq, 17u);
  EXPECT_EQ(back->outcomes[0].portions, (std::vector<std::uint32_t>{0, 2}));
  EXPECT_EQ(back->outcomes[0].denials[0].index, 1u);
  EXPECT_EQ(*sent->List(), std::vector<std::string>{kId});

  // A record that names another report, or is not JSON, is corrupt.
  const std::string other = "ffffffffffffffffffffffffffffffff";
  std::filesystem::copy_file(dir.path() / "sent" / (kId + ".json"),
                             dir.path() / "sent" / (other + ".json"));
  EXPECT_EQ(sent->Get(other).status().reason(), "SENT_CORRUPT");
  std::ofstream(dir.path() / "sent" / (other + ".json")) << "{not json";
  EXPECT_EQ(sent->Get(other).status().reason(), "SENT_CORRUPT");
  EXPECT_EQ(sent->Get(std::string(32, 'a')).status().reason(), "SENT_NOT_FOUND");
}

TEST(NodeOutboxTest, OnlyCapacityAndSessionFailuresAreTransient) {
  for (const char* r : {"RATE_LIMITED", "STORAGE_FULL", "STORE_IO", "CONNECTION_LIMIT",
                        "NOT_WELCOMED", "HELLO_REQUIRED", "AUTH_UNKNOWN_NODE"}) {
    EXPECT_TRUE(IsTransientSubmitFailure(r)) << r;
  }
  for (const char* r : {"REPORT_EXPIRED", "ENVELOPE_BAD_SIGNATURE", "DUPLICATE_REPORT",
                        "REPORT_ID_CONFLICT", "ROUTING_BAD_LABEL", "WIRE_TOO_LARGE", ""}) {
    EXPECT_FALSE(IsTransientSubmitFailure(r)) << r;
  }
}

}  // namespace
}  // namespace tearline::node
