#include "tearline/broker/report_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <string>

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

// The free-space check holds back what the write-ahead log will still claim: the pages no
// checkpoint has copied into the database yet (they grow it when copied) and the log's own growth
// to where its checkpoint is due.
TEST_F(ReportStoreTest, PendingGrowthCountsTheLogUntilACheckpointCopiesIt) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const std::uint64_t wal_limit = std::uint64_t{4} << 20;
  // Nothing is written yet, but the log may still grow to its checkpoint size.
  EXPECT_GE(store->PendingGrowthBytes(), wal_limit - (64u << 10));
  auto wal_size = [&] {
    std::error_code ec;
    const auto n = std::filesystem::file_size(dir_.path() / "reports.db-wal", ec);
    return ec ? std::uint64_t{0} : static_cast<std::uint64_t>(n);
  };
  // 3 MiB of reports sit in the log, not yet in the database file: all of it is claimed.
  std::uint64_t written = 0;
  int n = 0;
  auto insert = [&](std::size_t bytes) {
    const std::string id = std::to_string(1000000 + n++) + std::string(25, 'x');
    ASSERT_TRUE(
        store->InsertReport(Report(id), {{"gbr-1", "GBR", CopyState::kQueued, "", Bytes(bytes, 3)}})
            .ok());
    written += bytes;
  };
  for (int i = 0; i < 12; ++i) insert(256 << 10);
  EXPECT_GE(wal_size(), written);
  EXPECT_GE(store->PendingGrowthBytes(), written) << "the uncopied log pages are claimed";
  EXPECT_GE(store->PendingGrowthBytes() + wal_size(), written + wal_limit - (64u << 10));
  // Past 1,000 frames the checkpoint copies the log into the database and the log starts over
  // in the same file: only what was written since is claimed.
  for (int i = 0; i < 6; ++i) insert(256 << 10);
  const std::uint64_t after = store->PendingGrowthBytes();
  EXPECT_LT(after, std::uint64_t{2} << 20) << "the checkpoint's copy is no longer claimed";
  written = 0;
  for (int i = 0; i < 4; ++i) insert(256 << 10);
  EXPECT_GE(store->PendingGrowthBytes(), after + written - (64u << 10));
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

TEST_F(ReportStoreTest, ReleaseRequestsAndReleasedPortionsPersist) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    StoredRelease a{std::string(32, 'a'), 2, "usa-1", "USA", {1, 2}, {3}, false, false};
    StoredRelease b{std::string(32, 'b'), 1, "gbr-1", "GBR", {4}, {5, 6}, true, false};
    ASSERT_TRUE(store->PutRelease(a).ok());
    ASSERT_TRUE(store->PutRelease(b).ok());
    a.requester_told = true;
    a.status = {7, 7};
    ASSERT_TRUE(store->PutRelease(a).ok());  // Replaces, does not add.
    ASSERT_TRUE(store->AddReleased({kId1, 1, "KOR"}).ok());
    ASSERT_TRUE(store->AddReleased({kId1, 1, "KOR"}).ok());  // Idempotent.
    ASSERT_TRUE(store->AddReleased({kId1, 0, "AUS"}).ok());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto releases = store->Releases();
  ASSERT_TRUE(releases.ok()) << releases.status().ToString();
  ASSERT_EQ(releases->size(), 2u);
  EXPECT_EQ((*releases)[0].request_id, std::string(32, 'b'));  // In order.
  EXPECT_TRUE((*releases)[0].originator_told);
  EXPECT_EQ((*releases)[1].status, (std::vector<std::uint8_t>{7, 7}));
  EXPECT_TRUE((*releases)[1].requester_told);
  EXPECT_EQ((*releases)[1].originator_nation, "USA");
  ASSERT_TRUE(store->DeleteRelease(std::string(32, 'b')).ok());
  EXPECT_EQ(store->Releases()->size(), 1u);
  auto released = store->ReleasedPortions();
  ASSERT_TRUE(released.ok());
  ASSERT_EQ(released->size(), 2u);
  EXPECT_EQ((*released)[0].portion, 0u);
  EXPECT_EQ((*released)[0].nation, "AUS");
  EXPECT_EQ((*released)[1].nation, "KOR");
}

TEST_F(ReportStoreTest, Version2StoreGainsTheReleaseTables) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->InsertReport(Report(kId1), Copies()).ok());
  }
  {
    std::fstream f(dir_.path() / "reports.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(60);
    const char v[4] = {0, 0, 0, 2};
    f.write(v, 4);
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->FindReport(kId1)->has_value());
  EXPECT_TRUE(
      store->PutRelease({std::string(32, 'c'), 0, "usa-1", "USA", {1}, {2}, false, false}).ok());
  store.reset();
  {
    std::ifstream f(dir_.path() / "reports.db", std::ios::binary);
    f.seekg(60);
    char v[4] = {};
    f.read(v, 4);
    EXPECT_EQ(v[3], ReportStore::kSchemaVersion);
  }
}

// Runs SQL on the store's file behind the store's back, as an older broker would have; returns
// the first column of the last row ("" when none).
std::string RawSql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  std::string last;
  char* err = nullptr;
  const int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int n, char** values, char**) {
        *static_cast<std::string*>(out) = n > 0 && values[0] != nullptr ? values[0] : "";
        return 0;
      },
      &last, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
  return last;
}

