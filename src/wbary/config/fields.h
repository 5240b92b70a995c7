// File: wbary/config/fields.h
//
// A config's fields, declared once and used three ways: written to JSON
// (`--dump-config`, model.json, checkpoints), read from JSON (`--config FILE`,
// Python's config dicts) and set from command-line text (cli/config_flags.h
// makes one flag per field: `lr_f` -> `--lr-f`). Before this, every config
// spelled each field out four times (struct, to_json, update_from_json, flag)
// and the copies drifted.
//
// Example:
//   config::FieldList fields(NeuralBarycenterConfig& c) {
//     config::FieldList f;
//     f.group("Algorithm 1")
//         .add("iterations", c.iterations, "outer iterations K_3")
//         .choice("f_convexity", c.f_convexity, {{"clamp", Convexity::kClamp}, {"penalty", Convexity::kPenalty}},
//                 "how W >= 0 is kept");
//     return f;
//   }
//   nlohmann::json j = fields(config).to_json();
//   fields(config).update(j);                      // InvalidArgument on an unknown key or a wrong type
//   fields(config).set_text("lr_f", "1e-4");       // as the flag --lr-f 1e-4
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "wbary/error.h"

namespace wbary::config {

/// One config field: its name, documentation and how to read / write it from JSON and the CLI.
struct Field {
  std::string name;   ///< the JSON key ("conjugate.max_iterations" inside a nested list)
  std::string flag;   ///< "--lr-f": flag_name(name) unless the list says otherwise
  std::string help;  ///< one line for --help
  std::string group;  ///< heading in --help
  std::vector<std::string> choices;  ///< the accepted names, for enumerations
  std::function<nlohmann::json()> get;  ///< reads the field
  std::function<void(const nlohmann::json&)> set;  ///< throws InvalidArgument
  std::function<void(const std::string& text, const std::string& flag)> set_text;  ///< InvalidArgument names the flag
};

/// "lr_decay_every" -> "--lr-decay-every".
std::string flag_name(const std::string& field);

/// Parses command-line text as a value of the field's type; InvalidArgument
/// names `what` (the flag) and the text.
int64_t parse_int(const std::string& text, const std::string& what);
uint64_t parse_uint(const std::string& text, const std::string& what);
double parse_double(const std::string& text, const std::string& what);
bool parse_bool(const std::string& text, const std::string& what);
/// "128,128" (commas or spaces) -> {128, 128}.
std::vector<int64_t> parse_int_list(const std::string& text, const std::string& what);

/// Checks of config values; InvalidArgument names the flag, the value and what was expected.
void require_at_least(const std::string& flag, int64_t value, int64_t lo);
void require_positive(const std::string& flag, double value);
void require_non_negative(const std::string& flag, double value);
/// value in [0, 1): Adam's betas, EMA decays.
void require_fraction(const std::string& flag, double value);
/// "float32" or "float64".
void require_dtype(const std::string& dtype);

/// The fields of one config struct, for JSON round trips, checkpoint comparison and CLI flags.
class FieldList {
 public:
  /// Fields added after this call are listed under `name` in --help.
  FieldList& group(std::string name) {
    group_ = std::move(name);
    return *this;
  }

  /// A number, a bool, a string or a list of integers, bound to `value` (which must outlive the list).
  template <class T>
  FieldList& add(std::string name, T& value, std::string help);

  /// An enumeration, read and written by the names in `choices`.
  template <class E>
  FieldList& choice(std::string name, E& value, std::vector<std::pair<std::string, E>> choices, std::string help);

  /// The last field added is set by this flag instead of flag_name(name)
  /// (for flags older than the field list, e.g. --lr for learning_rate).
  FieldList& flag(std::string flag);

  /// A sub-config written as a JSON object under `name`; its fields become
  /// flags through their own flag names (give the sub-list distinct ones).
  FieldList& nested(const std::string& name, FieldList sub);

  /// Every field, those of nested lists included (names "outer.inner").
  std::vector<Field> fields() const;
  /// nullptr when there is no field `name` ("outer.inner" for nested ones).
  const Field* find(const std::string& name) const;

