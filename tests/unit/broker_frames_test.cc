// Broker frames copied into the units' plain inputs, field by field.
#include "tearline/node/broker_frames.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tearline/wire/wire.h"

namespace tearline::node {
namespace {

TEST(BrokerFramesTest, Directory) {
  const std::vector<std::vector<std::uint8_t>> certs = {{1, 2, 3}, {4, 5}};
  const std::vector<std::uint8_t> rl = {9, 9};
  const auto bytes = EncodeDirectory(7, certs, rl);
  auto f = DecodeFrame(bytes);
  ASSERT_TRUE(f.ok());
  const DirectoryUpdate u = ToDirectoryUpdate(*(*f)->body_as_Directory());
  EXPECT_EQ(u.certificates, certs);
  EXPECT_EQ(u.revocation_list, rl);

  const auto empty = EncodeDirectory(8, {}, {});
  const DirectoryUpdate e = ToDirectoryUpdate(*DecodeFrame(empty).value()->body_as_Directory());
  EXPECT_TRUE(e.certificates.empty());
  EXPECT_TRUE(e.revocation_list.empty());
}

TEST(BrokerFramesTest, CheckpointReply) {
  const std::vector<std::uint8_t> proof(64, 0xab);
  const auto bytes = EncodeCheckpointReply(3, "note text\n", 17, proof);
  const CheckpointAnswer a =
      ToCheckpointAnswer(*DecodeFrame(bytes).value()->body_as_CheckpointReply());
  EXPECT_EQ(a.note, "note text\n");
  EXPECT_EQ(a.old_size, 17u);
  EXPECT_EQ(a.proof, proof);
}

TEST(BrokerFramesTest, ProofReply) {
  const std::vector<std::uint8_t> proof(32, 0x01);
  const auto bytes = EncodeProofReply(4, "note", 12, R"({"seq":12})", proof);
  const RecordProof p = ToRecordProof(*DecodeFrame(bytes).value()->body_as_ProofReply());
  EXPECT_EQ(p.note, "note");
  EXPECT_EQ(p.seq, 12u);
  EXPECT_EQ(p.record, R"({"seq":12})");
  EXPECT_EQ(p.proof, proof);
}

}  // namespace
}  // namespace tearline::node
