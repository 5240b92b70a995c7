// File: wbary/cli/config_flags.h
//
// One flag per config field (config/fields.h), for a command that trains one
// of several methods (`wbary fit --method nwb|cwb|crwb`): every method's
// fields become flags, a flag several methods share is registered once (its
// --help lists each method's default), and the flags' text is kept until the
// method is known. apply() then builds that method's config: defaults, then
// --config FILE, then the flags given; a flag the method does not have is
// refused by name.
//
// Example:
//   auto flags = std::make_shared<ConfigFlags>(cmd);
//   for (const auto& m : barycenter::methods()) flags->add_method(m.name, m.default_config());
//   ... after parsing:
//   config::FieldList cfg = barycenter::find_method(method).default_config();
//   flags->apply(method, cfg);
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "wbary/config/fields.h"

namespace wbary::cli {

class ConfigFlags {
 public:
  /// Registers --config FILE and --dump-config on `cmd`.
  explicit ConfigFlags(CLI::App* cmd);

  /// Registers the flags of `method`'s fields (the list's values are the defaults shown).
  void add_method(const std::string& method, const config::FieldList& defaults);

  /// Sets `fields` (method's defaults) from --config FILE, then from the flags given.
  void apply(const std::string& method, const config::FieldList& fields) const;

  bool dump_config() const { return dump_config_; }

 private:
  CLI::App* cmd_;
  std::string config_file_;
  bool dump_config_ = false;
  std::vector<std::pair<std::string, std::string>> given_;  // field, text, in command-line order
  std::set<std::string> methods_;
  std::map<std::string, std::set<std::string>> methods_of_;  // field -> methods having it
  std::map<std::string, CLI::Option*> options_;
  std::map<std::string, std::string> helps_;     // field -> "nwb: ...; cwb: ..."
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> defaults_;  // field -> (method, default)
};

}  // namespace wbary::cli
