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

const Field* FieldList::find(const std::string& name) const {
  for (const auto& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

nlohmann::json FieldList::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : fields_) j[f.name] = f.get();
  return j;
}

void FieldList::update(const nlohmann::json& j) const {
  if (!j.is_object()) throw InvalidArgument("config: expected a JSON object, got " + j.dump());
  for (auto it = j.begin(); it != j.end(); ++it) {
    const Field* f = find(it.key());
    if (!f) throw InvalidArgument("config: unknown field '" + it.key() + "'");
    f->set(it.value());
  }
}

void FieldList::set_text(const std::string& name, const std::string& text) const {
  const Field* f = find(name);
  if (!f) throw InvalidArgument("unknown option " + flag_name(name));
  f->set_text(text);
}

}  // namespace wbary::config
