// Rendering untrusted text (node-supplied fields of audit records, file names from an audit
// directory) for people and for the programs they paste it into.
//
// Threat: a record's text is written by whoever controls a node or the audit directory. Printed
// raw, a newline or carriage return fakes a further output line ("PASS", a forged record), an
// ESC or C1 control sequence rewrites the terminal, a bidirectional override reorders what the
// reader sees, and a CSV cell starting with '=' is run as a formula by spreadsheets. Every
// function here maps any byte string to text that has none of these, and is reversible enough to
// tell what was there (escapes name the code point).
//
// Thread-safety: pure functions.
#ifndef TEARLINE_BASE_SAFE_TEXT_H_
#define TEARLINE_BASE_SAFE_TEXT_H_

#include <string>
#include <string_view>

namespace tearline {

// One line of printable text: backslash becomes "\\"; \n, \r, \t become "\n", "\r", "\t";
// other C0 controls, DEL and bytes that are not valid UTF-8 become "\xHH"; C1 controls
// (U+0080-U+009F), bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
// U+2066-U+2069) and the line/paragraph separators U+2028, U+2029 become "\u{HHHH}". Other
// valid UTF-8 passes unchanged.
std::string TerminalSafe(std::string_view text);

// One CSV cell (RFC 4180): TerminalSafe, then a leading '=', '+', '-', '@' gets a "'" in
// front (spreadsheets would evaluate it as a formula), then the cell is quoted (with '"'
// doubled) when it holds ',', '"', or a leading or trailing space.
std::string CsvCell(std::string_view text);

// A line of valid JSON (e.g. an audit record) with every character TerminalSafe would escape
// and JSON allows raw (DEL, C1, bidirectional controls, U+2028, U+2029: they can only occur
// inside strings) written as a \uHHHH escape, and raw tab, CR and LF (valid JSON only as
// whitespace between tokens) as a space: the same JSON value, safe on a terminal. Other bytes
// are unchanged.
std::string JsonLineSafe(std::string_view json_line);

}  // namespace tearline

#endif  // TEARLINE_BASE_SAFE_TEXT_H_
