// Internal to the tearline-node command: the pieces shared by its subcommand groups
// (node_command.cc: argument parsing and `run`; node_command_send.cc: `send`;
// node_command_reports.cc: `inbox`, `read`, `status`, `track`, `prove`). Not installed.
#ifndef TEARLINE_NODE_SRC_NODE_COMMAND_INTERNAL_H_
#define TEARLINE_NODE_SRC_NODE_COMMAND_INTERNAL_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/cli/command_line.h"
#include "tearline/labels/national_markings.h"
#include "tearline/labels/policy.h"
#include "tearline/node/node_config.h"
#include "tearline/node/provenance_args.h"

namespace tearline::node::command_detail {

constexpr std::string_view kProgram = "tearline-node";
// Extra time the CLI waits beyond the daemon's own send deadline, so the daemon's answer
// (including "not confirmed") is what the analyst sees.
constexpr std::chrono::milliseconds kReplySlack{5000};
constexpr std::chrono::milliseconds kQueryTimeout{10000};
// track/prove wait for the broker; the daemon gives up after 8 s and answers with why.
constexpr std::chrono::milliseconds kBrokerQueryTimeout{15000};

using cli::OneLine;
int Fail(std::ostream& err, const Status& s, int code);
// NODE_NOT_RUNNING is a usage problem for the analyst (exit 2); everything else the daemon says
// no to is a negative answer (exit 1).
int FailFromDaemon(std::ostream& err, const Status& s);
std::string JoinNumbers(const std::vector<std::uint32_t>& v, std::uint32_t base);

// This node's nation and its own words for the levels (tearline/labels/national_markings.h):
// markings the analyst types are read in them, labels are shown in them.
struct NationalView {
  std::string nation;
  NationalMarkings words;
};
// Errors: the certificate's and the policy's.
Result<NationalView> LoadNationalView(const NodeConfig& config, const Policy& policy);
// A canonical marking as this nation reads it (unchanged when it does not parse).
std::string ShowAs(const NationalView& view, const std::string& canonical, const Policy& policy);

// `provenance` is parallel to `portions` (see AttributeProvenance, node/provenance_args.h).
int DoSend(const NodeConfig& config, const std::vector<std::string>& to_raw,
           const std::vector<std::pair<std::string, std::string>>& portions,
           const std::vector<PortionProvenanceArgs>& provenance, double timeout_s, bool json,
           std::ostream& out, std::ostream& err);
// `forward ID --to NAT [--portion N]...`: portions numbered from 1; none given = all held.
int DoForward(const NodeConfig& config, const std::string& id, const std::string& to,
              const std::vector<std::uint32_t>& portions, double timeout_s, bool json,
              std::ostream& out, std::ostream& err);
// A portion's content file (SEND_FILE_UNREADABLE, SEND_PORTION_EMPTY, SEND_PORTION_TOO_LARGE).
Result<std::vector<std::uint8_t>> ReadPortionFile(const std::string& path, std::size_t number);
// node_command_release.cc: request-release, requests, approve, deny.
struct ReleaseArgs {
  std::string id;
  std::uint32_t portion = 1;  // 1-based, as analysts count.
  std::string to;
  std::string why;
  std::string label;
  std::string sanitised_file;
};
int DoRelease(const NodeConfig& config, const std::string& action, const ReleaseArgs& args,
              bool json, std::ostream& out, std::ostream& err);
// `as`: show markings in that nation's (or group's) words instead of this node's nation's
// ("" = this node's); an unknown code is refused (LABEL_UNKNOWN_CODE, exit 2) before the daemon
// is asked. With --json, `banner_as` and each portion's `label_as` carry the shown words.
int DoInbox(const NodeConfig& config, const std::string& as, bool json, std::ostream& out,
            std::ostream& err);
int DoRead(const NodeConfig& config, const std::string& id, const std::string& as, bool json,
           std::ostream& out, std::ostream& err);
int DoStatus(const NodeConfig& config, bool json, std::ostream& out, std::ostream& err);
int DoTrack(const NodeConfig& config, const std::string& id, bool json, std::ostream& out,
            std::ostream& err);
int DoProve(const NodeConfig& config, const std::string& id, std::optional<std::uint64_t> seq,
            bool json, std::ostream& out, std::ostream& err);

}  // namespace tearline::node::command_detail

#endif  // TEARLINE_NODE_SRC_NODE_COMMAND_INTERNAL_H_
