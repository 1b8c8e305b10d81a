// Receiver: a delivered report is verified, stored durably and acknowledged with a signed Ack;
// a copy already stored is acknowledged again but stored once; a tampered one is answered with
// an Error and no Ack; an unknown originator triggers one directory refresh and one retry; a
// stored report reads back.
#include "tearline/node/receiver.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "hostile_sealer.h"
#include "node_unit_fixture.h"
#include "tearline/base/clock.h"
#include "tearline/base/encoding.h"
#include "tearline/node/group_commit.h"
#include "tearline/node/sealer.h"
#include "test_support.h"

namespace tearline::node {
namespace {

using tearline::testing::TempDir;

unit::TestCoalition TwoNations(std::int64_t now) {
  unit::TestCoalition c(now);
  c.Issue("usa-1", "USA", "SECRET");
  c.Issue("gbr-1", "GBR", "SECRET");
  return c;
}

class ReceiverTest : public ::testing::Test {
 protected:
  ReceiverTest()
      : coalition_(TwoNations(clock_.UnixNow())),
        me_(coalition_.Identity("gbr-1")),
        inbox_(InboxStore::Open(dir_.path()).value()),
        directory_(clock_, *me_.trust, *me_.revocation_floor, *me_.own_cert, *me_.broker_cert,
                   broker_),
        receiver_(clock_, me_, inbox_, directory_, broker_) {}

  void KnowEveryone() {
    DirectoryUpdate u;
    u.certificates = coalition_.NodeCertificates();
    directory_.OnDirectory(u);
  }

  // A report sealed by usa-1 for the coalition's directory.
  SealedForOutbox SealFromUsa(const std::string& marking, const std::string& text) {
    NodeIdentity usa = coalition_.Identity("usa-1");
    Directory dir = Directory::Build(coalition_.NodeCertificates(), *usa.trust, clock_.UnixNow());
    Sealer sealer(clock_, usa);
    ControlRequest r;
    r.to = {"GBR"};
    r.portions.push_back({marking, std::vector<std::uint8_t>(text.begin(), text.end())});
    auto sealed = sealer.Seal(r, dir);
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }

  TempDir dir_;
  FakeClock clock_;
  unit::TestCoalition coalition_;
  NodeIdentity me_;
  InboxStore inbox_;
  unit::RecordingBroker broker_;
  DirectoryCache directory_;
  Receiver receiver_;
};

TEST_F(ReceiverTest, StoresThenAcknowledges) {
  KnowEveryone();
  const auto sealed = SealFromUsa("(S//REL TO USA, GBR)", "the text");
  receiver_.OnDeliver(41, sealed.bytes);
  ASSERT_EQ(broker_.sent.size(), 1u);
  const auto* ack = broker_.Last();
  ASSERT_EQ(ack->body_type(), schema::Body::Ack);
  EXPECT_EQ(ack->request_id(), 41u);
  EXPECT_TRUE(inbox_.Contains(sealed.report_id_hex));

  auto read = receiver_.Read(sealed.report_id_hex);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->portions.size(), 1u);
  EXPECT_EQ(std::string(read->portions[0].content.begin(), read->portions[0].content.end()),
            "the text");
  EXPECT_EQ(read->entry.originator, "usa-1");

