#include "tearline/broker/report_store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::TempDir;

std::vector<std::uint8_t> Bytes(std::size_t n, std::uint8_t fill) {
  return std::vector<std::uint8_t>(n, fill);
}

StoredReport Report(const std::string& id, std::int64_t expires = 2000000000) {
  StoredReport r;
  r.report_id = id;
  r.originator = "usa-1";
  r.sha256 = std::string(64, 'a');
  r.expires_unix = expires;
  r.reply = {1, 2, 3};
  return r;
}

std::vector<StoredCopy> Copies() {
  std::vector<StoredCopy> c(3);
  c[0] = {"gbr-1", "GBR", CopyState::kQueued, "", Bytes(100, 7), 10, 5};
  c[1] = {"jpn-1", "JPN", CopyState::kDelivered, "", Bytes(50, 9), 10, 6};
  c[2] = {"", "KOR", CopyState::kDenied, "NO_NODE", {}, 10, 4};
  return c;
}

const std::string kId1(32, '1');
const std::string kId2(32, '2');

class ReportStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<ReportStore> OpenStore(ReportStoreOptions options = {}) {
    auto s = ReportStore::Open(dir_.path() / "reports.db", options);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  TempDir dir_;
};

TEST_F(ReportStoreTest, RoundTrip) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertReport(Report(kId1), Copies()).ok());
  auto found = store->FindReport(kId1);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->originator, "usa-1");
  EXPECT_EQ((*found)->sha256, std::string(64, 'a'));
  EXPECT_EQ((*found)->expires_unix, 2000000000);
  EXPECT_EQ((*found)->reply, (std::vector<std::uint8_t>{1, 2, 3}));

  auto copies = store->Copies(kId1);
  ASSERT_TRUE(copies.ok());
  ASSERT_EQ(copies->size(), 3u);
  EXPECT_EQ((*copies)[0].node_id, "gbr-1");
  EXPECT_EQ((*copies)[0].state, CopyState::kQueued);
  EXPECT_EQ((*copies)[0].record_seq, 5u);
  EXPECT_EQ((*copies)[2].nation, "KOR");
  EXPECT_EQ((*copies)[2].reason, "NO_NODE");

  auto copy = store->FindCopy(kId1, "gbr-1");
  ASSERT_TRUE(copy.ok() && copy->has_value());
  EXPECT_EQ((*copy)->bytes, Bytes(100, 7));
  auto pending = store->PendingFor("jpn-1", 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].bytes, Bytes(50, 9));
  EXPECT_EQ((*pending)[0].state, CopyState::kDelivered);
  EXPECT_EQ(*store->PendingCount("gbr-1"), 1u);
  EXPECT_EQ(*store->PendingCount("kor-1"), 0u);
  EXPECT_FALSE(store->FindReport(kId2)->has_value());
  EXPECT_TRUE(store->Copies(kId2)->empty());
}

TEST_F(ReportStoreTest, DuplicateIdIsRefusedAndNothingChanges) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertReport(Report(kId1), Copies()).ok());
  StoredReport other = Report(kId1);
  other.sha256 = std::string(64, 'b');
  Status st = store->InsertReport(other, {{"gbr-1", "GBR", CopyState::kQueued, "", Bytes(1, 1)}});
  EXPECT_EQ(st.reason(), "STORE_DUPLICATE");
  EXPECT_EQ((*store->FindReport(kId1))->sha256, std::string(64, 'a'));
  EXPECT_EQ(store->Copies(kId1)->size(), 3u);
  // The store is still usable after the rolled-back transaction.
  EXPECT_TRUE(store->InsertReport(Report(kId2), {}).ok());
}

TEST_F(ReportStoreTest, PendingCopyWithoutBytesIsRefused) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Status st = store->InsertReport(Report(kId1), {{"gbr-1", "GBR", CopyState::kQueued, "", {}}});
  EXPECT_EQ(st.reason(), "STORE_INVALID");
  EXPECT_FALSE(store->FindReport(kId1)->has_value());
}

