// National markings: each nation's own words for the classification levels (GBR `UK SECRET`,
// DEU `GEHEIM`, FRA `SECRET DEFENSE`, ...), defined once in the coalition policy's
// [national_markings.CODE] tables (CODE a nation or group code; each key a level name of
// [[classification]], each value that nation's words for it). Analysts of a nation may write a
// marking in their words; it is turned into the canonical label before anything is sealed, and a
// label is shown back in their words. The wire, the broker and the audit log only ever see the
// canonical label.
//
// Rules that keep the equivalence one-to-one: a nation's words are upper-case A-Z, 0-9, spaces
// and hyphens; distinct within the nation; never another level's canonical name or abbreviation.
// A level the table does not name keeps its canonical words.
//
// Ownership: an immutable value once parsed. Thread-safety: const methods are safe concurrently.
#ifndef TEARLINE_LABELS_NATIONAL_MARKINGS_H_
#define TEARLINE_LABELS_NATIONAL_MARKINGS_H_

#include <map>
#include <string>
#include <string_view>

#include "tearline/base/status.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"

namespace tearline {

class NationalMarkings {
 public:
  // Parses the [national_markings] tables of the policy text `toml_text` (none: an empty set).
  // Errors: POLICY_INVALID naming the table and key ("source_name: ...").
  static Result<NationalMarkings> Parse(std::string_view toml_text, const Policy& policy,
                                        std::string_view source_name);
  // Reads and parses the policy file (the same file Policy::LoadFile read). Errors: as Parse,
  // POLICY_NOT_FOUND, POLICY_READ.
  static Result<NationalMarkings> LoadFile(const std::string& path, const Policy& policy);

  // The words `code` uses for level `rank` (the canonical level name when it has none).
  std::string LevelWords(std::string_view code, int rank, const Policy& policy) const;

  // Parses `text` written in `code`'s words or in canonical words: a national level word at the
  // start of a banner, or inside a portion's parentheses, stands for its canonical level.
  // Errors: those of ParseMarking.
  Result<Marking> ParseAs(std::string_view text, std::string_view code, const Policy& policy) const;

  // `label` in `code`'s words: the canonical marking with its level in the nation's words (the
  // portion form uses the words too, in parentheses).
  std::string FormatAs(const Label& label, MarkingForm form, std::string_view code,
                       const Policy& policy) const;

  // code -> level rank -> words.
  const std::map<std::string, std::map<int, std::string>>& words() const { return words_; }

 private:
  std::map<std::string, std::map<int, std::string>> words_;
};

// OK when `code` (upper case) names a nation or a group of the policy: the codes whose words a
// marking may be shown in (`--as CODE`). Errors: LABEL_UNKNOWN_CODE naming the code.
[[nodiscard]] Status CheckMarkingCode(std::string_view code, const Policy& policy);

}  // namespace tearline

#endif  // TEARLINE_LABELS_NATIONAL_MARKINGS_H_
