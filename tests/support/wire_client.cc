#include "wire_client.h"

#include "test_support.h"

namespace tearline::testing {

WireClient::WireClient(net::Context& ctx, const std::string& endpoint, const Certificate& broker,
                       const IdentityKeys& keys, int receive_hwm, int receive_buffer_bytes) {
  net::CurveClientOptions o;
  o.endpoint = endpoint;
  o.server_key = broker.fields().transport_key;
  o.public_key = keys.transport.public_key;
  o.secret_key = {keys.transport.secret_key.data(), keys.transport.secret_key.size()};
  // Frames queue before the handshake completes (and for refused clients, which never complete
  // it), as a test that sends right after connecting expects.
  o.immediate = false;
  o.receive_hwm = receive_hwm;
  o.receive_buffer_bytes = receive_buffer_bytes;
  auto socket = net::ConnectCurveDealer(ctx, o);
  EXPECT_TRUE(socket.ok()) << socket.status().ToString();
  if (socket.ok()) socket_ = std::move(socket).value();
}

void WireClient::Send(const std::vector<std::uint8_t>& frame) {
  const std::string_view text(reinterpret_cast<const char*>(frame.data()), frame.size());
  EXPECT_EQ(socket_.SendWaiting(text), net::SendResult::kSent);
}

bool WireClient::SendWithin(const std::vector<std::uint8_t>& frame) {
  const std::string_view text(reinterpret_cast<const char*>(frame.data()), frame.size());
  return socket_.SendWaiting(text) == net::SendResult::kSent;
}

bool WireClient::TrySend(const std::vector<std::uint8_t>& frame) {
  return socket_.Send(std::span<const std::uint8_t>(frame)) == net::SendResult::kSent;
}

std::vector<std::uint8_t> WireClient::Recv(Ms timeout) {
  if (!socket_.WaitReadable(timeout)) return {};
  auto parts = socket_.TryReceive();
  if (!parts || parts->empty()) return {};
  const auto bytes = parts->front().bytes();
  return {bytes.begin(), bytes.end()};
}

std::optional<std::vector<std::uint8_t>> WireClient::Expect(schema::Body type, Ms timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto bytes = Recv(std::chrono::duration_cast<Ms>(deadline - std::chrono::steady_clock::now()));
    if (bytes.empty()) return std::nullopt;
    std::vector<std::uint8_t> storage;
    auto f = DecodeFrame(AlignedForDecode(bytes, storage));
    if (f.ok() && (*f)->body_type() == type) return bytes;
  }
  return std::nullopt;
}

std::string WireClient::ExpectErrorReason(Ms timeout) {
  auto e = Expect(schema::Body::Error, timeout);
  if (!e) return "";
  std::vector<std::uint8_t> storage;
  auto f = DecodeFrame(AlignedForDecode(*e, storage));
  if (!f.ok()) return "";
  const auto* err = (*f)->body_as_Error();
  return err->reason() ? err->reason()->str() : "";
}

std::string WireClient::ExpectRefusalReason(Ms timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto bytes = Recv(std::chrono::duration_cast<Ms>(deadline - std::chrono::steady_clock::now()));
    if (bytes.empty()) return "";
    std::vector<std::uint8_t> storage;
    auto f = DecodeFrame(AlignedForDecode(bytes, storage));
    if (!f.ok()) continue;
    if ((*f)->body_type() == schema::Body::Error) {
      const auto* err = (*f)->body_as_Error();
      return err->reason() ? err->reason()->str() : "";
    }
    if ((*f)->body_type() == schema::Body::SubmitReply) {
      SubmitReplyInfo info = ToSubmitReplyInfo(*(*f)->body_as_SubmitReply());
      if (!info.accepted) return info.error_reason;
    }
  }
  return "";
}

void BrokerWireTest::StartBroker(const std::string& extra_config) {
  c_.StartBroker(extra_config);
  if (::testing::Test::HasFatalFailure()) return;
  auto broker = ReadCertificateFile((c_.certs_dir() / "broker.cert").string());
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  broker_cert_ = std::make_unique<Certificate>(*broker);
}

IdentityKeys BrokerWireTest::Keys(const std::string& id) {
  auto k = ReadIdentitySecret(c_.certs_dir() / (id + ".secret"));
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  return std::move(k).value();
}

Certificate BrokerWireTest::Cert(const std::string& id) {
  return *ReadCertificateFile((c_.certs_dir() / (id + ".cert")).string());
}

SealRecipient BrokerWireTest::Recipient(const std::string& id) {
  const Certificate cert = Cert(id);
  SealRecipient r;
  r.node_id = id;
  r.nation = cert.fields().nation;
  r.clearance = CoalitionPolicy().FindLevel(cert.fields().clearance);
  r.enc_public_key = cert.fields().encryption_key;
  return r;
}

std::unique_ptr<WireClient> BrokerWireTest::Connect(const std::string& id,
                                                    const IdentityKeys& keys) {
  auto client = std::make_unique<WireClient>(ctx_, c_.endpoint(), *broker_cert_, keys);
  client->Send(EncodeHello(1, id));
  EXPECT_TRUE(client->Expect(schema::Body::Welcome).has_value()) << id << ": no Welcome";
  return client;
}

SubmitReplyInfo BrokerWireTest::Submit(WireClient& client, const std::vector<std::uint8_t>& report,
                                       std::uint64_t request_id) {
  client.Send(EncodeSubmit(request_id, report));
  auto reply = client.Expect(schema::Body::SubmitReply);
  EXPECT_TRUE(reply.has_value()) << "no SubmitReply; broker log:\n" << c_.BrokerLog();
  if (!reply) return {};
  return ToSubmitReplyInfo(*(*DecodeFrame(*reply))->body_as_SubmitReply());
}

}  // namespace tearline::testing
