#include "tearline/tools/certs_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "tearline/base/encoding.h"
#include "tearline/crypto/key_file.h"
#include "tearline/crypto/keys.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/revocation.h"
#include "tearline/identity/trust_store.h"
#include "tearline/tools/cli_common.h"

namespace tearline::tools {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kProgram = "tearline-certs";
constexpr std::string_view kSerialFile = "next-serial";
constexpr std::string_view kIssuedDir = "issued";
constexpr std::int64_t kSecondsPerDay = 86400;
constexpr int kMaxDays = 36500;

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// Every helper returns Status; this is the common failure exit.
int Fail(std::ostream& err, const Status& status) { return cli::Fail(err, kProgram, status); }

std::int64_t Now(std::optional<std::int64_t> override_now) {
  return override_now ? *override_now : static_cast<std::int64_t>(std::time(nullptr));
}

// Creates `dir` (mode 0700) if it does not exist yet.
Status EnsureDirectory(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::Ok();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return IoError("CERTS_DIR",
                   "cannot create directory " + dir.string() + ": " + ErrnoText(errno));
  }
  if (!fs::is_directory(dir, ec)) {
    return IoError("CERTS_DIR", dir.string() + " is not a directory");
  }
  return Status::Ok();
}

// Atomically replaces `path` with `data` (public material: mode 0644).
Status WritePublicFile(const fs::path& path, std::span<const std::uint8_t> data) {
  const std::string tmp = path.string() + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return IoError("CERTS_WRITE", "cannot create " + tmp + ": " + ErrnoText(errno));
  }
  std::size_t done = 0;
  bool ok = true;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  ok = ok && ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return IoError("CERTS_WRITE", "cannot write " + path.string() + ": " + ErrnoText(e));
  }
  return Status::Ok();
}

Status WriteText(const fs::path& path, const std::string& text) {
  return WritePublicFile(
      path, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                          text.size()));
}

Result<std::uint64_t> ReadSerialCounter(const fs::path& ca) {
  const fs::path path = ca / kSerialFile;
  TEARLINE_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes,
                            ReadFileCapped(path.string(), 64, "CA_SERIAL"));
  std::string text(bytes.begin(), bytes.end());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 2 ||
      value == std::numeric_limits<std::uint64_t>::max()) {
    return InvalidArgument("CA_SERIAL", path.string() + " does not hold a valid serial counter");
  }
  return value;
}

struct CaMaterial {
  Certificate root;
  SigningKeyPair key;
};

Result<CaMaterial> LoadCa(const fs::path& ca) {
  TEARLINE_ASSIGN_OR_RETURN(Certificate root, ReadCertificateFile((ca / kRootCertFile).string()));
  TEARLINE_ASSIGN_OR_RETURN(SigningKeyPair key, ReadRootSecret(ca / kRootSecretFile));
  if (root.role() != CertRole::kRoot || key.public_key != root.fields().signing_key) {
    return InvalidArgument("CA_MISMATCH", (ca / kRootSecretFile).string() + " does not belong to " +
                                              (ca / kRootCertFile).string());
  }
  return CaMaterial{std::move(root), std::move(key)};
}

void PrintCertificate(std::ostream& out, const Certificate& cert) {
  const CertificateFields& f = cert.fields();
  out << "type: certificate\n"
      << "role: " << RoleName(f.role) << "\n"
      << "node_id: " << f.node_id << "\n";
  if (f.role != CertRole::kRoot) {
    out << "nation: " << f.nation << "\n"
        << "clearance: " << f.clearance << "\n";
  }
  out << "serial: " << f.serial << "\n"
      << "not_before: " << FormatUnixTime(f.not_before) << " (" << f.not_before << ")\n"
      << "not_after: " << FormatUnixTime(f.not_after) << " (" << f.not_after << ")\n"
      << "signing_key: " << ToHex(f.signing_key) << "\n";
  if (f.role != CertRole::kRoot) {
    out << "encryption_key: " << ToHex(f.encryption_key) << "\n"
        << "transport_key: " << ToHex(f.transport_key) << "\n";
  }
  out << "issuer_key: " << ToHex(cert.issuer_key()) << "\n"
      << "fingerprint: sha256:" << cert.FingerprintHex() << "\n";
}

