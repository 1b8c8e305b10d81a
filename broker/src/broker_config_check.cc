#include "tearline/broker/broker_config_check.h"

#include <utility>

#include "tearline/base/config_reader.h"
#include "tearline/broker/broker_config.h"
#include "tearline/identity/config_file_check.h"
#include "tearline/identity/directory.h"

namespace tearline::broker {

Result<BrokerConfigSummary> CheckBrokerConfig(const std::filesystem::path& path,
                                              std::int64_t now_unix) {
  TEARLINE_ASSIGN_OR_RETURN(const BrokerConfig config, LoadBrokerConfig(path));
  // The loader has checked every value; the reader is opened again only for the lines.
  TEARLINE_ASSIGN_OR_RETURN(const ConfigReader reader, ConfigReader::Open(path, "broker"));
  TEARLINE_ASSIGN_OR_RETURN(
      LocalIdentity identity,
      CheckLocalIdentity(
          reader,
          LocalIdentityFiles{config.policy, config.ca_dir, config.certificate, config.secret},
          CertRole::kBroker, std::nullopt, now_unix));
  BrokerConfigSummary summary;
  summary.id = identity.certificate.fields().node_id;
  auto dir = Directory::LoadDir(config.directory, *identity.trust, now_unix,
                                &summary.skipped_certificates, config.rotation_overlap);
  if (!dir.ok()) return ErrorAtKey(reader, "directory", dir.status());
  summary.directory_nodes = dir->nodes().size();
  TEARLINE_RETURN_IF_ERROR(CheckStateDir(reader, "data_dir", config.data_dir));
  TEARLINE_RETURN_IF_ERROR(CheckStateDir(reader, "head_file", config.HeadFile().parent_path()));
  if (!config.metrics_file.empty()) {  // Written every interval: its directory must take it.
    TEARLINE_RETURN_IF_ERROR(
        CheckStateDir(reader, "metrics_file", config.metrics_file.parent_path()));
  }
  return summary;
}

}  // namespace tearline::broker
