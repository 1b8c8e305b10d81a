#include "tearline/tools/admin_command.h"

#include <CLI/CLI.hpp>

#include "tearline/base/encoding.h"
#include "tearline/broker/broker_config.h"
#include "tearline/broker/state_backup.h"
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

// Where the broker keeps its state: --data-dir (and --head-file), or the broker configuration's.
Status ResolveBrokerState(const std::string& config_path, std::string& data_dir,
                          std::string& head_file) {
  if (config_path.empty()) {
    if (data_dir.empty()) return InvalidArgument("USAGE", "name --config or --data-dir");
    return Status::Ok();
  }
  auto config = broker::LoadBrokerConfig(config_path);
  if (!config.ok()) return config.status();
  if (data_dir.empty()) data_dir = config->data_dir.string();
  if (head_file.empty()) head_file = config->HeadFile().string();
  return Status::Ok();
}

int Backup(const std::string& data_dir, const std::string& out_dir, std::ostream& out,
           std::ostream& err) {
  auto summary = broker::BackupBrokerState(data_dir, out_dir);
  if (!summary.ok()) {
    PrintError(err, kProgram, summary.status());
    return summary.status().code() == Code::kIoError ? kExitNegative : kExitInvalid;
  }
  out << "BACKED UP " << data_dir << " -> " << out_dir << ": " << summary->audit_records
      << " audit records (signed checkpoint of " << summary->checkpoint_size << "), report store "
      << summary->store_bytes << " bytes; the audit copy verifies\n";
  return kExitOk;
}

int Restore(const broker::RestoreOptions& options, std::ostream& out, std::ostream& err) {
  auto summary = broker::RestoreBrokerState(options);
  if (!summary.ok()) {
    PrintError(err, kProgram, summary.status());
    const bool refused = summary.status().reason() == "RESTORE_ROLLBACK" ||
                         summary.status().code() == Code::kIoError;
    return refused ? kExitNegative : kExitInvalid;
  }
  out << "RESTORED " << options.backup.string() << " -> " << options.data_dir.string() << ": "
      << summary->restored.audit_records << " audit records\n";
  if (summary->rolled_back_from) {
    out << "ROLLED BACK: the broker had signed " << *summary->rolled_back_from
        << " records; the head file is kept as " << summary->head_kept_as.string()
        << "; witnesses that cosigned beyond " << summary->restored.audit_records
        << " records will raise audit_log_inconsistent\n";
  }
  return kExitOk;
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

  std::string config_path, data_dir, head_file, out_dir, backup_dir;
  bool accept_rollback = false;
  auto* backup = app.add_subcommand(
      "backup", "Back up a running broker's state (report store and audit directory)");
  backup->add_option("--config", config_path, "The broker configuration (names data_dir)");
  backup->add_option("--data-dir", data_dir, "The broker's data_dir (instead of --config)");
  backup->add_option("--out", out_dir, "A new (or empty) directory for the backup")->required();
  auto* restore = app.add_subcommand(
      "restore", "Restore a backup into an empty data directory (the broker stopped)");
  restore->add_option("--backup", backup_dir, "A directory written by backup")->required();
  restore->add_option("--config", config_path, "The broker configuration (data_dir, head_file)");
  restore->add_option("--data-dir", data_dir, "The data_dir to restore into (instead of --config)");
  restore->add_option("--head-file", head_file, "The broker's head_file (default <data-dir>.head)");
  restore->add_flag("--accept-rollback", accept_rollback,
                    "Restore even though the broker signed records the backup lacks");
  if (auto exit_code = ParseCommandLine(app, argc, argv, out, err)) return *exit_code;
  if (backup->parsed() || restore->parsed()) {
    if (Status st = ResolveBrokerState(config_path, data_dir, head_file); !st.ok()) {
      PrintError(err, kProgram, st);
      return kExitInvalid;
    }
    if (backup->parsed()) return Backup(data_dir, out_dir, out, err);
    broker::RestoreOptions options;
    options.backup = backup_dir;
    options.data_dir = data_dir;
    options.head_file = head_file;
    options.accept_rollback = accept_rollback;
    return Restore(options, out, err);
  }
  return Probe(endpoint, broker_cert, secret, node_id, frame_path, timeout_ms, out, err);
}

}  // namespace tearline::tools