void PrintRevocationList(std::ostream& out, const RevocationList& list) {
  out << "type: revocation-list\n"
      << "sequence: " << list.sequence() << "\n"
      << "issued_at: " << FormatUnixTime(list.issued_at()) << " (" << list.issued_at() << ")\n"
      << "issuer_key: " << ToHex(list.issuer_key()) << "\n"
      << "entries: " << list.entries().size() << "\n";
  for (const RevocationEntry& e : list.entries()) {
    out << "revoked: " << e.node_id << " serial " << e.serial << "\n";
  }
}

// ---- subcommands ----

struct InitCaArgs {
  std::string out_dir;
  int days = 3650;
  std::optional<std::int64_t> now;
};

int InitCa(const InitCaArgs& a, std::ostream& out, std::ostream& err) {
  const fs::path dir(a.out_dir);
  if (Status st = EnsureDirectory(dir); !st.ok()) return Fail(err, st);
  std::error_code ec;
  if (fs::exists(dir / kRootSecretFile, ec) || fs::exists(dir / kRootCertFile, ec)) {
    return Fail(err, Status(Code::kAlreadyExists, "CA_EXISTS",
                            dir.string() + " already holds a root; refusing to replace it"));
  }
  auto key = GenerateSigningKeyPair();
  if (!key.ok()) return Fail(err, key.status());
  const std::int64_t now = Now(a.now);
  CertificateFields f;
  f.serial = 1;
  f.role = CertRole::kRoot;
  f.node_id = std::string(kRootNodeId);
  f.not_before = now;
  f.not_after = now + a.days * kSecondsPerDay;
  f.signing_key = key->public_key;
  auto cert = IssueCertificate(*key, f);
  if (!cert.ok()) return Fail(err, cert.status());
  if (Status st = WriteRootSecret(dir / kRootSecretFile, *key, /*overwrite=*/false); !st.ok()) {
    return Fail(err, st);
  }
  if (Status st = EnsureDirectory(dir / kIssuedDir); !st.ok()) return Fail(err, st);
  if (Status st = WriteText(dir / kSerialFile, "2\n"); !st.ok()) return Fail(err, st);
  if (Status st = WritePublicFile(dir / kRootCertFile, cert->encoded()); !st.ok()) {
    return Fail(err, st);
  }
  out << "created coalition root in " << dir.string() << "\n"
      << "root key: " << ToHex(key->public_key) << "\n"
      << "fingerprint: sha256:" << cert->FingerprintHex() << "\n"
      << "valid until: " << FormatUnixTime(f.not_after) << "\n";
  return kExitOk;
}

struct IssueArgs {
  std::string ca_dir;
  std::string node_id;
  std::string nation;
  std::string clearance;
  std::string role = "node";
  bool broker = false;
  int days = 365;
  std::string out_dir;
  std::string policy_path;
  std::optional<std::int64_t> now;
};