TEST_F(ReportStoreTest, StateTransitionsDropBytesWhenFinished) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertReport(Report(kId1), Copies()).ok());
  auto changed = store->SetState(kId1, "gbr-1", CopyState::kDelivered, "", 20, 8);
  ASSERT_TRUE(changed.ok() && *changed);
  EXPECT_EQ((*store->FindCopy(kId1, "gbr-1"))->bytes, Bytes(100, 7)) << "delivered keeps bytes";
  ASSERT_TRUE(*store->SetState(kId1, "gbr-1", CopyState::kAcknowledged, "", 30, 9));
  auto copy = store->FindCopy(kId1, "gbr-1");
  ASSERT_TRUE(copy.ok() && copy->has_value());
  EXPECT_EQ((*copy)->state, CopyState::kAcknowledged);
  EXPECT_TRUE((*copy)->bytes.empty());
  EXPECT_EQ((*copy)->updated_unix, 30);
  EXPECT_EQ((*copy)->record_seq, 9u);
  EXPECT_EQ(*store->PendingCount("gbr-1"), 0u);
  EXPECT_FALSE(*store->SetState(kId1, "nobody", CopyState::kExpired, "REPORT_EXPIRED", 1, 1));
}

TEST_F(ReportStoreTest, FailedCopiesDropBytesAndLeaveTheQueue) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertReport(Report(kId1), Copies()).ok());
  ASSERT_TRUE(
      *store->SetState(kId1, "gbr-1", CopyState::kFailed, "ENVELOPE_DECRYPT_FAILED", 40, 11));
  auto copy = store->FindCopy(kId1, "gbr-1");
  ASSERT_TRUE(copy.ok() && copy->has_value());
  EXPECT_EQ((*copy)->state, CopyState::kFailed);
  EXPECT_EQ((*copy)->reason, "ENVELOPE_DECRYPT_FAILED");
  EXPECT_TRUE((*copy)->bytes.empty());
  EXPECT_EQ(*store->PendingCount("gbr-1"), 0u);
  EXPECT_TRUE(store->PendingIdsFor("gbr-1", 0, 10)->empty());
  EXPECT_EQ(CopyStateName(CopyState::kFailed), "failed");
  EXPECT_EQ(ParseCopyState("failed"), CopyState::kFailed);
}

TEST_F(ReportStoreTest, PendingIdsArePagedInQueueOrderWithSizes) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (char c : std::string("12345")) {
    std::vector<StoredCopy> one = {
        {"gbr-1", "GBR", CopyState::kQueued, "", Bytes(static_cast<std::size_t>(c), 1), 10, 5}};
    ASSERT_TRUE(store->InsertReport(Report(std::string(32, c)), one).ok());
  }
  auto first = store->PendingIdsFor("gbr-1", 0, 2);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].report_id, std::string(32, '1'));
  EXPECT_EQ((*first)[0].size, static_cast<std::uint64_t>('1'));
  auto rest = store->PendingIdsFor("gbr-1", first->back().position, 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ((*rest)[0].report_id, std::string(32, '3'));
  EXPECT_EQ(rest->back().report_id, std::string(32, '5'));
  EXPECT_TRUE(store->PendingIdsFor("jpn-1", 0, 10)->empty());
}

TEST_F(ReportStoreTest, Version1StoreIsMigratedKeepingCopiesAndOrder) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->InsertReport(Report(kId1), Copies()).ok());
    ASSERT_TRUE(store
                    ->InsertReport(Report(kId2),
                                   {{"gbr-1", "GBR", CopyState::kQueued, "", Bytes(10, 2), 10, 7}})
                    .ok());
  }
  {
    // Mark the file as schema version 1 (user_version: big-endian at offset 60).
    std::fstream f(dir_.path() / "reports.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(60);
    const char v[4] = {0, 0, 0, 1};
    f.write(v, 4);
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto ids = store->PendingIdsFor("gbr-1", 0, 10);
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[0].report_id, kId1);
  EXPECT_EQ((*ids)[1].report_id, kId2);
  EXPECT_EQ((*store->FindCopy(kId1, "jpn-1"))->bytes, Bytes(50, 9));
  EXPECT_TRUE(*store->SetState(kId2, "gbr-1", CopyState::kFailed, "NODE_LABEL_INVALID", 20, 8));
  store.reset();
  // Re-opened as version 2 without another migration.
  EXPECT_NE(OpenStore(), nullptr);
}

TEST_F(ReportStoreTest, ExpirySelectsOnlyPendingCopiesOfExpiredReports) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertReport(Report(kId1, 100), Copies()).ok());
  ASSERT_TRUE(store->InsertReport(Report(kId2, 500), Copies()).ok());
  ASSERT_TRUE(*store->SetState(kId1, "jpn-1", CopyState::kAcknowledged, "", 50, 7));
  auto expired = store->SelectExpired(200, 100);
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ((*expired)[0].report_id, kId1);
  EXPECT_EQ((*expired)[0].node_id, "gbr-1");
  EXPECT_EQ((*expired)[0].originator, "usa-1");
  EXPECT_EQ((*expired)[0].nation, "GBR");
  ASSERT_TRUE(*store->SetState(kId1, "gbr-1", CopyState::kExpired, "REPORT_EXPIRED", 200, 11));
  EXPECT_TRUE(store->SelectExpired(200, 100)->empty());
  EXPECT_EQ(store->SelectExpired(600, 100)->size(), 2u);
  EXPECT_EQ(store->SelectExpired(600, 1)->size(), 1u);
  EXPECT_TRUE((*store->FindCopy(kId1, "gbr-1"))->bytes.empty());
}

