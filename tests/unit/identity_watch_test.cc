// IdentityWatch on a FakeClock: a revocation list written while the broker runs withdraws the
// certificate at the next look (frames and handshakes refused with CERT_REVOKED, refusals
// recorded at most once a second); an older list never un-revokes, also after a restart; a
// certificate that expires is refused from that second, before the next look.
#include "tearline/broker/identity_watch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
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

namespace tearline::broker {
namespace {

// Key rotation without a restart: a certificate file dropped into the broker's directory is the
// node's current certificate from the next look (reported for the audit log and the nodes'
// refresh), its previous key still authenticates until the overlap ends, and is then refused
// AUTH_KEY_RETIRED (named, not as an unknown key).
TEST_F(IdentityWatchTest, ANewCertificateFileIsPickedUpAndThePreviousKeyRetiresAfterTheOverlap) {
  constexpr std::int64_t kOverlap = 3600;
  TempDir certs;
  for (const char* id : {"usa-1", "gbr-1", "gbr-2", "jpn-1"}) {
    ASSERT_TRUE(
        WriteFileAtomic(certs / (std::string(id) + ".cert"), coalition_.cert(id).encoded(), 0644)
            .ok());
  }
  Directory rotating;
  auto opened =
      IdentityWatch::Open(*trust_, rotating, clock_, {ListPath(), dir_ / "rotation-floor.list"},
                          {certs.path(), kOverlap});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<IdentityWatch> watch = std::move(opened).value();
  ASSERT_EQ(rotating.nodes().size(), 4u);
  const PublicKey old_key = coalition_.keys("usa-1").transport.public_key;
  const std::uint64_t old_serial = coalition_.cert("usa-1").fields().serial;
  TempDir audit_dir;
  auto log = AuditLog::Open(audit_dir / "audit");
  ASSERT_TRUE(log.ok());
  Auditor auditor(**log, nullptr);
  Authenticator auth(
      rotating, *trust_, clock_, auditor, 10, [] { return true; }, watch.get());

  clock_.Advance(kRevocationCheck);
  EXPECT_FALSE(watch->Poll().any());  // Nothing new on disk.

  coalition_.Issue("usa-1", "USA", "TOP SECRET");  // New serial, new keys.
  const Certificate& fresh = coalition_.cert("usa-1");
  ASSERT_TRUE(WriteFileAtomic(certs / "usa-1-next.cert", fresh.encoded(), 0644).ok());
  clock_.Advance(kRevocationCheck);
  IdentityWatch::Change change = watch->Poll();
  ASSERT_EQ(change.accepted.size(), 1u);
  EXPECT_EQ(change.accepted[0].node, "usa-1");
  EXPECT_EQ(change.accepted[0].serial, fresh.fields().serial);
  EXPECT_EQ(change.accepted[0].fingerprint, fresh.FingerprintHex());
  EXPECT_EQ(change.accepted[0].previous_serial, old_serial);
  EXPECT_EQ(change.accepted[0].previous_until, fresh.fields().not_before + kOverlap);
  EXPECT_TRUE(change.withdrawn.empty());
  EXPECT_EQ(rotating.FindNode("usa-1")->fields().serial, fresh.fields().serial);
  // Served: the new certificate only. Admitted: both keys, as usa-1.
  int served_usa = 0;
  for (const auto& blob : rotating.EncodedCertificates()) {
    auto cert = Certificate::Decode(blob);
    ASSERT_TRUE(cert.ok());
    if (cert->node_id() == "usa-1") {
      ++served_usa;
      EXPECT_EQ(cert->fields().serial, fresh.fields().serial);
    }
  }
  EXPECT_EQ(served_usa, 1);
  EXPECT_EQ(auth.Authenticate(old_key, "10.0.0.1").value(), "usa-1");
  EXPECT_EQ(auth.Authenticate(fresh.fields().transport_key, "10.0.0.1").value(), "usa-1");
  EXPECT_FALSE(watch->Screen("usa-1").has_value());

  // The overlap ends: the next look retires the previous key.
  clock_.Advance(std::chrono::seconds(kOverlap));
  change = watch->Poll();
  EXPECT_TRUE(change.rotated);
  EXPECT_TRUE(change.accepted.empty());
  EXPECT_EQ(rotating.FindPrevious("usa-1"), nullptr);
  auto refused = auth.Authenticate(old_key, "10.0.0.2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), "AUTH_KEY_RETIRED");
  EXPECT_EQ(auth.Authenticate(fresh.fields().transport_key, "10.0.0.1").value(), "usa-1");
  clock_.Advance(kRevocationCheck);
  EXPECT_FALSE(watch->Poll().any());

  // A removed file withdraws its node, with a reason a person understands.
  std::filesystem::remove(certs / "jpn-1.cert");
  clock_.Advance(kRevocationCheck);
  change = watch->Poll();
  EXPECT_EQ(change.withdrawn, std::vector<std::string>{"jpn-1"});
  EXPECT_EQ(watch->Screen("jpn-1")->why.reason(), "CERT_NOT_IN_DIRECTORY");
}

}  // namespace
}  // namespace tearline::broker
