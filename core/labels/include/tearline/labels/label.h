// Security labels: parsing, canonical formatting and releasability expansion of markings such
// as `SECRET//REL TO USA, GBR, JPN` (banner form) and `(S//REL TO USA, GBR)` (portion form).
//
// Grammar (case-insensitive, whitespace-tolerant on input; canonical on output):
//   banner   := LEVEL [ "//" control { "/" control } ]
//   portion  := "(" ABBREV [ "//" control { "/" control } ] ")"
//   control  := "ORCON" | "OC" | "NOFORN" | "NF" | "REL TO" code { "," code }
//   code     := nation trigraph | group code (both defined by the Policy)
// Canonical form: controls ordered ORCON, NOFORN, REL TO; REL TO list de-duplicated, the policy's
// listed-first nations first, other trigraphs alphabetical, then group codes alphabetical.
// A portion label that travels in a report must be exactly the canonical portion form (what
// FormatPortion renders; docs/PROTOCOL.md "Canonical portion marking"): ParseCanonicalPortion is
// the one check the broker, recipients and `tearline-audit verify` share, so they cannot
// disagree about a label's bytes.
//
// Thread-safety: plain values and pure functions.
#ifndef TEARLINE_LABEL_H_
#define TEARLINE_LABEL_H_

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/labels/policy.h"

namespace tearline {

enum class MarkingForm { kBanner, kPortion };

struct Label {
  int level = 0;  // Rank in Policy::levels().
  bool orcon = false;
  bool noforn = false;
  bool has_rel_to = false;
  // REL TO entries as written, canonical order; nations and groups kept apart.
  std::vector<std::string> rel_to_nations;
  std::vector<std::string> rel_to_groups;

  friend bool operator==(const Label&, const Label&) = default;
};

struct Marking {
  Label label;
  MarkingForm form = MarkingForm::kBanner;
};

// Parses a marking in either form. Errors (Code::kInvalidArgument) carry one of the reasons
// LABEL_EMPTY, LABEL_SYNTAX, LABEL_UNKNOWN_CLASSIFICATION, LABEL_UNKNOWN_CONTROL,
// LABEL_REPEATED_CONTROL, LABEL_UNKNOWN_CODE, LABEL_EMPTY_REL_TO, LABEL_NOFORN_WITH_REL_TO and a
// message naming the offending token.
Result<Marking> ParseMarking(std::string_view text, const Policy& policy);
// Same, returning only the label.
Result<Label> ParseLabel(std::string_view text, const Policy& policy);

// Parses a portion label as it travels in a report: it must parse (the reasons above) and be
// byte for byte its own canonical portion rendering, else LABEL_NOT_CANONICAL, whose message
// shows the canonical form (e.g. '(s//rel to gbr,usa)' -> '(S//REL TO USA, GBR)').
Result<Label> ParseCanonicalPortion(std::string_view text, const Policy& policy);

// Canonical renderings. The label must come from ParseMarking/Rollup with the same policy.
std::string FormatBanner(const Label& label, const Policy& policy);
std::string FormatPortion(const Label& label, const Policy& policy);
std::string FormatMarking(const Label& label, MarkingForm form, const Policy& policy);

// "REL TO USA, FVEY" for a label with a REL TO list, "" otherwise.
std::string FormatRelTo(const Label& label);

// Nations the label may be released to by its controls alone: nullopt when unrestricted
// (unclassified without controls), empty when NOFORN or classified without REL TO.
std::optional<std::set<std::string>> ReleasableTo(const Label& label, const Policy& policy);

// Puts a REL TO list into canonical order (listed-first nations, other nations, then groups).
void CanonicalizeRelTo(Label& label, const Policy& policy);

}  // namespace tearline

#endif  // TEARLINE_LABEL_H_
