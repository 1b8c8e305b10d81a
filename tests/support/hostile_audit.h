// What a hostile broker operator or node does to the audit trail, for tests of the auditor's
// tools and of the broker's and nodes' rollback guards:
//   - ResignWithFreshKey: rewrites nothing but replaces the log key: log.pub becomes a fresh
//     key and every checkpoint is re-signed with it (witness cosignatures, which it cannot
//     forge, are deleted). A log rewritten this way verifies on its own; only the broker's
//     certificate, issued by the root, tells the key is not the broker's.
//   - SnapshotDir / RestoreDir: keep a copy of an audit directory and later put it back (the
//     restore of an older backup that hides every record written since).
//   - kHostileTexts: node-supplied strings that try to fake output lines (newline, CR), drive the
//     terminal (ESC, C1 CSI, DEL), reorder text (RTL override) or run a spreadsheet formula.
//
// Thread-safety: plain functions on files; one thread.
#ifndef TEARLINE_TESTS_SUPPORT_HOSTILE_AUDIT_H_
#define TEARLINE_TESTS_SUPPORT_HOSTILE_AUDIT_H_

#include <filesystem>
#include <string>
#include <vector>

namespace tearline::testing {

// Replaces DIR/log.pub by a fresh Ed25519 key named `origin`, re-signs DIR/checkpoints/* and
// DIR/checkpoint over the records on disk with it, and deletes DIR/cosignatures/*.
void ResignWithFreshKey(const std::filesystem::path& dir, const std::string& origin);

// Copies `dir` (recursively) to `snapshot`, replacing what was there.
void SnapshotDir(const std::filesystem::path& dir, const std::filesystem::path& snapshot);
// Replaces `dir` by a copy of `snapshot`.
void RestoreDir(const std::filesystem::path& snapshot, const std::filesystem::path& dir);

// Texts a node controls (an explanation, a node id it claims) that try to fake lines, drive a
// terminal or a spreadsheet.
extern const std::vector<std::string> kHostileTexts;

// True when `text` holds a byte or sequence that a terminal acts on: a C0 control other than
// '\n' (or '\n' itself when `allow_newline` is false), DEL, a C1 control or a bidirectional
// override in UTF-8.
bool HasTerminalControl(const std::string& text, bool allow_newline = true);

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_HOSTILE_AUDIT_H_
