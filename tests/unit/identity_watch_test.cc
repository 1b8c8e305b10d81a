// IdentityWatch on a FakeClock: a revocation list written while the broker runs withdraws the
// certificate at the next look (frames and handshakes refused with CERT_REVOKED, refusals
// recorded at most once a second); an older list never un-revokes, also after a restart; a
// certificate that expires is refused from that second, before the next look.
#include "tearline/broker/identity_watch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "mini_coalition.h"
#include "tearline/audit/audit_log.h"
#include "tearline/base/file_util.h"
#include "tearline/broker/auditor.h"
#include "tearline/broker/authenticator.h"
#include "tearline/wire/wire.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using namespace std::chrono_literals;
using testing::MiniCoalition;
using testing::TempDir;

constexpr std::int64_t kNow = 1'800'000'000;

class IdentityWatchTest : public ::testing::Test {
 protected:
  void SetUp() override { Restart(); }

  // A broker start: trust from the CA directory's list (if any), then the floor, then the
  // directory.
  void Restart() {
    watch_.reset();
    trust_ = std::make_unique<TrustStore>(coalition_.NewTrust());
    if (auto on_disk = ReadRevocationListFile(ListPath().string()); on_disk.ok()) {
      ASSERT_TRUE(trust_->UpdateRevocations(std::move(on_disk).value()).ok());
    }
    auto watch = IdentityWatch::Open(*trust_, directory_, clock_,
                                     {ListPath(), dir_ / std::string(kRevocationFloorFile)});
    ASSERT_TRUE(watch.ok()) << watch.status().ToString();
    watch_ = std::move(watch).value();
    directory_ = Directory::Build(coalition_.NodeCertificates(), *trust_, clock_.UnixNow());
  }
  std::filesystem::path ListPath() const { return dir_ / "revoked.list"; }
  void WriteList(std::uint64_t sequence, std::vector<std::string> revoked) {
    std::vector<RevocationEntry> entries;
    for (const auto& id : revoked) entries.push_back({id, coalition_.cert(id).fields().serial});
    auto list = RevocationList::Issue(coalition_.root_keys(), sequence, kNow, entries);
    ASSERT_TRUE(list.ok());
    ASSERT_TRUE(WriteFileAtomic(ListPath(), list->encoded(), 0644).ok());
  }

  FakeClock clock_{kNow};
  MiniCoalition coalition_{kNow};
  TempDir dir_;
  std::unique_ptr<TrustStore> trust_;
  Directory directory_;
  std::unique_ptr<IdentityWatch> watch_;
};

TEST_F(IdentityWatchTest, ListWrittenWhileRunningWithdrawsAtTheNextLook) {
  ASSERT_NE(directory_.FindNode("gbr-1"), nullptr);
  WriteList(1, {"gbr-1"});
  EXPECT_FALSE(watch_->Poll().any());  // Not yet time to look.
  clock_.Advance(kRevocationCheck);
  IdentityWatch::Change change = watch_->Poll();
  EXPECT_TRUE(change.list_applied);
  EXPECT_EQ(change.withdrawn, std::vector<std::string>{"gbr-1"});
  EXPECT_EQ(watch_->sequence(), 1u);
  EXPECT_EQ(directory_.FindNode("gbr-1"), nullptr);
  EXPECT_NE(directory_.FindNode("gbr-2"), nullptr);

  // Frames: refused; recorded at most once a second, with the count of the others.
  EXPECT_FALSE(watch_->Screen("usa-1").has_value());
  auto first = watch_->Screen("gbr-1");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->why.reason(), "CERT_REVOKED");
  EXPECT_TRUE(first->record);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(watch_->Screen("gbr-1")->record);
  clock_.Advance(1s);
  auto later = watch_->Screen("gbr-1");
  EXPECT_TRUE(later->record);
  EXPECT_EQ(later->suppressed, 50u);

  // Handshakes: refused with the certificate reason, not as an unknown key.
  TempDir audit_dir;
  auto log = AuditLog::Open(audit_dir / "audit");
  ASSERT_TRUE(log.ok());
  Auditor auditor(**log, nullptr);
  Authenticator auth(
      directory_, *trust_, clock_, auditor, 10, [] { return true; }, watch_.get());
  auto who = auth.Authenticate(coalition_.keys("gbr-1").transport.public_key, "10.0.0.1");
  ASSERT_FALSE(who.ok());
  EXPECT_EQ(who.status().reason(), "CERT_REVOKED");
  EXPECT_TRUE(auth.Authenticate(coalition_.keys("usa-1").transport.public_key, "10.0.0.1").ok());

  // Nothing changed: nothing to do.
  clock_.Advance(kRevocationCheck);
  EXPECT_FALSE(watch_->Poll().any());
}