  // The broker sends it again (it missed the Ack): acknowledged again, stored once.
  receiver_.OnDeliver(42, sealed.bytes);
  ASSERT_EQ(broker_.Count(schema::Body::Ack), 2u);
  auto list = inbox_.List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
}

// Key rotation: a copy sealed to the node's previous encryption key (queued in the broker, or
// from a sender that had not refreshed) is refused ENVELOPE_KEY_MISMATCH without the previous
// key, and opens, is stored and reads back with it (previous_secret).
TEST_F(ReceiverTest, ACopyWrappedForThePreviousKeyOpensWithThePreviousSecret) {
  KnowEveryone();
  const auto sealed = SealFromUsa("(S//REL TO USA, GBR)", "sealed before the rotation");
  coalition_.Issue("gbr-1", "GBR", "SECRET");  // New serial, new keys.
  NodeIdentity rotated = coalition_.Identity("gbr-1");
  IdentityKeys old_keys = std::move(me_.keys);
  me_.keys = std::move(rotated.keys);
  me_.own_cert = rotated.own_cert;

  receiver_.OnDeliver(1, sealed.bytes);
  ASSERT_EQ(broker_.Count(schema::Body::Ack), 0u);
  ASSERT_EQ(broker_.Last()->body_type(), schema::Body::Error);
  EXPECT_EQ(broker_.Last()->body_as_Error()->reason()->str(), "ENVELOPE_KEY_MISMATCH");

  me_.previous_keys.emplace(std::move(old_keys));
  receiver_.OnDeliver(2, sealed.bytes);
  EXPECT_EQ(broker_.Count(schema::Body::Ack), 1u);
  auto read = receiver_.Read(sealed.report_id_hex);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(std::string(read->portions[0].content.begin(), read->portions[0].content.end()),
            "sealed before the rotation");

  // A copy sealed to the new key opens with the current key.
  KnowEveryone();
  const auto fresh = SealFromUsa("(S//REL TO USA, GBR)", "sealed after the rotation");
  receiver_.OnDeliver(3, fresh.bytes);
  EXPECT_EQ(broker_.Count(schema::Body::Ack), 2u);
  me_.previous_keys.reset();  // Without the previous key, what it opened no longer reads.
  EXPECT_TRUE(receiver_.Read(fresh.report_id_hex).ok());
  EXPECT_EQ(receiver_.Read(sealed.report_id_hex).status().reason(), "ENVELOPE_KEY_MISMATCH");
}

TEST_F(ReceiverTest, NonCanonicalLabelIsRefusedWithoutAck) {
  KnowEveryone();
  // Sealed by a node that does not canonicalise its labels; signature and AEAD are genuine.
  testing::HostileReport r;
  r.originator = "usa-1";
  r.originator_nation = "USA";
  r.created_unix = clock_.UnixNow();
  r.expires_unix = clock_.UnixNow() + 3600;
  r.labels = {"(s//rel to gbr,usa)"};
  r.intended_nations = {"GBR"};
  r.recipients = {testing::RecipientOf(coalition_.cert("gbr-1"))};
  receiver_.OnDeliver(9, testing::HostileSeal(r, coalition_.keys("usa-1").signing.secret_key));
  ASSERT_EQ(broker_.sent.size(), 1u);
  const auto* error = broker_.Last()->body_as_Error();
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->reason()->str(), "LABEL_NOT_CANONICAL");
  EXPECT_NE(error->message()->str().find("(S//REL TO USA, GBR)"), std::string::npos);
  EXPECT_EQ(broker_.Count(schema::Body::Ack), 0u);
  auto list = inbox_.List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(ReceiverTest, TamperedReportIsRefusedWithoutAck) {
  KnowEveryone();
  auto bytes = SealFromUsa("(S//REL TO USA, GBR)", "the text").bytes;
  bytes[bytes.size() - 40] ^= 0x01;
  receiver_.OnDeliver(7, bytes);
  ASSERT_EQ(broker_.sent.size(), 1u);
  EXPECT_EQ(broker_.Last()->body_type(), schema::Body::Error);
  EXPECT_EQ(broker_.Count(schema::Body::Ack), 0u);
  auto list = inbox_.List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(ReceiverTest, RefusalNamesTheReportOnceItsSignatureVerified) {
  KnowEveryone();
  const auto sealed = SealFromUsa("(S//REL TO USA, GBR)", "the text");
  // Expired by the time it arrives: genuinely signed, refused, and the refusal names it so the
  // broker can settle that copy.
  clock_.Advance(std::chrono::hours(24 * 8));
  receiver_.OnDeliver(8, sealed.bytes);
  ASSERT_EQ(broker_.sent.size(), 1u);
  const auto* error = broker_.Last();
  ASSERT_EQ(error->body_type(), schema::Body::Error);
  EXPECT_EQ(error->request_id(), 8u);
  EXPECT_EQ(error->body_as_Error()->reason()->str(), "ENVELOPE_EXPIRED");
  ASSERT_NE(error->body_as_Error()->report_id(), nullptr);
  EXPECT_EQ(ToHex({error->body_as_Error()->report_id()->data(),
                   error->body_as_Error()->report_id()->size()}),
            sealed.report_id_hex);
  // Bytes whose signature does not verify name no report: only the request id is echoed.
  auto tampered = sealed.bytes;
  tampered[tampered.size() - 40] ^= 0x01;
  receiver_.OnDeliver(9, tampered);
  EXPECT_EQ(broker_.Last()->request_id(), 9u);
  EXPECT_EQ(broker_.Last()->body_as_Error()->report_id(), nullptr);
}

TEST_F(ReceiverTest, UnknownOriginatorTriggersOneRefresh) {
  const auto sealed = SealFromUsa("(S//REL TO USA, GBR)", "the text");
  receiver_.OnDeliver(5, sealed.bytes);
  ASSERT_EQ(broker_.Types(), std::vector<schema::Body>{schema::Body::DirectoryRequest});
  KnowEveryone();
  receiver_.RetryStashed();
  EXPECT_EQ(broker_.Last()->body_type(), schema::Body::Ack);
  EXPECT_TRUE(inbox_.Contains(sealed.report_id_hex));
}

TEST_F(ReceiverTest, StillUnknownAfterTheRefreshIsRefused) {
  const auto sealed = SealFromUsa("(S//REL TO USA, GBR)", "the text");
  receiver_.OnDeliver(5, sealed.bytes);
  directory_.OnDirectory({});  // The refreshed directory does not know usa-1 either.
  receiver_.RetryStashed();
  ASSERT_EQ(broker_.Last()->body_type(), schema::Body::Error);
  EXPECT_EQ(broker_.Last()->body_as_Error()->reason()->str(), "ORIGINATOR_UNKNOWN");
}

TEST_F(ReceiverTest, GarbageIsAnsweredWithAnError) {
  receiver_.OnDeliver(9, std::vector<std::uint8_t>(64, 0xee));
  ASSERT_EQ(broker_.sent.size(), 1u);
  EXPECT_EQ(broker_.Last()->body_type(), schema::Body::Error);
}

TEST_F(ReceiverTest, ReadOfAnUnknownReportFails) {
  EXPECT_FALSE(receiver_.Read(std::string(32, 'a')).ok());
}

TEST_F(ReceiverTest, WithAGroupCommitTheAckWaitsForTheSync) {
  bool disk_ok = false;
  int syncs = 0;
  GroupCommit commit([&] {
    if (!disk_ok) return IoError("NODE_SYNC_IO", "the disk refused");
    ++syncs;
    return Status::Ok();
  });
  inbox_.UseGroupCommit(&commit);
  receiver_.UseGroupCommit(&commit);
  KnowEveryone();
  const auto a = SealFromUsa("(S//REL TO USA, GBR)", "one");
  const auto b = SealFromUsa("(S//REL TO USA, GBR)", "two");
  receiver_.OnDeliver(1, a.bytes);
  receiver_.OnDeliver(2, b.bytes);
  EXPECT_EQ(broker_.Count(schema::Body::Ack), 0u) << "acknowledged before durable";
  // A failed sync acknowledges nothing; the next one does, for both reports at once.
  EXPECT_FALSE(commit.Flush().ok());
  EXPECT_EQ(broker_.Count(schema::Body::Ack), 0u);
  disk_ok = true;
  ASSERT_TRUE(commit.Flush().ok());
  EXPECT_EQ(syncs, 1);
  EXPECT_EQ(broker_.Count(schema::Body::Ack), 2u);
}

TEST_F(ReceiverTest, AnIncompleteStoredCopyIsStoredAgainFromTheRedelivery) {
  KnowEveryone();
  const auto sealed = SealFromUsa("(S//REL TO USA, GBR)", "whole");
  receiver_.OnDeliver(1, sealed.bytes);
  ASSERT_EQ(broker_.Count(schema::Body::Ack), 1u);
  // A crash before the batch sync: the metadata made it, the report bytes did not.
  std::ofstream(inbox_.dir() / (sealed.report_id_hex + ".report"), std::ios::trunc);
  receiver_.OnDeliver(2, sealed.bytes);
  EXPECT_EQ(broker_.Count(schema::Body::Ack), 2u);
  auto read = receiver_.Read(sealed.report_id_hex);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(std::string(read->portions[0].content.begin(), read->portions[0].content.end()),
            "whole");
}

// A new copy is verified once, by Open; a copy stored earlier is acknowledged again even when
// Open now refuses it (expired since): its signature is checked on its own, and only a copy
// identical to the stored one is acknowledged. A different copy of that id is refused, named.
TEST_F(ReceiverTest, AStoredCopyThatExpiredSinceIsAcknowledgedAgain) {
  KnowEveryone();
  const auto sealed = SealFromUsa("(S//REL TO USA, GBR)", "kept");
  receiver_.OnDeliver(1, sealed.bytes);
  ASSERT_EQ(broker_.Count(schema::Body::Ack), 1u);
  clock_.Advance(std::chrono::hours(24 * 8));
  receiver_.OnDeliver(2, sealed.bytes);
  ASSERT_EQ(broker_.Count(schema::Body::Ack), 2u);
  EXPECT_EQ(broker_.Last()->request_id(), 2u);
  // The stored copy is incomplete (a crash before the sync): this expired redelivery cannot be
  // stored again, so it is refused, naming the report, and not acknowledged.
  std::ofstream(inbox_.dir() / (sealed.report_id_hex + ".report"), std::ios::trunc);
  receiver_.OnDeliver(3, sealed.bytes);
  EXPECT_EQ(broker_.Count(schema::Body::Ack), 2u);
  const auto* error = broker_.Last();
  ASSERT_EQ(error->body_type(), schema::Body::Error);
  EXPECT_EQ(error->body_as_Error()->reason()->str(), "ENVELOPE_EXPIRED");
  ASSERT_NE(error->body_as_Error()->report_id(), nullptr);
  auto list = inbox_.List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
}

}  // namespace
}  // namespace tearline::node
