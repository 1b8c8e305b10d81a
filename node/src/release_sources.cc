#include "tearline/node/release_sources.h"

#include <sodium.h>

#include <fstream>

#include "tearline/base/file_util.h"

namespace tearline::node {
namespace {

// A report is at most 16 MiB; its kept plaintext cannot be larger.
constexpr std::size_t kMaxSourceBytes = (std::size_t{16} << 20) + crypto_box_SEALBYTES;

void PutU32(std::uint8_t* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t GetU32(const std::uint8_t* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(in[i]) << (8 * i);
  return v;
}

Status NoSource(std::string_view report_hex, std::uint32_t portion) {
  return NotFound("RELEASE_NO_SOURCE",
                  "this node kept no releasable copy of portion " + std::to_string(portion + 1) +
                      " of report " + std::string(report_hex) +
                      " (sent before release sources were kept, or the file is damaged); "
                      "answer with a sanitised version instead");
}

}  // namespace

Result<ReleaseSources> ReleaseSources::Open(const std::filesystem::path& data_dir) {
  const auto dir = data_dir / "release-sources";
  if (Status st = CreatePrivateDirs(dir); !st.ok()) {
    return IoError("RELEASE_SOURCE_IO", "cannot create " + dir.string() + ": " + st.message());
  }
  return ReleaseSources(dir);
}

Status ReleaseSources::Keep(std::string_view report_hex, const std::vector<std::string>& labels,
                            const std::vector<std::span<const std::uint8_t>>& contents,
                            const PublicKey& own_pk, Sync sync) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < labels.size() && i < contents.size(); ++i) {
    total += 8 + labels[i].size() + contents[i].size();
  }
  auto plain = SecretBytes::Allocate(total);
  if (!plain.ok()) return IoError("RELEASE_SOURCE_IO", plain.status().message());
  std::uint8_t* p = plain->data();
  for (std::size_t i = 0; i < labels.size() && i < contents.size(); ++i) {
    PutU32(p, static_cast<std::uint32_t>(labels[i].size()));
    std::copy(labels[i].begin(), labels[i].end(), p + 4);
    p += 4 + labels[i].size();
    PutU32(p, static_cast<std::uint32_t>(contents[i].size()));
    std::copy(contents[i].begin(), contents[i].end(), p + 4);
    p += 4 + contents[i].size();
  }
  std::vector<std::uint8_t> sealed(total + crypto_box_SEALBYTES);
  if (crypto_box_seal(sealed.data(), plain->data(), total, own_pk.data()) != 0) {
    return IoError("RELEASE_SOURCE_IO", "sealing the release source failed");
  }
  return WriteReplacing(dir_ / (std::string(report_hex) + ".src"), sealed, 0600,
                        sync == Sync::kNow ? nullptr : commit_, "RELEASE_SOURCE_IO");
}

Result<PortionSource> ReleaseSources::Load(std::string_view report_hex, std::uint32_t portion,
                                           const BoxKeyPair& own) const {
  if (report_hex.size() != 32 ||
      report_hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return NoSource(report_hex, portion);
  }
  std::ifstream in(dir_ / (std::string(report_hex) + ".src"), std::ios::binary);
  if (!in) return NoSource(report_hex, portion);
  std::vector<std::uint8_t> sealed(kMaxSourceBytes + 1);
  in.read(reinterpret_cast<char*>(sealed.data()), static_cast<std::streamsize>(sealed.size()));
  sealed.resize(static_cast<std::size_t>(in.gcount()));
  if (sealed.size() < crypto_box_SEALBYTES || sealed.size() > kMaxSourceBytes) {
    return NoSource(report_hex, portion);
  }
  auto plain = SecretBytes::Allocate(sealed.size() - crypto_box_SEALBYTES);
  if (!plain.ok()) return plain.status();
  if (crypto_box_seal_open(plain->data(), sealed.data(), sealed.size(), own.public_key.data(),
                           own.secret_key.data()) != 0) {
    return NoSource(report_hex, portion);
  }
  std::size_t at = 0;
  const std::size_t n = plain->size();
  for (std::uint32_t i = 0;; ++i) {
    if (n - at < 4) return NoSource(report_hex, portion);
    const std::uint32_t label_len = GetU32(plain->data() + at);
    if (n - at - 4 < label_len + std::size_t{4}) return NoSource(report_hex, portion);
    const std::size_t label_at = at + 4;
    const std::uint32_t content_len = GetU32(plain->data() + label_at + label_len);
    const std::size_t content_at = label_at + label_len + 4;
    if (n - content_at < content_len) return NoSource(report_hex, portion);
    if (i == portion) {
      auto content = SecretBytes::CopyOf({plain->data() + content_at, content_len});
      if (!content.ok()) return content.status();
      return PortionSource{
          std::string(reinterpret_cast<const char*>(plain->data() + label_at), label_len),
          std::move(content).value()};
    }
    at = content_at + content_len;
  }
}

}  // namespace tearline::node