int Issue(const IssueArgs& a, std::ostream& out, std::ostream& err) {
  if (Status st = ValidateNodeId(a.node_id); !st.ok()) return Fail(err, st);
  if (a.node_id == kRootNodeId) {
    return Fail(err, InvalidArgument("NODE_ID_INVALID",
                                     "node id \"root\" is reserved for the coalition root"));
  }
  std::optional<CertRole> role = ParseRole(a.role);
  if (!role || *role == CertRole::kRoot) {
    return Fail(err, InvalidArgument("CERTS_ROLE",
                                     "role must be 'node' or 'broker', not '" + a.role + "'"));
  }
  if (a.broker) role = CertRole::kBroker;
  auto policy = LoadPolicy(a.policy_path);
  if (!policy.ok()) return Fail(err, policy.status());
  if (!policy->IsNation(a.nation)) {
    return Fail(err, InvalidArgument(
                         "CERTS_UNKNOWN_NATION",
                         "nation '" + a.nation + "' is not defined by policy " + policy->name()));
  }
  const std::optional<int> rank = policy->FindLevel(a.clearance);
  if (!rank) {
    return Fail(err, InvalidArgument("CERTS_UNKNOWN_LEVEL",
                                     "clearance '" + a.clearance +
                                         "' is not a level defined by policy " + policy->name()));
  }
  const fs::path ca(a.ca_dir);
  auto material = LoadCa(ca);
  if (!material.ok()) return Fail(err, material.status());
  const std::int64_t now = Now(a.now);
  const CertificateFields& root = material->root.fields();
  if (!material->root.WithinValidity(now)) {
    return Fail(err, Status(Code::kExpired, "CERT_EXPIRED",
                            "the root certificate is not valid now; create a new root"));
  }
  auto serial = ReadSerialCounter(ca);
  if (!serial.ok()) return Fail(err, serial.status());
  auto keys = GenerateIdentityKeys();
  if (!keys.ok()) return Fail(err, keys.status());

  CertificateFields f;
  f.serial = *serial;
  f.role = *role;
  f.node_id = a.node_id;
  f.nation = a.nation;
  f.clearance = policy->levels()[static_cast<std::size_t>(*rank)].name;
  f.not_before = now;
  f.not_after = std::min(now + a.days * kSecondsPerDay, root.not_after);
  if (f.not_after < now + a.days * kSecondsPerDay) {
    err << kProgram << ": note: validity shortened to the root's expiry "
        << FormatUnixTime(root.not_after) << "\n";
  }
  f.signing_key = keys->signing.public_key;
  f.encryption_key = keys->encryption.public_key;
  f.transport_key = keys->transport.public_key;
  auto cert = IssueCertificate(material->key, f);
  if (!cert.ok()) return Fail(err, cert.status());

  // Consume the serial before anything leaves the CA, so a serial is never issued twice.
  if (Status st = WriteText(ca / kSerialFile, std::to_string(*serial + 1) + "\n"); !st.ok()) {
    return Fail(err, st);
  }
  if (Status st = EnsureDirectory(ca / kIssuedDir); !st.ok()) return Fail(err, st);
  const fs::path record = ca / kIssuedDir / (a.node_id + "." + std::to_string(*serial) + ".cert");
  if (Status st = WritePublicFile(record, cert->encoded()); !st.ok()) return Fail(err, st);

  const fs::path out_dir(a.out_dir);
  if (Status st = EnsureDirectory(out_dir); !st.ok()) return Fail(err, st);
  // Re-issuing replaces both files: the old keys are rotated out.
  if (Status st = WriteIdentitySecret(out_dir / (a.node_id + ".secret"), *keys, true); !st.ok()) {
    return Fail(err, st);
  }
  if (Status st = WritePublicFile(out_dir / (a.node_id + ".cert"), cert->encoded()); !st.ok()) {
    return Fail(err, st);
  }
  out << "issued " << RoleName(f.role) << " certificate for " << f.node_id << " (" << f.nation
      << ", " << f.clearance << ") serial " << f.serial << "\n"
      << "valid until: " << FormatUnixTime(f.not_after) << "\n"
      << "fingerprint: sha256:" << cert->FingerprintHex() << "\n"
      << "wrote " << (out_dir / (a.node_id + ".cert")).string() << " and "
      << (out_dir / (a.node_id + ".secret")).string() << "\n";
  return kExitOk;
}

int Show(const std::string& file, std::ostream& out, std::ostream& err) {
  auto bytes = ReadFileCapped(file, kMaxRevocationListSize, "CERTS_FILE");
  if (!bytes.ok()) return Fail(err, bytes.status());
  auto cert = Certificate::Decode(*bytes);
  if (cert.ok()) {
    PrintCertificate(out, *cert);
    return kExitOk;
  }
  auto list = RevocationList::Decode(*bytes);
  if (list.ok()) {
    PrintRevocationList(out, *list);
    return kExitOk;
  }
  return Fail(err, cert.status().WithContext(file));
}

struct VerifyArgs {
  std::string file;
  std::string ca_dir;
  std::string policy_path;
  std::optional<std::int64_t> now;
};

