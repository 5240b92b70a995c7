#include "wbary/io/csv.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "wbary/error.h"
#include "wbary/io/atomic_file.h"

namespace wbary::io {
namespace {

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::stringstream ss(line);
  while (std::getline(ss, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

bool parse_double(const std::string& s, double* out) {
  const char* begin = s.c_str();
  while (*begin == ' ' || *begin == '\t') ++begin;
  if (*begin == '\0') return false;
  char* end = nullptr;
  errno = 0;
  *out = std::strtod(begin, &end);
  while (*end == ' ' || *end == '\t' || *end == '\r') ++end;
  return *end == '\0' && end != begin;
}

}  // namespace

Table read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path + ": cannot open for reading (missing file or no permission)");
  Table t;
  int64_t cols = -1;
  int64_t rows = 0;
  std::string line;
  int line_no = 0;
  bool header_allowed = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    const auto fields = split_fields(line);
    std::vector<double> row(fields.size());
    size_t numeric = 0;
    for (size_t c = 0; c < fields.size(); ++c) numeric += parse_double(fields[c], &row[c]);
    if (header_allowed && numeric == 0) {  // a header row of column names
      header_allowed = false;
      continue;
    }
    header_allowed = false;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (cols < 0) cols = static_cast<int64_t>(fields.size());
    if (static_cast<int64_t>(fields.size()) != cols) {
      throw IoError(where + "row has " + std::to_string(fields.size()) + " columns, expected " +
                    std::to_string(cols) + " like the first row");
    }
    for (size_t c = 0; c < fields.size(); ++c) {
      double v = 0;
      if (!parse_double(fields[c], &v)) {
        throw IoError(where + "column " + std::to_string(c + 1) + ": '" + fields[c] +
                      "' is not a number, expected a finite float");
      }
      if (!std::isfinite(v)) {
        throw IoError(where + "column " + std::to_string(c + 1) + ": " +
                      (std::isnan(v) ? "NaN" : "infinity") + ", expected a finite float");
      }
      t.values.push_back(v);
    }
    ++rows;
  }
  if (rows == 0) throw IoError(path + ": no data rows, expected at least one point");
  t.shape = {rows, cols};
  return t;
}

void write_csv(const std::string& path, const Table& table, int digits) {
  const int64_t cols = std::max<int64_t>(table.cols(), 1);
  std::ostringstream out;
  out.precision(digits);
  for (size_t k = 0; k < table.values.size(); ++k) {
    out << table.values[k] << ((k + 1) % cols == 0 ? '\n' : ',');
  }
  write_text_atomically(path, out.str());
}

}  // namespace wbary::io
