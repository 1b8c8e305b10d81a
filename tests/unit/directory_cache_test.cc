// DirectoryCache: certificates served by the broker are verified here (a bad one is rejected,
// not trusted), a newer revocation list is installed, the cache is re-verified on demand, and
// the directory is refreshed every 60 s while welcomed, on a FakeClock.
#include "tearline/node/directory_cache.h"

#include <gtest/gtest.h>

#include <chrono>

#include "node_unit_fixture.h"
#include "tearline/base/clock.h"
#include "tearline/identity/revocation.h"

namespace tearline::node {
namespace {

using namespace std::chrono_literals;

unit::TestCoalition ThreeNations(std::int64_t now) {
  unit::TestCoalition c(now);
  c.Issue("usa-1", "USA", "SECRET");
  c.Issue("gbr-1", "GBR", "SECRET");
  c.Issue("jpn-1", "JPN", "SECRET");
  return c;
}

class DirectoryCacheTest : public ::testing::Test {
 protected:
  DirectoryCacheTest()
      : coalition_(ThreeNations(clock_.UnixNow())),
        trust_(coalition_.NewTrust()),
        floor_(RevocationFloor::Open(FloorPath(), trust_).value()),
        cache_(clock_, trust_, floor_, coalition_.cert("usa-1"), coalition_.cert("broker"),
               broker_) {}

  std::filesystem::path FloorPath() const {
    return dir_.path() / std::string(kRevocationFloorFile);
  }
  RevocationList List(std::uint64_t sequence, const std::vector<std::string>& revoked) {
    std::vector<RevocationEntry> entries;
    for (const auto& id : revoked) entries.push_back({id, coalition_.cert(id).fields().serial});
    auto list = RevocationList::Issue(coalition_.root_keys(), sequence, clock_.UnixNow(), entries);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return std::move(list).value();
  }