  /// Every field's current value, as one JSON object.
  nlohmann::json to_json() const;
  /// Sets the fields present in `j` (others keep their values); InvalidArgument
  /// on a key that is not a field or a value of the wrong type.
  void update(const nlohmann::json& j) const;
  /// Sets field `name` from command-line text.
  void set_text(const std::string& name, const std::string& text) const;

  /// Keeps `owner` (the struct the fields point into) alive as long as the list.
  void keep_alive(std::shared_ptr<void> owner) { owner_ = std::move(owner); }

 private:
  std::vector<Field> fields_;
  std::vector<std::pair<std::string, FieldList>> nested_;
  std::string group_;
  std::shared_ptr<void> owner_;
};

/// The fields of a fresh copy of `value`, which the list owns: a config
/// that outlives the caller's scope (the CLI fills it from flags).
template <class Config>
FieldList owned_fields(Config value, FieldList (*fields)(Config&)) {
  auto owner = std::make_shared<Config>(std::move(value));
  FieldList list = fields(*owner);
  list.keep_alive(owner);
  return list;
}

// --- implementation

template <class T>
FieldList& FieldList::add(std::string name, T& value, std::string help) {
  Field f;
  f.name = name;
  f.flag = flag_name(name);
  f.help = std::move(help);
  f.group = group_;
  T* p = &value;
  f.get = [p] { return nlohmann::json(*p); };
  f.set = [p, name](const nlohmann::json& j) {
    bool ok;
    if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
      ok = j.is_array();
      for (const auto& e : j) ok = ok && e.is_number_integer();
    } else if constexpr (std::is_same_v<T, bool>) ok = j.is_boolean();
    else if constexpr (std::is_same_v<T, std::string>) ok = j.is_string();
    else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) ok = j.is_number_unsigned();
    else if constexpr (std::is_integral_v<T>) ok = j.is_number_integer();
    else ok = j.is_number();
    if (!ok) throw InvalidArgument("config field '" + name + "': wrong type (" + j.dump() + ")");
    *p = j.get<T>();
  };
  f.set_text = [p](const std::string& text, const std::string& flag) {
    if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
      *p = parse_int_list(text, flag);
    } else if constexpr (std::is_same_v<T, bool>) {
      *p = parse_bool(text, flag);
    } else if constexpr (std::is_same_v<T, std::string>) {
      *p = text;
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
      *p = static_cast<T>(parse_uint(text, flag));
    } else if constexpr (std::is_integral_v<T>) {
      *p = static_cast<T>(parse_int(text, flag));
    } else {
      *p = static_cast<T>(parse_double(text, flag));
    }
  };
  fields_.push_back(std::move(f));
  return *this;
}

template <class E>
FieldList& FieldList::choice(std::string name, E& value, std::vector<std::pair<std::string, E>> choices,
                             std::string help) {
  Field f;
  f.name = name;
  f.flag = flag_name(name);
  f.help = std::move(help);
  f.group = group_;
  for (const auto& c : choices) f.choices.push_back(c.first);
  E* p = &value;
  auto table = std::make_shared<std::vector<std::pair<std::string, E>>>(std::move(choices));
  f.get = [p, table] {
    for (const auto& [n, v] : *table) {
      if (v == *p) return nlohmann::json(n);
    }
    return nlohmann::json(nullptr);
  };
  auto from_name = [p, table](const std::string& text, const std::string& what) {
    std::string names;
    for (const auto& [n, v] : *table) {
      if (n == text) {
        *p = v;
        return;
      }
      names += (names.empty() ? "'" : ", '") + n + "'";
    }
    throw InvalidArgument(what + ": got '" + text + "', expected one of " + names);
  };
  f.set = [from_name, name](const nlohmann::json& j) {
    if (!j.is_string()) throw InvalidArgument("config field '" + name + "': wrong type (" + j.dump() + ")");
    from_name(j.get<std::string>(), "config field '" + name + "'");
  };
  f.set_text = from_name;
  fields_.push_back(std::move(f));
  return *this;
}

}  // namespace wbary::config