TEST_F(IdentityWatchTest, OlderListNeverUnrevokesAlsoAfterARestart) {
  WriteList(2, {"gbr-1"});
  clock_.Advance(kRevocationCheck);
  ASSERT_TRUE(watch_->Poll().list_applied);
  WriteList(1, {});  // An older list restored over the newer one.
  clock_.Advance(kRevocationCheck);
  EXPECT_FALSE(watch_->Poll().any());
  EXPECT_EQ(trust_->revocations()->sequence(), 2u);
  EXPECT_EQ(watch_->Screen("gbr-1")->why.reason(), "CERT_REVOKED");

  Restart();  // The CA directory still holds the older list.
  EXPECT_EQ(watch_->sequence(), 2u);
  EXPECT_EQ(trust_->revocations()->sequence(), 2u);
  EXPECT_EQ(directory_.FindNode("gbr-1"), nullptr);
  EXPECT_EQ(trust_->VerifyCertificate(coalition_.cert("gbr-1"), clock_.UnixNow()).reason(),
            "CERT_REVOKED");
}

// Nodes are told what is in force, never the files as they are now: an older list restored over
// the newer one does not reach them, and a withdrawn certificate is not listed.
TEST_F(IdentityWatchTest, DirectoryReplyCarriesWhatIsInForceNotTheFilesOnDisk) {
  WriteList(2, {"gbr-1"});
  clock_.Advance(kRevocationCheck);
  ASSERT_TRUE(watch_->Poll().list_applied);
  WriteList(1, {});
  const std::vector<std::uint8_t> bytes = watch_->DirectoryReply(42);
  std::vector<std::uint8_t> storage;
  auto frame = DecodeFrame(AlignedForDecode(bytes, storage));
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  EXPECT_EQ((*frame)->request_id(), 42u);
  const auto* body = (*frame)->body_as_Directory();
  ASSERT_NE(body, nullptr);
  ASSERT_NE(body->revocation_list(), nullptr);
  auto list =
      RevocationList::Decode({body->revocation_list()->data(), body->revocation_list()->size()});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->sequence(), 2u);
  ASSERT_NE(body->certificates(), nullptr);
  EXPECT_EQ(body->certificates()->size(), directory_.EncodedCertificates().size());
  const auto gbr1 = coalition_.cert("gbr-1").encoded();
  for (const auto* blob : *body->certificates()) {
    ASSERT_NE(blob->bytes(), nullptr);
    EXPECT_FALSE(std::equal(blob->bytes()->begin(), blob->bytes()->end(), gbr1.begin(), gbr1.end()))
        << "a withdrawn certificate must not be served";
  }
}

TEST_F(IdentityWatchTest, ExpiryIsRefusedFromThatSecondAndWithdrawnAtTheNextLook) {
  const std::int64_t not_after = coalition_.cert("jpn-1").fields().not_after;
  clock_.SetUnix(not_after - 1);
  EXPECT_FALSE(watch_->Screen("jpn-1").has_value());
  clock_.SetUnix(not_after);
  auto refusal = watch_->Screen("jpn-1");
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->why.reason(), "CERT_EXPIRED");
  ASSERT_NE(directory_.FindNode("jpn-1"), nullptr);  // Withdrawn only at the next look ...
  clock_.Advance(kRevocationCheck);
  IdentityWatch::Change change = watch_->Poll();
  EXPECT_FALSE(change.list_applied);
  EXPECT_EQ(change.withdrawn.size(), 4u);  // ... with every other certificate of that day.
  EXPECT_EQ(directory_.FindNode("jpn-1"), nullptr);
  EXPECT_EQ(watch_->Screen("jpn-1")->why.reason(), "CERT_EXPIRED");
}

}  // namespace
}  // namespace tearline::broker
