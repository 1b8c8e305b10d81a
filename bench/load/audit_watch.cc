#include "audit_watch.h"

#include <fstream>
#include <utility>

namespace tearline::bench {

AuditWatch::AuditWatch(std::filesystem::path broker_data_dir)
    : log_(std::move(broker_data_dir) / "audit" / "log.jsonl") {}

std::uint64_t AuditWatch::Poll() {
  std::ifstream in(log_, std::ios::binary);
  if (!in) return acknowledged_;
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  offset_ += chunk.size();
  partial_ += chunk;
  std::size_t begin = 0;
  for (std::size_t nl; (nl = partial_.find('\n', begin)) != std::string::npos; begin = nl + 1) {
    const std::string_view line(partial_.data() + begin, nl - begin);
    if (line.find("\"type\":\"acknowledged\"") != std::string_view::npos) ++acknowledged_;
  }
  partial_.erase(0, begin);
  return acknowledged_;
}

}  // namespace tearline::bench
