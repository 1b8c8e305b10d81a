#include "tearline/tools/label_command.h"

#include <CLI/CLI.hpp>
#include <sstream>

#include "tearline/labels/national_markings.h"
#include "tearline/labels/release.h"
#include "tearline/tools/cli_common.h"

namespace tearline::tools {
namespace {

constexpr std::string_view kProgram = "tearline-label";

// Collects a parsed marking (in `as`'s words or canonical words) or reports the one-line error.
Result<Marking> ParseOrReport(const std::string& text, const Policy& policy,
                              const NationalMarkings& national, const std::string& as) {
  auto marking = national.ParseAs(text, as, policy);
  if (!marking.ok()) {
    return marking.status().WithContext("marking '" + text + "'");
  }
  return marking;
}

int Fail(std::ostream& err, const Status& status) { return cli::Fail(err, kProgram, status); }

}  // namespace

nlohmann::json LabelToJson(const Label& label, const Policy& policy) {
  nlohmann::json j;
  j["banner"] = FormatBanner(label, policy);
  j["portion"] = FormatPortion(label, policy);
  j["classification"] = policy.levels()[static_cast<std::size_t>(label.level)].name;
  j["noforn"] = label.noforn;
  j["orcon"] = label.orcon;
  if (label.has_rel_to) {
    nlohmann::json rel = nlohmann::json::array();
    for (const auto& n : label.rel_to_nations) rel.push_back(n);
    for (const auto& g : label.rel_to_groups) rel.push_back(g);
    j["rel_to"] = rel;
  } else {
    j["rel_to"] = nullptr;
  }
  auto releasable = ReleasableTo(label, policy);
  if (releasable) {
    j["releasable_to"] =
        nlohmann::json(std::vector<std::string>(releasable->begin(), releasable->end()));
  } else {
    j["releasable_to"] = nullptr;
  }
  return j;
}

int RunLabelCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"Parse, check and roll up Tearline security markings", std::string(kProgram)};
  app.require_subcommand(1);
  std::string policy_path;
  bool json = false;
  app.add_option("--policy", policy_path, "Coalition policy file (default: the shipped policy)");
  app.add_flag("--json", json, "Print one JSON object instead of text");

  std::string marking_text;
  auto* parse = app.add_subcommand("parse", "Print the canonical form of a marking");
  parse->add_option("MARKING", marking_text, "Banner (SECRET//NOFORN) or portion ((S//NF)) marking")
      ->required();

  std::string to;
  std::string clearance;
  std::string originator;
  auto* check = app.add_subcommand("check", "Decide whether a marking releases to a nation");
  check->add_option("MARKING", marking_text, "Marking to check")->required();
  check->add_option("--to", to, "Recipient nation trigraph")->required();
  check->add_option("--clearance", clearance, "Recipient clearance level (name or abbreviation)");
  check->add_option("--originator", originator, "Nation that originated the material");

  std::vector<std::string> portions;
  auto* rollup = app.add_subcommand("rollup", "Roll portion markings up into a banner");
  rollup->add_option("MARKING", portions, "Portion markings")->required();

  std::string as;
  for (auto* sub : {parse, check, rollup}) {
    sub->add_option("--policy", policy_path, "Coalition policy file");
    sub->add_flag("--json", json, "Print one JSON object instead of text");
    sub->add_option("--as", as,
                    "Read and show markings in this nation's (or group's) own words, e.g. DEU");
  }

  if (auto exit_code = ParseCommandLine(app, argc, argv, out, err)) return *exit_code;

  auto policy = LoadPolicy(policy_path);
  if (!policy.ok()) return Fail(err, policy.status());
  for (char& c : as) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto national =
      NationalMarkings::LoadFile(policy_path.empty() ? DefaultPolicyPath() : policy_path, *policy);
  if (!national.ok()) return Fail(err, national.status());
  if (Status known = as.empty() ? Status::Ok() : CheckMarkingCode(as, *policy); !known.ok()) {
    return Fail(err, known);
  }
  // The marking as the analyst of `as` reads it (canonical when --as is not given).
  const auto shown = [&](const Label& l, MarkingForm f) {
    return national->FormatAs(l, f, as, *policy);
  };

  if (parse->parsed()) {
    auto m = ParseOrReport(marking_text, *policy, *national, as);
    if (!m.ok()) return Fail(err, m.status());
    if (json) {
      auto j = LabelToJson(m->label, *policy);
      j["marking"] = shown(m->label, m->form);
      out << j.dump() << "\n";
    } else {
      out << shown(m->label, m->form) << "\n";
    }
    return kExitOk;
  }

  if (check->parsed()) {
    auto m = ParseOrReport(marking_text, *policy, *national, as);
    if (!m.ok()) return Fail(err, m.status());
    Recipient recipient;
    recipient.nation = to;
    for (char& c : recipient.nation)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!clearance.empty()) {
      auto level = policy->FindLevel(clearance);
      if (!level) {
        return Fail(err, InvalidArgument("RELEASE_BAD_CLEARANCE",
                                         "unknown clearance level '" + clearance + "'"));
      }
      recipient.clearance = *level;
    }
    if (!originator.empty()) {
      std::string o = originator;
      for (char& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      recipient.originator_nation = o;
    }
    auto decision = DecideRelease(m->label, recipient, *policy);
    if (!decision.ok()) return Fail(err, decision.status());
    if (json) {
      auto j = LabelToJson(m->label, *policy);
      j["marking"] = shown(m->label, m->form);
      j["recipient"] = recipient.nation;
      j["decision"] = decision->release ? "RELEASE" : "DENY";
      j["reason"] = decision->release ? nlohmann::json(nullptr)
                                      : nlohmann::json(DenyReasonName(decision->reason));
      j["explanation"] = decision->explanation;
      out << j.dump() << "\n";
    } else if (decision->release) {
      out << "RELEASE\n";
    } else {
      out << "DENY " << DenyReasonName(decision->reason) << ": " << decision->explanation << "\n";
    }
    return decision->release ? kExitOk : kExitNegative;
  }

  // rollup
  std::vector<Label> labels;
  for (const std::string& text : portions) {
    auto m = ParseOrReport(text, *policy, *national, as);
    if (!m.ok()) return Fail(err, m.status());
    labels.push_back(m->label);
  }
  auto banner = Rollup(labels, *policy);
  if (!banner.ok()) return Fail(err, banner.status());
  if (json) {
    auto j = LabelToJson(*banner, *policy);
    if (!as.empty()) j["marking"] = shown(*banner, MarkingForm::kBanner);
    out << j.dump() << "\n";
  } else {
    out << shown(*banner, MarkingForm::kBanner) << "\n";
  }
  return kExitOk;
}

}  // namespace tearline::tools