TEST_F(ReportStoreTest, ExpirySweepStartsAtItsFloorYetFindsAReportBelowIt) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertReport(Report(kId1, 100), Copies()).ok());
  EXPECT_TRUE(store->SelectExpired(50, 100)->empty());  // The floor moves to 50.
  ASSERT_EQ(store->SelectExpired(150, 100)->size(), 2u);
  // Not settled yet: the floor stays, so the next sweep finds the same copies again.
  ASSERT_EQ(store->SelectExpired(160, 100)->size(), 2u);
  for (const char* node : {"gbr-1", "jpn-1"}) {
    ASSERT_TRUE(*store->SetState(kId1, node, CopyState::kExpired, "REPORT_EXPIRED", 160, 9));
  }
  EXPECT_TRUE(store->SelectExpired(300, 100)->empty());  // The floor moves to 300.
  // A report stored with an expiry below the floor (a wall clock stepped back) is still found.
  ASSERT_TRUE(store->InsertReport(Report(kId2, 200), Copies()).ok());
  ASSERT_EQ(store->SelectExpired(300, 100)->size(), 2u);
  EXPECT_EQ((*store->SelectExpired(300, 100))[0].report_id, kId2);
}

TEST_F(ReportStoreTest, QueueLengthIsCountedAsCopiesComeAndGoAndAfterReopen) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->InsertReport(Report(kId1), Copies()).ok());
    ASSERT_TRUE(store->InsertReport(Report(kId2), Copies()).ok());
    EXPECT_EQ(*store->PendingCount("gbr-1"), 2u);
    // A pending copy moving between pending states stays counted; leaving them, it goes.
    ASSERT_TRUE(*store->SetState(kId1, "gbr-1", CopyState::kDelivered, "", 11, 8));
    EXPECT_EQ(*store->PendingCount("gbr-1"), 2u);
    ASSERT_TRUE(*store->SetState(kId1, "gbr-1", CopyState::kAcknowledged, "", 12, 9));
    ASSERT_TRUE(*store->SetState(kId1, "gbr-1", CopyState::kAcknowledged, "", 13, 10));
    EXPECT_EQ(*store->PendingCount("gbr-1"), 1u);
    EXPECT_EQ(*store->PendingCount("jpn-1"), 2u);
  }
  auto store = OpenStore();
  EXPECT_EQ(*store->PendingCount("gbr-1"), 1u);
  EXPECT_EQ(*store->PendingCount("jpn-1"), 2u);
  EXPECT_EQ(*store->PendingCount("kor-1"), 0u);
}

TEST_F(ReportStoreTest, ReopenKeepsEverything) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->InsertReport(Report(kId1), Copies()).ok());
    ASSERT_TRUE(*store->SetState(kId1, "jpn-1", CopyState::kAcknowledged, "", 40, 12));
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->FindReport(kId1)->has_value());
  auto copies = store->Copies(kId1);
  ASSERT_EQ(copies->size(), 3u);
  EXPECT_EQ((*copies)[1].state, CopyState::kAcknowledged);
  EXPECT_EQ((*copies)[1].record_seq, 12u);
  EXPECT_EQ(store->PendingFor("gbr-1", 10)->size(), 1u);
  EXPECT_EQ((*store->PendingFor("gbr-1", 10))[0].bytes, Bytes(100, 7));
}

TEST_F(ReportStoreTest, NonDatabaseFileIsRefusedClearlyAndLeftAlone) {
  const auto path = dir_.path() / "reports.db";
  {
    std::ofstream f(path, std::ios::binary);
    f << std::string(8192, 'x');
  }
  auto store = ReportStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().reason(), "STORE_CORRUPT") << store.status().ToString();
  EXPECT_NE(store.status().message().find("reports.db"), std::string::npos);
  EXPECT_EQ(testing::ReadFile(path), std::string(8192, 'x'));
}