TEST_F(ReportStoreTest, Version3StoreIsMigratedKeepingCopiesOrderAndState) {
  const auto file = dir_.path() / "reports.db";
  // A version 3 store as the previous release wrote it: copies keyed by the report id, with
  // two more indexes, and rows inserted out of report-id order.
  RawSql(file, R"sql(
CREATE TABLE reports (id TEXT PRIMARY KEY NOT NULL, originator TEXT NOT NULL,
  sha256 TEXT NOT NULL, expires_unix INTEGER NOT NULL, reply BLOB NOT NULL);
CREATE INDEX reports_by_expiry ON reports(expires_unix);
CREATE TABLE copies (
  report_id TEXT NOT NULL REFERENCES reports(id) ON DELETE CASCADE, node_id TEXT NOT NULL,
  nation TEXT NOT NULL, state TEXT NOT NULL
  CHECK (state IN ('queued','delivered','acknowledged','expired','denied','failed')),
  reason TEXT NOT NULL, bytes BLOB, updated_unix INTEGER NOT NULL, record_seq INTEGER NOT NULL,
  UNIQUE (report_id, node_id, nation));
CREATE INDEX copies_by_node ON copies(node_id, state);
CREATE INDEX copies_by_state ON copies(state);
CREATE INDEX copies_pending_by_node ON copies(node_id) WHERE state IN ('queued','delivered');
CREATE TABLE release_requests (request_id TEXT PRIMARY KEY NOT NULL, ord INTEGER NOT NULL,
  originator TEXT NOT NULL, originator_nation TEXT NOT NULL, notice BLOB NOT NULL,
  status BLOB NOT NULL, originator_told INTEGER NOT NULL, requester_told INTEGER NOT NULL);
CREATE TABLE released_portions (report_id TEXT NOT NULL, portion INTEGER NOT NULL,
  nation TEXT NOT NULL, PRIMARY KEY (report_id, portion, nation));
INSERT INTO reports VALUES ('22222222222222222222222222222222', 'usa-1', 'aa', 2000000000, x'01');
INSERT INTO reports VALUES ('11111111111111111111111111111111', 'usa-1', 'aa', 10, x'02');
INSERT INTO copies VALUES ('22222222222222222222222222222222', 'gbr-1', 'GBR', 'queued', '',
  x'0707', 10, 5);
INSERT INTO copies VALUES ('11111111111111111111111111111111', 'gbr-1', 'GBR', 'delivered', '',
  x'0909', 10, 6);
INSERT INTO copies VALUES ('11111111111111111111111111111111', 'jpn-1', 'JPN', 'acknowledged',
  '', NULL, 11, 7);
INSERT INTO copies VALUES ('11111111111111111111111111111111', '', 'KOR', 'denied', 'NO_NODE',
  NULL, 10, 4);
PRAGMA user_version=3;
)sql");
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    // Queue order is the old rowid order, not report-id order.
    auto ids = store->PendingIdsFor("gbr-1", 0, 10);
    ASSERT_TRUE(ids.ok());
    ASSERT_EQ(ids->size(), 2u);
    EXPECT_EQ((*ids)[0].report_id, kId2);
    EXPECT_EQ((*ids)[1].report_id, kId1);
    EXPECT_EQ((*ids)[1].state, CopyState::kDelivered);
    EXPECT_EQ((*store->FindCopy(kId1, "gbr-1"))->bytes, Bytes(2, 9));
    auto copies = store->Copies(kId1);
    ASSERT_TRUE(copies.ok());
    ASSERT_EQ(copies->size(), 3u);
    EXPECT_EQ((*copies)[1].state, CopyState::kAcknowledged);
    EXPECT_EQ((*copies)[2].reason, "NO_NODE");
    EXPECT_EQ(*store->PendingCount("gbr-1"), 2u);
    EXPECT_EQ(*store->PendingBytesFrom("usa-1"), 4u);
    // Report 1 expired at 10: the sweep finds its pending copy through the new key.
    auto expired = store->SelectExpired(100, 10);
    ASSERT_TRUE(expired.ok());
    ASSERT_EQ(expired->size(), 1u);
    EXPECT_EQ((*expired)[0].report_id, kId1);
    EXPECT_TRUE(*store->SetState(kId2, "gbr-1", CopyState::kAcknowledged, "", 20, 8));
    EXPECT_EQ(*store->PendingCount("gbr-1"), 1u);
    // A new report's copies join the migrated ones.
    const std::string id3(32, '3');
    ASSERT_TRUE(store->InsertReport(Report(id3), Copies()).ok());
    EXPECT_EQ((*store->FindCopy(id3, "jpn-1"))->bytes, Bytes(50, 9));
  }
  EXPECT_EQ(RawSql(file, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'copies_by_%'"), "0");
  EXPECT_EQ(RawSql(file, "PRAGMA user_version"), std::to_string(ReportStore::kSchemaVersion));
  // Opened again at the current version: nothing left to migrate, nothing lost.
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Copies(kId1)->size(), 3u);
  EXPECT_EQ(*store->PendingCount("gbr-1"), 2u);
}

}  // namespace
}  // namespace tearline::broker
