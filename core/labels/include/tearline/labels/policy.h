// Coalition policy: classification levels, nations and group codes, loaded from a
// human-editable TOML file. No country, group or level is known to the C++ code; everything
// comes from the policy, so a coalition can change membership without a rebuild.
//
// Ownership: a Policy is an immutable value after loading; share it by const reference or
// std::shared_ptr<const Policy>. Thread-safety: all const methods are safe to call concurrently.
#ifndef TEARLINE_POLICY_H_
#define TEARLINE_POLICY_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"

namespace tearline {

struct ClassificationLevel {
  std::string name;    // Banner word(s), e.g. "TOP SECRET".
  std::string abbrev;  // Portion abbreviation, e.g. "TS".
};

struct Group {
  std::string code;               // e.g. "FVEY".
  std::string title;              // Human name, e.g. "Five Eyes".
  std::set<std::string> members;  // Fully expanded nation trigraphs.
};

class Policy {
 public:
  // Parses policy text. `source_name` appears in errors as "source_name:line: cause".
  static Result<Policy> Parse(std::string_view toml_text, std::string_view source_name);
  // Reads and parses a file; errors name the file and line.
  static Result<Policy> LoadFile(const std::string& path);

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  // How far ahead of the broker's clock a report may expire ([policy] max_expiry_days, 1 to
  // 3660, default kDefaultMaxExpiryDays): a report claiming to live longer is refused, so no
  // stored copy outlives the horizon.
  static constexpr std::int64_t kDefaultMaxExpiryDays = 366;
  std::int64_t max_expiry_seconds() const { return max_expiry_days_ * 86400; }
  // Lower-case hex SHA-256 of the exact policy bytes: what the audit log records.
  const std::string& digest_hex() const { return digest_hex_; }

  // Levels in ascending order of sensitivity; index is the rank.
  const std::vector<ClassificationLevel>& levels() const { return levels_; }
  // Rank of a level given by banner word or abbreviation, case-insensitive, whitespace-tolerant.
  std::optional<int> FindLevel(std::string_view word) const;

  bool IsNation(std::string_view trigraph) const {
    return nations_.contains(std::string(trigraph));
  }
  const std::map<std::string, std::string>& nations() const { return nations_; }  // code -> name
  const Group* FindGroup(std::string_view code) const;
  const std::map<std::string, Group>& groups() const { return groups_; }

  // Nations that canonical REL TO lists put first, in this order (e.g. the marking authority).
  const std::vector<std::string>& listed_first() const { return listed_first_; }

 private:
  std::string name_;
  std::string version_;
  std::int64_t max_expiry_days_ = kDefaultMaxExpiryDays;
  std::string digest_hex_;
  std::vector<ClassificationLevel> levels_;
  std::map<std::string, std::string> nations_;
  std::map<std::string, Group> groups_;
  std::vector<std::string> listed_first_;
};

// The policy path the tools use when no --policy is given: $TEARLINE_POLICY if set; otherwise
// BIN/../share/tearline/policy/coalition.toml next to the running program (an installed tree);
// otherwise the coalition policy shipped with the source tree.
std::string DefaultPolicyPath();

}  // namespace tearline

#endif  // TEARLINE_POLICY_H_
