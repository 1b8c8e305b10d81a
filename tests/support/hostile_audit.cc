#include "hostile_audit.h"

#include <gtest/gtest.h>

#include <span>

#include "tearline/crypto/keys.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"
#include "test_support.h"

namespace tearline::testing {

namespace fs = std::filesystem;

void ResignWithFreshKey(const fs::path& dir, const std::string& origin) {
  auto key = GenerateSigningKeyPair();
  ASSERT_TRUE(key.ok());
  auto vkey = MakeNoteVerifierKey(origin, NoteKeyType::kEd25519, key->public_key);
  ASSERT_TRUE(vkey.ok());
  WriteText(dir / "log.pub", FormatNoteVerifierKey(*vkey) + "\n");
  MerkleTree tree;
  for (const std::string& line : SplitLines(ReadFile(dir / "log.jsonl"))) {
    tree.Append(LeafHash(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(line.data()), line.size())));
  }
  std::string latest;
  std::uint64_t latest_size = 0;
  for (const auto& entry : fs::directory_iterator(dir / "checkpoints")) {
    const std::uint64_t size = std::stoull(entry.path().filename().string());
    Checkpoint cp{origin, size, *tree.RootAt(size), {}};
    auto note = SignCheckpoint(cp, origin, *key);
    ASSERT_TRUE(note.ok()) << note.status().ToString();
    WriteText(entry.path(), *note);
    if (size >= latest_size) latest_size = size, latest = *note;
  }
  if (!latest.empty()) WriteText(dir / "checkpoint", latest);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir / "cosignatures", ec)) {
    fs::remove(entry.path());
  }
}

void SnapshotDir(const fs::path& dir, const fs::path& snapshot) {
  fs::remove_all(snapshot);
  fs::copy(dir, snapshot, fs::copy_options::recursive);
}

void RestoreDir(const fs::path& snapshot, const fs::path& dir) {
  fs::remove_all(dir);
  fs::copy(snapshot, dir, fs::copy_options::recursive);
}

const std::vector<std::string> kHostileTexts = {
    "ok\nline 99  2026-01-01T00:00:00.000Z  delivered  forged=yes",  // A faked listing line.
    "ok\rPASS: overwritten",                                         // Carriage return.
    "\x1b[2J\x1b[1;1HPASS: 0 records",                               // ESC: clear the screen.
    "\xc2\x9b"
    "31mred",           // C1 CSI in UTF-8.
    "abc\x7f\x7f\x7f",  // DEL.
    "\xe2\x80\xae"
    "gnp.exe",                            // RTL override.
    "=HYPERLINK(\"http://evil\",\"x\")",  // Spreadsheet formulas.
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
};

bool HasTerminalControl(const std::string& text, bool allow_newline) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      if (!allow_newline) return true;
      continue;
    }
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < text.size()) {
      const auto n = static_cast<unsigned char>(text[i + 1]);
      if (n >= 0x80 && n <= 0x9f) return true;
    }
    if (c == 0xe2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80) {
      const auto n = static_cast<unsigned char>(text[i + 2]);
      if ((n >= 0xaa && n <= 0xae) || n == 0xa8 || n == 0xa9) return true;
    }
  }
  return false;
}

}  // namespace tearline::testing