int Verify(const VerifyArgs& a, std::ostream& out, std::ostream& err) {
  auto policy = LoadPolicy(a.policy_path);
  if (!policy.ok()) return Fail(err, policy.status());
  auto store = TrustStore::LoadFromCaDir(a.ca_dir,
                                         std::make_shared<const Policy>(std::move(policy).value()));
  if (!store.ok()) return Fail(err, store.status());
  auto bytes = ReadFileCapped(a.file, kMaxCertificateSize, "CERT_FILE");
  if (!bytes.ok()) {
    // An oversized file is a certificate that does not verify; a missing one is a usage error.
    if (bytes.status().code() == Code::kResourceExhausted) {
      PrintError(err, kProgram, bytes.status());
      out << "INVALID " << bytes.status().reason() << "\n";
      return kExitNegative;
    }
    return Fail(err, bytes.status());
  }
  auto cert = store->VerifyCertificateBytes(*bytes, Now(a.now));
  if (!cert.ok()) {
    PrintError(err, kProgram, cert.status().WithContext(a.file));
    out << "INVALID " << cert.status().reason() << "\n";
    return kExitNegative;
  }
  out << "VALID " << RoleName(cert->role()) << " " << cert->node_id() << " serial "
      << cert->fields().serial << " until " << FormatUnixTime(cert->fields().not_after)
      << " sha256:" << cert->FingerprintHex() << "\n";
  return kExitOk;
}

struct RevokeArgs {
  std::string ca_dir;
  std::string node_id;
  std::optional<std::uint64_t> serial;  // Only this serial (the end of a rotation overlap).
  std::optional<std::int64_t> now;
};

int Revoke(const RevokeArgs& a, std::ostream& out, std::ostream& err) {
  if (Status st = ValidateNodeId(a.node_id); !st.ok()) return Fail(err, st);
  if (a.node_id == kRootNodeId) {
    return Fail(err, InvalidArgument("CERTS_REVOKE_ROOT",
                                     "the root cannot be revoked; retire the CA instead"));
  }
  const fs::path ca(a.ca_dir);
  auto material = LoadCa(ca);
  if (!material.ok()) return Fail(err, material.status());
  auto store = TrustStore::LoadFromCaDir(ca, nullptr);
  if (!store.ok()) return Fail(err, store.status());

  // Every serial ever issued for the id (or the one asked for), from the CA's own records.
  std::vector<RevocationEntry> entries;
  std::vector<std::uint64_t> new_serials;
  if (const RevocationList* current = store->revocations()) entries = current->entries();
  std::error_code ec;
  const std::string prefix = a.node_id + ".";
  for (fs::directory_iterator it(ca / kIssuedDir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(".cert")) continue;
    auto cert = ReadCertificateFile(it->path().string());
    if (!cert.ok()) return Fail(err, cert.status());
    if (cert->node_id() != a.node_id || cert->issuer_key() != material->key.public_key) continue;
    const std::uint64_t serial = cert->fields().serial;
    if (a.serial && serial != *a.serial) continue;
    const RevocationEntry entry{a.node_id, serial};
    if (std::find(entries.begin(), entries.end(), entry) == entries.end()) {
      entries.push_back(entry);
      new_serials.push_back(serial);
    }
  }
  if (ec) {
    return Fail(err, IoError("CERTS_READ",
                             "cannot list " + (ca / kIssuedDir).string() + ": " + ec.message()));
  }
  const std::uint64_t sequence = store->revocations() ? store->revocations()->sequence() + 1 : 1;
  bool any_issued = !new_serials.empty() ||
                    std::any_of(entries.begin(), entries.end(), [&](const RevocationEntry& e) {
                      return e.node_id == a.node_id && (!a.serial || e.serial == *a.serial);
                    });
  if (!any_issued) {
    return Fail(
        err, NotFound("CERTS_NOT_ISSUED",
                      a.serial ? "no certificate with serial " + std::to_string(*a.serial) +
                                     " was issued for '" + a.node_id + "' by this CA"
                               : "no certificate was issued for '" + a.node_id + "' by this CA"));
  }
  auto list = RevocationList::Issue(material->key, sequence, Now(a.now), std::move(entries));
  if (!list.ok()) return Fail(err, list.status());
  if (Status st = WritePublicFile(ca / kRevocationListFile, list->encoded()); !st.ok()) {
    return Fail(err, st);
  }
  std::sort(new_serials.begin(), new_serials.end());
  out << "revoked " << a.node_id;
  if (new_serials.empty()) {
    out << " (already revoked)";
  } else {
    out << " serial";
    for (std::uint64_t s : new_serials) out << " " << s;
  }
  out << "\nrevocation list sequence " << list->sequence() << " written to "
      << (ca / kRevocationListFile).string() << "\n";
  return kExitOk;
}

}  // namespace

int RunCertsCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"Tearline coalition certificate authority", std::string(kProgram)};
  app.require_subcommand(1);
  std::string policy_path;
  app.add_option("--policy", policy_path,
                 "Coalition policy defining nations and clearance levels (default: the shipped "
                 "policy)");
  const auto add_now = [](CLI::App* sub, std::optional<std::int64_t>& now) {
    sub->add_option("--now", now, "Act as of this time (unix seconds) instead of the clock");
  };

  InitCaArgs init;
  CLI::App* init_cmd = app.add_subcommand("init-ca",
                                          "Create a coalition root (root.cert, "
                                          "root.secret) in DIR");
  init_cmd->add_option("--out", init.out_dir, "CA directory")->required();
  init_cmd->add_option("--days", init.days, "Validity in days")->check(CLI::Range(1, kMaxDays));
  add_now(init_cmd, init.now);

  IssueArgs issue;
  CLI::App* issue_cmd =
      app.add_subcommand("issue", "Issue (or re-issue, rotating keys) a node or broker identity");
  issue_cmd->add_option("--ca", issue.ca_dir, "CA directory")->required();
  issue_cmd->add_option("--node", issue.node_id, "Node id, [a-z0-9-]{1,64}")->required();
  issue_cmd->add_option("--nation", issue.nation, "Nation trigraph defined by the policy")
      ->required();
  issue_cmd->add_option("--clearance", issue.clearance, "Clearance level defined by the policy")
      ->required();
  issue_cmd->add_option("--role", issue.role, "node (default) or broker");
  issue_cmd->add_flag("--broker", issue.broker, "Same as --role broker");
  issue_cmd->add_option("--days", issue.days, "Validity in days")->check(CLI::Range(1, kMaxDays));
  issue_cmd->add_option("--out", issue.out_dir, "Directory for ID.cert and ID.secret")->required();
  add_now(issue_cmd, issue.now);

  std::string show_file;
  CLI::App* show_cmd = app.add_subcommand("show", "Print a certificate or revocation list");
  show_cmd->add_option("file", show_file, "Certificate or revocation list file")->required();

  VerifyArgs verify;
  CLI::App* verify_cmd = app.add_subcommand(
      "verify", "Exit 0 only for a valid, unexpired, unrevoked certificate of this root");
  verify_cmd->add_option("file", verify.file, "Certificate file")->required();
  verify_cmd->add_option("--ca", verify.ca_dir, "CA directory (root.cert, revoked.list)")
      ->required();
  add_now(verify_cmd, verify.now);

  RevokeArgs revoke;
  CLI::App* revoke_cmd =
      app.add_subcommand("revoke", "Revoke every certificate issued for a node id, or one serial");
  revoke_cmd->add_option("--ca", revoke.ca_dir, "CA directory")->required();
  revoke_cmd->add_option("id", revoke.node_id, "Node id")->required();
  revoke_cmd
      ->add_option("--serial", revoke.serial,
                   "Revoke only this serial (e.g. the old certificate at the end of a key "
                   "rotation's overlap), leaving the node's other certificates in force")
      ->check(CLI::PositiveNumber);
  add_now(revoke_cmd, revoke.now);

  // --policy is accepted before or after the subcommand name.
  for (CLI::App* sub : {init_cmd, issue_cmd, show_cmd, verify_cmd, revoke_cmd}) {
    sub->add_option("--policy", policy_path, "Coalition policy file");
  }

  if (auto exit_code = ParseCommandLine(app, argc, argv, out, err)) return *exit_code;
  if (Status st = InitCrypto(); !st.ok()) return Fail(err, st);

  if (*init_cmd) return InitCa(init, out, err);
  if (*issue_cmd) {
    issue.policy_path = policy_path;
    return Issue(issue, out, err);
  }
  if (*show_cmd) return Show(show_file, out, err);
  if (*verify_cmd) {
    verify.policy_path = policy_path;
    return Verify(verify, out, err);
  }
  if (*revoke_cmd) return Revoke(revoke, out, err);
  return kExitInvalid;
}

}  // namespace tearline::tools
