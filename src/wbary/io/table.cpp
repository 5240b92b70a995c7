#include "wbary/io/table.h"

#include <cmath>

#include "wbary/error.h"

namespace wbary::io {

int64_t Table::cols() const {
  int64_t c = 1;
  for (size_t k = 1; k < shape.size(); ++k) c *= shape[k];
  return c;
}

void require_finite(const Table& table, const std::string& source) {
  const int64_t c = std::max<int64_t>(table.cols(), 1);
  for (size_t k = 0; k < table.values.size(); ++k) {
    const double v = table.values[k];
    if (!std::isfinite(v)) {
      throw IoError(source + ": row " + std::to_string(k / c + 1) + ", column " +
                    std::to_string(k % c + 1) + ": " + (std::isnan(v) ? "NaN" : "infinity") +
                    ", expected a finite number");
    }
  }
}

}  // namespace wbary::io
