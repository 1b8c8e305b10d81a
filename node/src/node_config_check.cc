#include "tearline/node/node_config_check.h"

#include "tearline/base/config_reader.h"
#include "tearline/crypto/key_file.h"
#include "tearline/identity/config_file_check.h"
#include "tearline/node/node_config.h"

namespace tearline::node {

Result<NodeConfigSummary> CheckNodeConfig(const std::filesystem::path& path,
                                          std::int64_t now_unix) {
  TEARLINE_ASSIGN_OR_RETURN(const NodeConfig config, LoadNodeConfig(path));
  // The loader has checked every value; the reader is opened again only for the lines.
  TEARLINE_ASSIGN_OR_RETURN(const ConfigReader reader, ConfigReader::Open(path, "node"));
  TEARLINE_ASSIGN_OR_RETURN(
      LocalIdentity identity,
      CheckLocalIdentity(
          reader,
          LocalIdentityFiles{config.policy, config.ca_dir, config.certificate, config.secret},
          CertRole::kNode, config.id, now_unix));
  const auto& own = identity.certificate.fields();
  if (!identity.policy->FindLevel(own.clearance)) {
    return ErrorAtKey(
        reader, "certificate",
        InvalidArgument("NODE_CERT_CLEARANCE",
                        "own certificate clearance '" + own.clearance + "' is not in the policy"));
  }
  auto broker = ReadCertificateFile(config.broker_certificate.string());
  if (!broker.ok()) return ErrorAtKey(reader, "broker_certificate", broker.status());
  if (Status v = identity.trust->VerifyCertificate(*broker, now_unix); !v.ok()) {
    return ErrorAtKey(reader, "broker_certificate", v);
  }
  if (broker->role() != CertRole::kBroker) {
    return ErrorAtKey(reader, "broker_certificate",
                      InvalidArgument("BROKER_CERT_ROLE", config.broker_certificate.string() +
                                                              " is not a broker certificate"));
  }
  if (!config.previous_secret.empty()) {  // Same checks as the daemon's start (NodeIdentity).
    auto previous = ReadIdentitySecret(config.previous_secret);
    if (!previous.ok()) return ErrorAtKey(reader, "previous_secret", previous.status());
    if (previous->encryption.public_key == identity.keys.encryption.public_key) {
      return ErrorAtKey(reader, "previous_secret",
                        InvalidArgument("NODE_PREVIOUS_KEY_CURRENT",
                                        "previous_secret holds the current keys; name the key "
                                        "file of before the rotation, or remove previous_secret"));
    }
  }
  TEARLINE_RETURN_IF_ERROR(CheckStateDir(reader, "data_dir", config.data_dir));
  return NodeConfigSummary{own.node_id, own.nation, broker->fields().node_id};
}

}  // namespace tearline::node
