#include "hostile_delivery.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "tearline/base/encoding.h"
#include "tearline/envelope/envelope.h"
#include "tearline/wire/wire.h"

namespace tearline::testing {

HostileRecipient::HostileRecipient(WireClient& client, std::string node_id,
                                   const IdentityKeys& keys,
                                   std::vector<std::uint8_t> originator_signing_key,
                                   std::string refusal_reason)
    : client_(client),
      node_id_(std::move(node_id)),
      keys_(keys),
      originator_key_(std::move(originator_signing_key)),
      reason_(std::move(refusal_reason)) {}

bool HostileRecipient::ServeUntil(const Choose& choose, const std::function<bool()>& done,
                                  Ms timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    auto bytes = client_.Recv(Ms(50));
    if (bytes.empty()) continue;
    std::vector<std::uint8_t> storage;
    auto f = DecodeFrame(AlignedForDecode(bytes, storage));
    if (!f.ok() || (*f)->body_type() != schema::Body::Deliver) continue;
    const auto* report = (*f)->body_as_Deliver()->report();
    if (report == nullptr) continue;
    Reply(choose, (*f)->request_id(), {report->data(), report->size()});
  }
  return done();
}

void HostileRecipient::Reply(const Choose& choose, std::uint64_t request_id,
                             std::span<const std::uint8_t> report) {
  auto view = InspectReport(report, originator_key_);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  const std::string id = ToHex(view->report_id);
  ++deliveries_[id];
  const Status refusal(Code::kInvalidArgument, reason_, "this recipient refuses every copy");
  switch (choose(id)) {
    case Answer::kRefuse:
      client_.Send(EncodeDeliveryRefusal(request_id, refusal, view->report_id));
      return;
    case Answer::kRefuseByRequestId:
      client_.Send(EncodeError(request_id, refusal));
      return;
    case Answer::kAck: {
      auto sig = SignWithDomain(keys_.signing, kAckDomain, AckMessage(view->report_id, node_id_));
      ASSERT_TRUE(sig.ok());
      client_.Send(EncodeAck(request_id, view->report_id, *sig));
      return;
    }
    case Answer::kIgnore:
      return;
  }
}

int HostileRecipient::Deliveries(const std::string& report_id_hex) const {
  auto it = deliveries_.find(report_id_hex);
  return it == deliveries_.end() ? 0 : it->second;
}

std::unique_ptr<WireClient> ConnectSlowReader(net::Context& ctx, const std::string& endpoint,
                                              const Certificate& broker, const std::string& id,
                                              const IdentityKeys& keys) {
  auto client = std::make_unique<WireClient>(ctx, endpoint, broker, keys, /*receive_hwm=*/1,
                                             /*receive_buffer_bytes=*/16384);
  client->Send(EncodeHello(1, id));
  EXPECT_TRUE(client->Expect(schema::Body::Welcome).has_value()) << id << ": no Welcome";
  return client;
}

void KeepAlive(WireClient& client) { client.Send(EncodePing(9, 9)); }

std::uint64_t ProcessRssBytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      std::uint64_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

}  // namespace tearline::testing
