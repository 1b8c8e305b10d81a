#include "tearline/tools/admin_command.h"

#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include "tearline/certificate.h"
#include "tearline/key_file.h"
#include "tearline/tools/cli_common.h"
#include "tearline/wire.h"

namespace tearline::tools {
namespace {

constexpr std::string_view kProgram = "tearline-admin";

int Probe(const std::string& endpoint, const std::string& broker_cert_path,
          const std::string& secret_path, const std::string& node_id, int timeout_ms,
          std::ostream& out, std::ostream& err) {
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
  try {
    zmq::context_t ctx;
    zmq::socket_t s(ctx, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::curve_serverkey,
          zmq::const_buffer(broker->fields().transport_key.data(), 32));
    s.set(zmq::sockopt::curve_publickey, zmq::const_buffer(keys->transport.public_key.data(), 32));
    s.set(zmq::sockopt::curve_secretkey,
          zmq::const_buffer(keys->transport.secret_key.data(), keys->transport.secret_key.size()));
    s.connect(endpoint);
    auto hello = EncodeHello(1, node_id);
    s.send(zmq::buffer(hello), zmq::send_flags::dontwait);
    zmq::pollitem_t items[] = {{s.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(timeout_ms));
    if ((items[0].revents & ZMQ_POLLIN) != 0) {
      zmq::message_t m;
      if (s.recv(m)) {
        std::vector<std::uint8_t> storage;
        auto frame = DecodeFrame(
            AlignedForDecode({static_cast<const std::uint8_t*>(m.data()), m.size()}, storage));
        if (frame.ok() && (*frame)->body_type() == schema::Body::Welcome) {
          out << "SERVED\n";
          return kExitOk;
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
  } catch (const zmq::error_t& e) {
    PrintError(err, kProgram, std::string("ZMQ: ") + e.what());
    return kExitInvalid;
  }
}

}  // namespace

int RunAdminCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"Tearline operator tools", std::string(kProgram)};
  app.require_subcommand(1);
  std::string endpoint, broker_cert, secret, node_id;
  int timeout_ms = 3000;
  auto* probe = app.add_subcommand("probe", "Check whether the broker serves a node's key");
  probe->add_option("--endpoint", endpoint, "Broker endpoint, e.g. tcp://127.0.0.1:5555")
      ->required();
  probe->add_option("--broker-cert", broker_cert, "Broker certificate file")->required();
  probe->add_option("--secret", secret, "The node's .secret file (mode 0600)")->required();
  probe->add_option("--node", node_id, "Node id to announce")->required();
  probe->add_option("--timeout-ms", timeout_ms, "How long to wait for an answer")
      ->check(CLI::Range(100, 60000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    PrintError(err, kProgram, std::string(e.what()) + " (see --help)");
    return kExitInvalid;
  }
  return Probe(endpoint, broker_cert, secret, node_id, timeout_ms, out, err);
}

}  // namespace tearline::tools
