#include "tearline/node/outbox_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "tearline/node/control_protocol.h"
#include "tearline/node/group_commit.h"
#include "tearline/node/inbox_store.h"

namespace tearline::node {
namespace {

// A sealed report is at most 16 MiB; sent records are small.
constexpr std::uintmax_t kMaxOutboxReportBytes = (std::uintmax_t{16} << 20) + 4096;
constexpr std::uintmax_t kMaxSentRecordBytes = 1024 * 1024;

Result<std::filesystem::path> MakePrivateDir(const std::filesystem::path& dir,
                                             const std::string& reason) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(reason, "cannot create " + dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) return IoError(reason, "cannot chmod 700 " + dir.string() + ": " + ec.message());
  return dir;
}

Result<std::vector<std::uint8_t>> ReadCapped(const std::filesystem::path& path, std::uintmax_t cap,
                                             const std::string& prefix) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return NotFound(prefix + "_NOT_FOUND",
                      "no " + path.filename().string() + " in " + path.parent_path().string());
    }
    return IoError(prefix + "_IO", "cannot stat " + path.string() + ": " + ec.message());
  }
  if (size > cap) {
    return Status(Code::kResourceExhausted, prefix + "_CORRUPT",
                  path.string() + " is larger than any file the node writes there");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(prefix + "_IO", "cannot open " + path.string());
  std::vector<std::uint8_t> data(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (in.gcount() != static_cast<std::streamsize>(data.size())) {
    return IoError(prefix + "_IO", "short read of " + path.string());
  }
  return data;
}

Result<std::vector<std::string>> ListIds(const std::filesystem::path& dir, std::string_view ext,
                                         const std::string& reason) {
  std::vector<std::string> ids;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return IoError(reason, "cannot list " + dir.string() + ": " + ec.message());
  for (const auto& de : it) {
    const auto& path = de.path();
    if (path.extension() != ext || !IsReportIdHex(path.stem().string())) continue;
    ids.push_back(path.stem().string());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Status BadId(const std::string& prefix) {
  return InvalidArgument(prefix + "_BAD_ID", "report id must be 32 lower-case hex characters");
}

Status SyncDir(const std::filesystem::path& dir, const std::string& reason) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError(reason, "cannot open " + dir.string() + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (rc != 0) return IoError(reason, "cannot fsync " + dir.string() + ": " + std::strerror(e));
  return Status::Ok();
}

}  // namespace

bool IsTransientSubmitFailure(std::string_view reason) {
  for (std::string_view r :
       {"RATE_LIMITED", "BROKER_BUSY", "STORAGE_FULL", "SENDER_STORE_QUOTA", "STORE_IO",
        "STORE_BUSY", "CONNECTION_LIMIT", "NOT_WELCOMED", "HELLO_REQUIRED"}) {
    if (reason == r) return true;
  }
  return reason.rfind("AUTH_", 0) == 0;
}

// --- OutboxStore ------------------------------------------------------------------------------

Result<OutboxStore> OutboxStore::Open(const std::filesystem::path& data_dir) {
  TEARLINE_ASSIGN_OR_RETURN(auto dir, MakePrivateDir(data_dir / "outbox", "OUTBOX_IO"));
  return OutboxStore(std::move(dir));
}

Status OutboxStore::Put(std::string_view id, std::span<const std::uint8_t> bytes) {
  if (!IsReportIdHex(id)) return BadId("OUTBOX");
  return WriteReplacing(dir_ / (std::string(id) + ".report"), bytes, 0600, commit_, "OUTBOX_IO");
}

Result<std::vector<std::uint8_t>> OutboxStore::Get(std::string_view id) const {
  if (!IsReportIdHex(id)) return BadId("OUTBOX");
  return ReadCapped(dir_ / (std::string(id) + ".report"), kMaxOutboxReportBytes, "OUTBOX");
}

Status OutboxStore::Remove(std::string_view id) {
  if (!IsReportIdHex(id)) return BadId("OUTBOX");
  const auto path = dir_ / (std::string(id) + ".report");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return IoError("OUTBOX_IO", "cannot remove " + path.string() + ": " + std::strerror(errno));
  }
  // In a batch the removal need not be durable by itself: until a later sync carries it, a crash
  // only costs one more (duplicate) submission.
  if (commit_ != nullptr) return Status::Ok();
  return SyncDir(dir_, "OUTBOX_IO");
}

bool OutboxStore::Contains(std::string_view id) const {
  if (!IsReportIdHex(id)) return false;
  std::error_code ec;
  return std::filesystem::exists(dir_ / (std::string(id) + ".report"), ec);
}

Result<std::vector<std::string>> OutboxStore::List() const {
  return ListIds(dir_, ".report", "OUTBOX_IO");
}

// --- SentRecord -------------------------------------------------------------------------------

nlohmann::json SentRecordToJson(const SentRecord& r) {
  nlohmann::json outcomes = nlohmann::json::array();
  for (const auto& o : r.outcomes) outcomes.push_back(OutcomeToJson(o, 0));
  return {{"report_id", r.report_id_hex},
          {"banner", r.banner},
          {"accepted", r.accepted},
          {"duplicate", r.duplicate},
          {"error_reason", r.error_reason},
          {"error_message", r.error_message},
          {"submitted_unix", r.submitted_unix},
          {"replied_unix", r.replied_unix},
          {"outcomes", std::move(outcomes)}};
}

Result<SentRecord> SentRecordFromJson(const nlohmann::json& j) {
  auto corrupt = [](const std::string& field) {
    return InvalidArgument("SENT_CORRUPT",
                           "sent record field '" + field + "' is missing or has the wrong type");
  };
  if (!j.is_object()) return corrupt("(root)");
  SentRecord r;
  for (auto [key, out] : {std::pair{"report_id", &r.report_id_hex},
                          {"banner", &r.banner},
                          {"error_reason", &r.error_reason},
                          {"error_message", &r.error_message}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return corrupt(key);
    *out = it->get<std::string>();
  }
  if (!IsReportIdHex(r.report_id_hex)) return corrupt("report_id");
  for (auto [key, out] : {std::pair{"accepted", &r.accepted}, {"duplicate", &r.duplicate}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_boolean()) return corrupt(key);
    *out = it->get<bool>();
  }
  for (auto [key, out] :
       {std::pair{"submitted_unix", &r.submitted_unix}, {"replied_unix", &r.replied_unix}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return corrupt(key);
    *out = it->get<std::int64_t>();
  }
  auto outcomes = j.find("outcomes");
  if (outcomes == j.end() || !outcomes->is_array()) return corrupt("outcomes");
  for (const auto& o : *outcomes) {
    auto outcome = OutcomeFromJson(o, 0);
    if (!outcome.ok()) return corrupt("outcomes: " + outcome.status().message());
    r.outcomes.push_back(std::move(outcome).value());
  }
  return r;
}

// --- SentStore --------------------------------------------------------------------------------

Result<SentStore> SentStore::Open(const std::filesystem::path& data_dir) {
  TEARLINE_ASSIGN_OR_RETURN(auto dir, MakePrivateDir(data_dir / "sent", "SENT_IO"));
  return SentStore(std::move(dir));
}

Status SentStore::Put(const SentRecord& record) {
  if (!IsReportIdHex(record.report_id_hex)) return BadId("SENT");
  const std::string text =
      SentRecordToJson(record).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return WriteReplacing(dir_ / (record.report_id_hex + ".json"),
                        {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, 0600,
                        commit_, "SENT_IO");
}

Result<SentRecord> SentStore::Get(std::string_view id) const {
  if (!IsReportIdHex(id)) return BadId("SENT");
  TEARLINE_ASSIGN_OR_RETURN(
      auto bytes, ReadCapped(dir_ / (std::string(id) + ".json"), kMaxSentRecordBytes, "SENT"));
  auto j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgument("SENT_CORRUPT", "sent record of " + std::string(id) + " is not JSON");
  }
  TEARLINE_ASSIGN_OR_RETURN(SentRecord r, SentRecordFromJson(j));
  if (r.report_id_hex != id) {
    return InvalidArgument("SENT_CORRUPT",
                           "sent record of " + std::string(id) + " names another report");
  }
  return r;
}

bool SentStore::Contains(std::string_view id) const {
  if (!IsReportIdHex(id)) return false;
  std::error_code ec;
  return std::filesystem::exists(dir_ / (std::string(id) + ".json"), ec);
}

Result<std::vector<std::string>> SentStore::List() const {
  return ListIds(dir_, ".json", "SENT_IO");
}

}  // namespace tearline::node
