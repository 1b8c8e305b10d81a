// ControlServer: control messages decoded and dispatched by op; malformed requests and
// handler failures answered with an error, never left unanswered.
#include "tearline/node/control_server.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "node_unit_fixture.h"

namespace tearline::node {
namespace {

using unit::RecordingReplier;

class FakeHandler final : public ControlHandler {
 public:
  StatusResult GetStatus() override {
    StatusResult s;
    s.node_id = "usa-1";
    return s;
  }
  Result<std::vector<InboxEntry>> ListInbox() override {
    if (fail) throw std::runtime_error("disk on fire");
    return std::vector<InboxEntry>{};
  }
  Result<ReadResult> ReadReport(const std::string& id) override {
    if (id != "abcd") return NotFound("INBOX_NOT_FOUND", "no report " + id);
    ReadResult r;
    r.entry.report_id_hex = "abcdabcdabcdabcdabcdabcdabcdabcd";
    r.portions.push_back({0, "(U)", {'h', 'i'}});
    return r;
  }
  void StartSend(const std::string& client, ControlRequest request) override {
    sends.emplace_back(client, std::move(request));
  }
  void StartTrack(const std::string& client, const ControlRequest& r) override {
    tracks.emplace_back(client, r.id);
  }
  void StartProve(const std::string& client, const ControlRequest& r) override {
    proves.emplace_back(client, r.id);
  }
  void StartForward(const std::string& client, const ControlRequest& r) override {
    forwards.emplace_back(client, r.id);
  }
  void StartRelease(const std::string& client, ControlRequest r) override {
    releases.emplace_back(client, r.release.action);
  }
  bool fail = false;
  std::vector<std::pair<std::string, std::string>> releases;
  std::vector<std::pair<std::string, ControlRequest>> sends;
  std::vector<std::pair<std::string, std::string>> tracks, proves, forwards;
};

class ControlServerTest : public ::testing::Test {
 protected:
  void Request(const ControlRequest& r, const std::string& client = "c1") {
    const std::string text = EncodeControlRequest(r);
    server_.OnMessage({client, text});
  }
  FakeHandler handler_;
  RecordingReplier replier_;
  ControlServer server_{handler_, replier_};
};

TEST_F(ControlServerTest, StatusInboxAndReadAreAnsweredAtOnce) {
  ControlRequest r;
  r.op = ControlOp::kStatus;
  Request(r);
  ASSERT_EQ(replier_.replies.size(), 1u);
  EXPECT_EQ(replier_.replies[0].first, "c1");
  EXPECT_EQ(DecodeStatusResponse(replier_.replies[0].second)->node_id, "usa-1");
  r.op = ControlOp::kInbox;
  Request(r);
  EXPECT_TRUE(DecodeInboxResponse(replier_.replies[1].second).ok());
  r.op = ControlOp::kRead;
  r.id = "abcd";
  Request(r);
  auto read = DecodeReadResponse(replier_.replies[2].second);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->portions.at(0).content, (std::vector<std::uint8_t>{'h', 'i'}));
  r.id = "ffff";
  Request(r);
  EXPECT_EQ(DecodeReadResponse(replier_.replies[3].second).status().reason(), "INBOX_NOT_FOUND");
}

TEST_F(ControlServerTest, SendTrackProveAreHandedOnWithTheClient) {
  ControlRequest r;
  r.op = ControlOp::kSend;
  r.to = {"GBR"};
  r.portions.push_back({"(U)", {'x'}});
  Request(r, "c2");
  r = {};
  r.op = ControlOp::kTrack;
  r.id = "abcd";
  Request(r, "c3");
  r.op = ControlOp::kProve;
  Request(r, "c4");
  EXPECT_TRUE(replier_.replies.empty());
  ASSERT_EQ(handler_.sends.size(), 1u);
  EXPECT_EQ(handler_.sends[0].first, "c2");
  EXPECT_EQ(handler_.sends[0].second.to, std::vector<std::string>{"GBR"});
  EXPECT_EQ(handler_.tracks.at(0), (std::pair<std::string, std::string>{"c3", "abcd"}));
  EXPECT_EQ(handler_.proves.at(0), (std::pair<std::string, std::string>{"c4", "abcd"}));
}

TEST_F(ControlServerTest, MalformedRequestIsAnswered) {
  server_.OnMessage({"c1", "not json"});
  ASSERT_EQ(replier_.replies.size(), 1u);
  EXPECT_EQ(DecodeStatusResponse(replier_.replies[0].second).status().reason(),
            "CONTROL_MALFORMED");
}

TEST_F(ControlServerTest, WrongPartCountIsDropped) {
  server_.OnMessage({"only-one"});
  server_.OnMessage({"a", "b", "c"});
  EXPECT_TRUE(replier_.replies.empty());
}

TEST_F(ControlServerTest, HandlerExceptionIsAnsweredWithInternal) {
  handler_.fail = true;
  ControlRequest r;
  r.op = ControlOp::kInbox;
  Request(r);
  ASSERT_EQ(replier_.replies.size(), 1u);
  EXPECT_EQ(DecodeInboxResponse(replier_.replies[0].second).status().reason(), "INTERNAL");
}

}  // namespace
}  // namespace tearline::node
