// File: wbary/io/csv.h
//
// Point clouds as comma-separated text: one point a row, one coordinate a
// column. Lines starting with '#' and blank lines are skipped; a first row
// whose fields are all non-numeric is taken as a header. Every error names
// "<file>:<line>" and the column.
//
// Example:
//   io::Table cloud = io::read_csv("points.csv");   // shape {n, d}
#pragma once

#include <string>

#include "wbary/io/table.h"

namespace wbary::io {

/// Reads a numeric CSV table. Throws IoError on a missing file, a ragged
/// row, an unparsable field, or NaN/Inf (with file, line and column).
Table read_csv(const std::string& path);

/// Writes `table` (1-D or 2-D) atomically with `digits` significant digits:
/// 9 round-trips a float32, 17 a float64.
void write_csv(const std::string& path, const Table& table, int digits = 9);

}  // namespace wbary::io
