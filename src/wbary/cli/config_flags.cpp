#include "wbary/cli/config_flags.h"

#include "wbary/error.h"
#include "wbary/io/json_file.h"

namespace wbary::cli {

ConfigFlags::ConfigFlags(CLI::App* cmd) : cmd_(cmd) {
  cmd->add_option("--config", config_file_,
                  "JSON config (as printed by --dump-config, or a model.json); flags override it");
  cmd->add_flag("--dump-config", dump_config_, "print the effective config as JSON and exit");
}

void ConfigFlags::add_method(const std::string& method, const config::FieldList& defaults) {
  methods_.insert(method);
  for (const config::Field& field : defaults.fields()) {
    const nlohmann::json value = field.get();
    std::string shown = value.is_string() ? value.get<std::string>() : value.dump();
    if (value.is_array()) {
      shown.clear();
      for (const auto& e : value) shown += (shown.empty() ? "" : ",") + e.dump();
    }
    methods_of_[field.name].insert(method);
    // One method: its default; several: each method's ("nwb 24000, cwb 10001").
    auto& per_method = defaults_[field.name];
    per_method.emplace_back(method, shown);
    std::string text = per_method.size() == 1 ? shown : "";
    for (size_t k = 0; per_method.size() > 1 && k < per_method.size(); ++k) {
      text += (k ? ", " : "") + per_method[k].first + " " + per_method[k].second;
    }
    auto it = options_.find(field.name);
    if (it != options_.end()) {
      it->second->default_str(text);
      auto& help = helps_[field.name];
      if (help.find(field.help) == std::string::npos) help += "; " + method + ": " + field.help;
      it->second->description(help);
      it->second->group("Options of several methods (default per method)");
      continue;
    }
    const std::string name = field.name;
    CLI::Option* opt =
        value.is_array()  // a list of integers: --hidden 128 128 (or 128,128)
            ? cmd_->add_option_function<std::vector<std::string>>(
                  field.flag,
                  [this, name](const std::vector<std::string>& v) {
                    std::string joined;
                    for (const auto& t : v) joined += (joined.empty() ? "" : ",") + t;
                    given_.emplace_back(name, joined);
                  },
                  field.help)
            : cmd_->add_option_function<std::string>(
                  field.flag, [this, name](const std::string& v) { given_.emplace_back(name, v); },
                  field.help);
    opt->group(field.group);
    opt->default_str(text);
    opt->type_name(value.is_boolean() ? "BOOL" : value.is_number_integer() ? "INT" : value.is_number() ? "FLOAT"
                   : value.is_array() ? "INT" : "TEXT");
    if (!field.choices.empty()) {
      std::string choices;
      for (const auto& c : field.choices) choices += (choices.empty() ? "" : "|") + c;
      opt->type_name(choices);
    }
    options_[name] = opt;
    helps_[name] = method + ": " + field.help;
  }
}

void ConfigFlags::apply(const std::string& method, const config::FieldList& fields) const {
  if (!config_file_.empty()) {
    const nlohmann::json j = io::read_json(config_file_);
    try {
      fields.update(j.contains("config") ? j["config"] : j);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(config_file_ + ": " + e.what() +
                            (methods_.size() > 1 ? " (for --method " + method + ")" : std::string()));
    }
  }
  for (const auto& [name, text] : given_) {
    if (!fields.find(name)) {
      const std::string flag = options_.at(name)->get_name();
      std::string owners;
      for (const auto& m : methods_of_.at(name)) owners += (owners.empty() ? "" : ", ") + m;
      throw InvalidArgument(flag + " is an option of --method " + owners + ", not of --method " + method);
    }
    fields.set_text(name, text);
  }
}

}  // namespace wbary::cli