TEST_F(ReportStoreTest, ForeignDatabaseAndNewerVersionAreRefused) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
  }
  // Re-open under a schema version this code does not know by writing the header field.
  {
    std::fstream f(dir_.path() / "reports.db", std::ios::in | std::ios::out | std::ios::binary);
    // user_version is the big-endian 4-byte integer at offset 60 of the database header; the
    // WAL was checkpointed into the file when the last connection closed.
    f.seekp(60);
    const char v[4] = {0, 0, 0, 9};
    f.write(v, 4);
  }
  auto store = ReportStore::Open(dir_.path() / "reports.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().reason(), "STORE_VERSION") << store.status().ToString();
}

TEST_F(ReportStoreTest, SizeCapGivesStorageFullAndRollsBack) {
  ReportStoreOptions options;
  options.max_bytes = 64 * 1024;
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertReport(Report(kId1), Copies()).ok());
  std::vector<StoredCopy> big = {{"gbr-1", "GBR", CopyState::kQueued, "", Bytes(200000, 3)}};
  Status st = store->InsertReport(Report(kId2), big);
  EXPECT_EQ(st.reason(), "STORAGE_FULL") << st.ToString();
  EXPECT_EQ(st.code(), Code::kResourceExhausted);
  EXPECT_FALSE(store->FindReport(kId2)->has_value()) << "the failed transaction left nothing";
  EXPECT_TRUE(store->FindReport(kId1)->has_value());
  // Small writes still succeed.
  const std::string id3(32, '3');
  EXPECT_TRUE(store->InsertReport(Report(id3), Copies()).ok());
  EXPECT_GT(store->DiskBytes(), 0u);
  // State changes are never refused by the cap, even when the store is at its limit.
  for (int i = 0; i < 4; ++i) {
    const std::string id(32, static_cast<char>('a' + i));
    (void)store->InsertReport(Report(id),
                              {{"gbr-1", "GBR", CopyState::kQueued, "", Bytes(12000, 1)}});
  }
  auto pending = store->PendingFor("gbr-1", 100);
  ASSERT_TRUE(pending.ok());
  ASSERT_FALSE(pending->empty());
  for (const PendingCopy& p : *pending) {
    auto moved = store->SetState(p.report_id, "gbr-1", CopyState::kDelivered, "", 5, 7);
    EXPECT_TRUE(moved.ok()) << moved.status().ToString();
  }
}

TEST_F(ReportStoreTest, PerSenderCountsAndBytesCoverOnlyItsPendingCopies) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertReport(Report(kId1), Copies()).ok());  // usa-1: 100 + 50 pending.
  StoredReport other = Report(kId2);
  other.originator = "jpn-1";
  ASSERT_TRUE(
      store->InsertReport(other, {{"gbr-1", "GBR", CopyState::kQueued, "", Bytes(30, 1), 10, 7}})
          .ok());
  EXPECT_EQ(store->PendingCountFor("gbr-1", "usa-1").value(), 1u);
  EXPECT_EQ(store->PendingCountFor("gbr-1", "jpn-1").value(), 1u);
  EXPECT_EQ(store->PendingCountFor("jpn-1", "jpn-1").value(), 0u);
  EXPECT_EQ(store->PendingBytesFrom("usa-1").value(), 150u);
  EXPECT_EQ(store->PendingBytesFrom("jpn-1").value(), 30u);
  EXPECT_EQ(store->PendingBytesFrom("kor-1").value(), 0u);
  // An acknowledged copy no longer counts against its sender.
  ASSERT_TRUE(store->SetState(kId1, "gbr-1", CopyState::kAcknowledged, "", 11, 8).ok());
  EXPECT_EQ(store->PendingCountFor("gbr-1", "usa-1").value(), 0u);
  EXPECT_EQ(store->PendingBytesFrom("usa-1").value(), 50u);
  // queued -> delivered keeps it pending; a refused insert changes nothing.
  ASSERT_TRUE(store->SetState(kId2, "gbr-1", CopyState::kDelivered, "", 11, 9).ok());
  EXPECT_EQ(store->PendingBytesFrom("jpn-1").value(), 30u);
  EXPECT_FALSE(store->InsertReport(other, {}).ok());
  EXPECT_EQ(store->PendingCountFor("gbr-1", "jpn-1").value(), 1u);
  // Counted again from the database at Open.
  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->PendingCountFor("gbr-1", "jpn-1").value(), 1u);
  EXPECT_EQ(store->PendingCountFor("jpn-1", "usa-1").value(), 1u);
  EXPECT_EQ(store->PendingBytesFrom("usa-1").value(), 50u);
  EXPECT_EQ(store->PendingBytesFrom("jpn-1").value(), 30u);
}

}  // namespace
}  // namespace tearline::broker
