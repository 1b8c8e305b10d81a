#include "tearline/tools/admin_command.h"

#include <CLI/CLI.hpp>

#include "tearline/base/encoding.h"
#include "tearline/crypto/key_file.h"
#include "tearline/identity/certificate.h"
#include "tearline/net/socket.h"
#include "tearline/tools/cli_common.h"
#include "tearline/wire/wire.h"

namespace tearline::tools {
namespace {

constexpr std::string_view kProgram = "tearline-admin";

// The next frame other than Pong within `timeout_ms`, copied (empty when none came).
std::vector<std::uint8_t> NextFrame(net::Socket& s, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !s.WaitReadable(left)) return {};
    auto parts = s.TryReceive();
    if (!parts) return {};
    const auto got = (*parts)[0].bytes();
    std::vector<std::uint8_t> bytes(got.begin(), got.end());
    auto frame = DecodeFrame(bytes);
    if (frame.ok() && (*frame)->body_type() == schema::Body::Pong) continue;
    return bytes;
  }
}

std::string HexOf(const flatbuffers::Vector<std::uint8_t>* v) {
  return v == nullptr ? std::string() : ToHex({v->data(), v->size()});
}

// Prints the broker's answer to a --frame probe; returns the exit code.
int PrintAnswer(const std::vector<std::uint8_t>& bytes, int timeout_ms, std::ostream& out) {
  if (bytes.empty()) {
    out << "ANSWER: NONE within " << timeout_ms << " ms\n";
    return kExitNegative;
  }
  auto frame = DecodeFrame(bytes);
  if (!frame.ok()) {
    out << "ANSWER: UNDECODABLE " << frame.status().reason() << "\n";
    return kExitNegative;
  }
  const schema::Frame* f = *frame;
  if (f->body_type() == schema::Body::Error) {
    const auto* e = f->body_as_Error();
    out << "ANSWER: ERROR " << (e->reason() ? e->reason()->str() : "") << ": "
        << (e->message() ? e->message()->str() : "") << "\n";
    return kExitNegative;
  }
  if (f->body_type() == schema::Body::SubmitReply) {
    SubmitReplyInfo info = ToSubmitReplyInfo(*f->body_as_SubmitReply());
    if (!info.accepted) {
      out << "ANSWER: REFUSED " << info.error_reason << ": " << info.error_message << "\n";
      return kExitNegative;
    }
    out << "ANSWER: ACCEPTED " << HexOf(f->body_as_SubmitReply()->report_id())
        << (info.duplicate ? " DUPLICATE" : "") << "\n";
    return kExitOk;
  }
  out << "ANSWER: " << schema::EnumNameBody(f->body_type()) << "\n";
  return kExitOk;
}

int Probe(const std::string& endpoint, const std::string& broker_cert_path,
          const std::string& secret_path, const std::string& node_id, const std::string& frame_path,
          int timeout_ms, std::ostream& out, std::ostream& err) {
  std::vector<std::uint8_t> frame_bytes;
  if (!frame_path.empty()) {
    auto bytes = ReadFileCapped(frame_path, kMaxFrameBytes + 1, "PROBE_FRAME");
    if (!bytes.ok()) {
      PrintError(err, kProgram, bytes.status());
      return kExitInvalid;
    }
    frame_bytes = std::move(bytes).value();
  }
  auto broker = ReadCertificateFile(broker_cert_path);
  if (!broker.ok()) {
    PrintError(err, kProgram, broker.status());
    return kExitInvalid;
  }
  auto keys = ReadIdentitySecret(secret_path);
  if (!keys.ok()) {
    PrintError(err, kProgram, keys.status());
    return kExitInvalid;
  }
  net::Context ctx;
  auto socket = net::ConnectCurveDealer(
      ctx, {.endpoint = endpoint,
            .server_key = broker->fields().transport_key,
            .public_key = keys->transport.public_key,
            .secret_key = {keys->transport.secret_key.data(), keys->transport.secret_key.size()},
            .immediate = false});
  if (!socket.ok()) {
    PrintError(err, kProgram, socket.status());
    return kExitInvalid;
  }
  net::Socket& s = *socket;
  (void)s.Send(EncodeHello(1, node_id));
  if (s.WaitReadable(std::chrono::milliseconds(timeout_ms))) {
    if (auto parts = s.TryReceive()) {
      std::vector<std::uint8_t> storage;
      auto frame = DecodeFrame(AlignedForDecode((*parts)[0].bytes(), storage));
      if (frame.ok() && (*frame)->body_type() == schema::Body::Welcome) {
        out << "SERVED\n";
        if (frame_path.empty()) return kExitOk;
        (void)s.Send(frame_bytes);
        return PrintAnswer(NextFrame(s, timeout_ms), timeout_ms, out);
      }
      if (frame.ok() && (*frame)->body_type() == schema::Body::SubmitReply) {
        // The broker answers a refused request that carries a request id this way.
        SubmitReplyInfo info = ToSubmitReplyInfo(*(*frame)->body_as_SubmitReply());
        out << "REFUSED: " << info.error_reason << ": " << info.error_message << "\n";
        return kExitNegative;
      }
      if (frame.ok() && (*frame)->body_type() == schema::Body::Error) {
        const auto* e = (*frame)->body_as_Error();
        out << "REFUSED: " << (e->reason() ? e->reason()->str() : "") << ": "
            << (e->message() ? e->message()->str() : "") << "\n";
        return kExitNegative;
      }
    }
  }
  out << "REFUSED: no answer from the broker within " << timeout_ms
      << " ms (the broker did not accept this key, or is not reachable)\n";
  return kExitNegative;
}

}  // namespace

int RunAdminCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"Tearline operator tools", std::string(kProgram)};
  app.require_subcommand(1);
  std::string endpoint, broker_cert, secret, node_id, frame_path;
  int timeout_ms = 3000;
  auto* probe = app.add_subcommand("probe", "Check whether the broker serves a node's key");
  probe->add_option("--endpoint", endpoint, "Broker endpoint, e.g. tcp://127.0.0.1:5555")
      ->required();
  probe->add_option("--broker-cert", broker_cert, "Broker certificate file")->required();
  probe->add_option("--secret", secret, "The node's .secret file (mode 0600)")->required();
  probe->add_option("--node", node_id, "Node id to announce")->required();
  probe->add_option("--frame", frame_path,
                    "After Hello, send this file's bytes as one raw frame and print the answer");
  probe->add_option("--timeout-ms", timeout_ms, "How long to wait for an answer")
      ->check(CLI::Range(100, 60000));
  if (auto exit_code = ParseCommandLine(app, argc, argv, out, err)) return *exit_code;
  return Probe(endpoint, broker_cert, secret, node_id, frame_path, timeout_ms, out, err);
}

}  // namespace tearline::tools
