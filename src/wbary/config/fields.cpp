#include "wbary/config/fields.h"

#include <cerrno>
#include <cstdlib>

namespace wbary::config {

std::string flag_name(const std::string& field) {
  std::string flag = "--" + field;
  for (char& ch : flag) {
    if (ch == '_') ch = '-';
  }
  return flag;
}

namespace {
[[noreturn]] void bad(const std::string& what, const std::string& text, const char* expected) {
  throw InvalidArgument(what + ": got '" + text + "', expected " + expected);
}
}  // namespace

int64_t parse_int(const std::string& text, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE) bad(what, text, "an integer");
  return v;
}

uint64_t parse_uint(const std::string& text, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  if (text.empty() || text[0] == '-') bad(what, text, "a non-negative integer");
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) bad(what, text, "a non-negative integer");
  return v;
}

double parse_double(const std::string& text, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE) bad(what, text, "a number");
  return v;
}

bool parse_bool(const std::string& text, const std::string& what) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  bad(what, text, "true or false");
}

std::vector<int64_t> parse_int_list(const std::string& text, const std::string& what) {
  std::vector<int64_t> out;
  std::string token;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ',' || text[i] == ' ') {
      if (!token.empty()) out.push_back(parse_int(token, what));
      token.clear();
    } else {
      token += text[i];
    }
  }
  if (out.empty()) bad(what, text, "a list of integers, e.g. 128,128");
  return out;
}

void require_at_least(const std::string& flag, int64_t value, int64_t lo) {
  if (value < lo) {
    throw InvalidArgument(flag + ": got " + std::to_string(value) + ", expected >= " + std::to_string(lo));
  }
}

void require_positive(const std::string& flag, double value) {
  if (!(value > 0)) throw InvalidArgument(flag + ": got " + std::to_string(value) + ", expected > 0");
}

void require_non_negative(const std::string& flag, double value) {
  if (!(value >= 0)) throw InvalidArgument(flag + ": got " + std::to_string(value) + ", expected >= 0");
}

void require_fraction(const std::string& flag, double value) {
  if (!(value >= 0 && value < 1)) throw InvalidArgument(flag + ": got " + std::to_string(value) + ", expected in [0, 1)");
}

void require_dtype(const std::string& dtype) {
  if (dtype != "float32" && dtype != "float64") {
    throw InvalidArgument("--dtype: got '" + dtype + "', expected float32 or float64");
  }
}

FieldList& FieldList::flag(std::string flag) {
  if (fields_.empty()) throw std::logic_error("FieldList::flag before any field");
  fields_.back().flag = std::move(flag);
  return *this;
}

FieldList& FieldList::nested(const std::string& name, FieldList sub) {
  nested_.emplace_back(name, std::move(sub));
  return *this;
}

std::vector<Field> FieldList::fields() const {
  std::vector<Field> all = fields_;
  for (const auto& [name, sub] : nested_) {
    for (Field f : sub.fields()) {
      f.name = name + "." + f.name;
      all.push_back(std::move(f));
    }
  }
  return all;
}

const Field* FieldList::find(const std::string& name) const {
  for (const auto& f : fields_) {
    if (f.name == name) return &f;
  }
  const auto dot = name.find('.');
  if (dot == std::string::npos) return nullptr;
  for (const auto& [outer, sub] : nested_) {
    if (outer == name.substr(0, dot)) return sub.find(name.substr(dot + 1));
  }
  return nullptr;
}

nlohmann::json FieldList::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : fields_) j[f.name] = f.get();
  for (const auto& [name, sub] : nested_) j[name] = sub.to_json();
  return j;
}

void FieldList::update(const nlohmann::json& j) const {
  if (!j.is_object()) throw InvalidArgument("config: expected a JSON object, got " + j.dump());
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool done = false;
    for (const auto& [name, sub] : nested_) {
      if (name != it.key()) continue;
      try {
        sub.update(it.value());
      } catch (const InvalidArgument& e) {
        throw InvalidArgument(std::string(e.what()) + " (in '" + name + "')");
      }
      done = true;
    }
    if (done) continue;
    const Field* f = find(it.key());
    if (!f) throw InvalidArgument("config: unknown field '" + it.key() + "'");
    f->set(it.value());
  }
}

void FieldList::set_text(const std::string& name, const std::string& text) const {
  const Field* f = find(name);
  if (!f) throw InvalidArgument("unknown option " + flag_name(name));
  f->set_text(text, f->flag);
}

}  // namespace wbary::config
