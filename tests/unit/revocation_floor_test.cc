#include "tearline/identity/revocation_floor.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <vector>

#include "tearline/base/file_util.h"
#include "test_support.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using ::tearline::testing::TempDir;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::int64_t kDay = 86400;

class RevocationFloorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = GenerateSigningKeyPair();
    ASSERT_TRUE(key.ok());
    root_key_ = std::move(key).value();
    CertificateFields f;
    f.serial = 1;
    f.role = CertRole::kRoot;
    f.node_id = "root";
    f.not_before = kNow - kDay;
    f.not_after = kNow + 365 * kDay;
    f.signing_key = root_key_.public_key;
    auto root = IssueCertificate(root_key_, f);
    ASSERT_TRUE(root.ok());
    root_ = std::move(root).value();
  }

  TrustStore FreshStore() {
    auto store = TrustStore::Create(root_, nullptr);
    EXPECT_TRUE(store.ok());
    return std::move(store).value();
  }

  RevocationList List(std::uint64_t sequence, std::vector<RevocationEntry> entries) {
    auto list = RevocationList::Issue(root_key_, sequence, kNow, std::move(entries));
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return std::move(list).value();
  }

  fs::path FloorPath() const { return dir_.path() / "data" / std::string(kRevocationFloorFile); }

  TempDir dir_;
  SigningKeyPair root_key_;
  Certificate root_;
};

TEST_F(RevocationFloorTest, AbsentFileStartsAtZeroAndWritesNothing) {
  TrustStore trust = FreshStore();
  auto floor = RevocationFloor::Open(FloorPath(), trust);
  ASSERT_TRUE(floor.ok()) << floor.status().ToString();
  EXPECT_EQ(floor->highest(), 0u);
  EXPECT_FALSE(fs::exists(FloorPath()));
}

TEST_F(RevocationFloorTest, NewerListIsPersistedOwnerOnly) {
  TrustStore trust = FreshStore();
  auto floor = RevocationFloor::Open(FloorPath(), trust);
  ASSERT_TRUE(floor.ok());
  auto applied = floor->Offer(List(2, {{"usa-1", 3}}), trust);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_TRUE(*applied);
  EXPECT_EQ(floor->highest(), 2u);
  ASSERT_NE(trust.revocations(), nullptr);
  EXPECT_TRUE(trust.revocations()->IsRevoked("usa-1", 3));
  struct stat st {};
  ASSERT_EQ(::stat(FloorPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The same sequence again is nothing to do.
  auto again = floor->Offer(List(2, {{"usa-1", 3}}), trust);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST_F(RevocationFloorTest, OlderListIsRefusedAsRollback) {
  TrustStore trust = FreshStore();
  auto floor = RevocationFloor::Open(FloorPath(), trust);
  ASSERT_TRUE(floor.ok());
  ASSERT_TRUE(floor->Offer(List(3, {{"usa-1", 3}}), trust).ok());
  auto old = floor->Offer(List(2, {}), trust);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().reason(), "REVOCATION_ROLLBACK");
  EXPECT_EQ(trust.revocations()->sequence(), 3u);
  EXPECT_TRUE(trust.revocations()->IsRevoked("usa-1", 3));
}

// A restart whose CA directory holds an older list (or none) keeps the newest accepted list.
TEST_F(RevocationFloorTest, RestartWithOlderCaListKeepsTheNewestRevocations) {
  {
    TrustStore trust = FreshStore();
    auto floor = RevocationFloor::Open(FloorPath(), trust);
    ASSERT_TRUE(floor.ok());
    ASSERT_TRUE(floor->Offer(List(5, {{"usa-1", 3}}), trust).ok());
  }
  TrustStore restarted = FreshStore();
  ASSERT_TRUE(restarted.UpdateRevocations(List(4, {})).ok());  // What the CA directory holds.
  auto floor = RevocationFloor::Open(FloorPath(), restarted);
  ASSERT_TRUE(floor.ok()) << floor.status().ToString();
  EXPECT_EQ(floor->highest(), 5u);
  EXPECT_EQ(restarted.revocations()->sequence(), 5u);
  EXPECT_TRUE(restarted.revocations()->IsRevoked("usa-1", 3));
}

// A CA directory list newer than the file is persisted at once, so removing it later rolls
// nothing back.
TEST_F(RevocationFloorTest, NewerCaListIsPersistedAtOpen) {
  {
    TrustStore trust = FreshStore();
    ASSERT_TRUE(trust.UpdateRevocations(List(7, {{"gbr-1", 2}})).ok());
    ASSERT_TRUE(RevocationFloor::Open(FloorPath(), trust).ok());
  }
  TrustStore restarted = FreshStore();
  auto floor = RevocationFloor::Open(FloorPath(), restarted);
  ASSERT_TRUE(floor.ok());
  EXPECT_EQ(floor->highest(), 7u);
  EXPECT_TRUE(restarted.revocations()->IsRevoked("gbr-1", 2));
}

TEST_F(RevocationFloorTest, DamagedOrForeignFileFailsClosed) {
  TrustStore trust = FreshStore();
  fs::create_directories(FloorPath().parent_path());
  ::tearline::testing::WriteText(FloorPath(), "not a list");
  auto damaged = RevocationFloor::Open(FloorPath(), trust);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().reason(), "REVOCATION_MALFORMED");

  auto other_key = GenerateSigningKeyPair();
  ASSERT_TRUE(other_key.ok());
  auto foreign = RevocationList::Issue(*other_key, 9, kNow, {});
  ASSERT_TRUE(foreign.ok());
  ASSERT_TRUE(WriteFileAtomic(FloorPath(), foreign->encoded(), 0600).ok());
  auto refused = RevocationFloor::Open(FloorPath(), trust);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), "REVOCATION_WRONG_ROOT");
}

}  // namespace
}  // namespace tearline