  FakeClock clock_;
  tearline::testing::TempDir dir_;
  unit::TestCoalition coalition_;
  TrustStore trust_;
  RevocationFloor floor_;
  unit::RecordingBroker broker_;
  DirectoryCache cache_;
};

TEST_F(DirectoryCacheTest, RequestsAtOnceAndRefreshesEveryMinuteWhileWelcomed) {
  ASSERT_TRUE(cache_.Request());
  EXPECT_EQ(broker_.Count(schema::Body::DirectoryRequest), 1u);
  clock_.Advance(kDirectoryRefresh - 1ms);
  cache_.Tick();
  EXPECT_EQ(broker_.Count(schema::Body::DirectoryRequest), 1u);
  clock_.Advance(1ms);
  cache_.Tick();
  EXPECT_EQ(broker_.Count(schema::Body::DirectoryRequest), 2u);
  broker_.is_welcomed = false;
  clock_.Advance(kDirectoryRefresh * 3);
  cache_.Tick();
  EXPECT_EQ(broker_.Count(schema::Body::DirectoryRequest), 2u);
  broker_.connected = false;
  EXPECT_FALSE(cache_.Request());
}

TEST_F(DirectoryCacheTest, VerifiesWhatTheBrokerServes) {
  EXPECT_FALSE(cache_.have_directory());
  DirectoryUpdate u;
  u.certificates = coalition_.NodeCertificates();
  u.certificates.push_back({1, 2, 3});  // Not a certificate.
  cache_.OnDirectory(u);
  EXPECT_TRUE(cache_.have_directory());
  EXPECT_EQ(cache_.directory().nodes().size(), 3u);
  EXPECT_NE(cache_.directory().FindNode("gbr-1"), nullptr);
}

TEST_F(DirectoryCacheTest, RecheckDropsCertificatesThatExpired) {
  DirectoryUpdate u;
  u.certificates = coalition_.NodeCertificates();
  cache_.OnDirectory(u);
  ASSERT_EQ(cache_.directory().nodes().size(), 3u);
  clock_.Advance(std::chrono::hours(25));  // Past not_after (one day).
  cache_.Recheck();
  EXPECT_TRUE(cache_.directory().nodes().empty());
}

TEST_F(DirectoryCacheTest, NewerRevocationListIsInstalled) {
  auto list = RevocationList::Issue(coalition_.root_keys(), 1, clock_.UnixNow(),
                                    {{"gbr-1", coalition_.cert("gbr-1").fields().serial}});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  DirectoryUpdate u;
  u.certificates = coalition_.NodeCertificates();
  u.revocation_list = list->encoded();
  cache_.OnDirectory(u);
  ASSERT_NE(trust_.revocations(), nullptr);
  EXPECT_EQ(trust_.revocations()->sequence(), 1u);
  EXPECT_EQ(cache_.directory().FindNode("gbr-1"), nullptr);
  EXPECT_NE(cache_.directory().FindNode("jpn-1"), nullptr);
}

// A broker (or a restart with an older CA directory) cannot bring a revoked certificate back:
// the newest list the node accepted is kept in its data dir, and an older served list is refused.
TEST_F(DirectoryCacheTest, OlderServedListNeverUnrevokesAlsoAfterRestart) {
  DirectoryUpdate newer;
  newer.certificates = coalition_.NodeCertificates();
  newer.revocation_list = List(2, {"gbr-1"}).encoded();
  cache_.OnDirectory(newer);
  ASSERT_EQ(cache_.directory().FindNode("gbr-1"), nullptr);

  // The node restarts: its CA directory holds sequence 1 (nothing revoked) and the broker serves
  // that older list too.
  TrustStore restarted = coalition_.NewTrust();
  ASSERT_TRUE(restarted.UpdateRevocations(List(1, {})).ok());
  auto floor = RevocationFloor::Open(FloorPath(), restarted);
  ASSERT_TRUE(floor.ok()) << floor.status().ToString();
  DirectoryCache cache(clock_, restarted, *floor, coalition_.cert("usa-1"),
                       coalition_.cert("broker"), broker_);
  DirectoryUpdate older;
  older.certificates = coalition_.NodeCertificates();
  older.revocation_list = List(1, {}).encoded();
  cache.OnDirectory(older);
  EXPECT_EQ(restarted.revocations()->sequence(), 2u);
  EXPECT_EQ(cache.directory().FindNode("gbr-1"), nullptr);
  EXPECT_NE(cache.directory().FindNode("jpn-1"), nullptr);
}

TEST_F(DirectoryCacheTest, CurrentUntilTheBrokerAnnouncesAChangeOrTheSessionChanges) {
  DirectoryUpdate u;
  u.certificates = coalition_.NodeCertificates();
  cache_.OnDirectory(u);
  EXPECT_FALSE(cache_.current()) << "cached sends are off unless the daemon follows notices";
  cache_.FollowChangeNotices(true);
  EXPECT_TRUE(cache_.current());
  // A revocation push: not current at once (no send may use it) and a fresh one is asked for.
  const std::size_t requests = broker_.Count(schema::Body::DirectoryRequest);
  cache_.OnChangeNotice();
  EXPECT_FALSE(cache_.current());
  EXPECT_EQ(broker_.Count(schema::Body::DirectoryRequest), requests + 1);
  cache_.OnDirectory(u);
  EXPECT_TRUE(cache_.current());
  cache_.OnSessionChange();
  EXPECT_FALSE(cache_.current());
  // The periodic refresh keeps it current (it is not a change).
  cache_.OnDirectory(u);
  clock_.Advance(kDirectoryRefresh);
  cache_.Tick();
  EXPECT_TRUE(cache_.current());
}

TEST_F(DirectoryCacheTest, VerifiesOncePerChange) {
  DirectoryUpdate u;
  u.certificates = coalition_.NodeCertificates();
  cache_.OnDirectory(u);
  EXPECT_EQ(cache_.verifications(), 1u);
  cache_.OnDirectory(u);  // The same bytes again: nothing to verify.
  cache_.OnDirectory(u);
  EXPECT_EQ(cache_.verifications(), 1u);
  EXPECT_EQ(cache_.directory().nodes().size(), 3u);
  // A different directory is verified.
  DirectoryUpdate fewer;
  fewer.certificates = {coalition_.cert("gbr-1").encoded()};
  cache_.OnDirectory(fewer);
  EXPECT_EQ(cache_.verifications(), 2u);
  EXPECT_EQ(cache_.directory().nodes().size(), 1u);
  // A newer revocation list with the same certificates is a change: verified again, and the
  // revoked certificate is gone.
  u.revocation_list = List(1, {"jpn-1"}).encoded();
  cache_.OnDirectory(u);
  EXPECT_EQ(cache_.verifications(), 3u);
  EXPECT_EQ(cache_.directory().FindNode("jpn-1"), nullptr);
  // The same served bytes after the refresh interval are verified again (not_before, expiry).
  clock_.Advance(kDirectoryRefresh);
  cache_.OnDirectory(u);
  EXPECT_EQ(cache_.verifications(), 4u);
}

TEST_F(DirectoryCacheTest, ACachedCertificateThatExpiredIsDroppedBeforeUse) {
  DirectoryUpdate u;
  u.certificates = coalition_.NodeCertificates();
  cache_.OnDirectory(u);
  cache_.EnsureCurrent();
  EXPECT_EQ(cache_.verifications(), 1u) << "nothing expired: no verification";
  clock_.Advance(std::chrono::hours(25));  // Past not_after (one day).
  cache_.EnsureCurrent();
  EXPECT_EQ(cache_.verifications(), 2u);
  EXPECT_TRUE(cache_.directory().nodes().empty());
}

}  // namespace
}  // namespace tearline::node
