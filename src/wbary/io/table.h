// File: wbary/io/table.h
//
// A dense, row-major array of doubles with a shape: what the .npy and .csv
// readers return and the writers take. io/ stays free of LibTorch so that
// file handling compiles fast and can be tested on its own; data/ converts
// to tensors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wbary::io {

/// A numeric table read from .npy or .csv: values [n, d] float64 and where they came from.
struct Table {
  std::vector<int64_t> shape;  ///< e.g. {n, d} for a point cloud
  std::vector<double> values;  ///< row-major (C order), product(shape) entries

  /// Number of rows (points).
  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  /// Product of all dimensions after the first (1 for a vector).
  int64_t cols() const;
};

/// Throws IoError naming `source` and the first non-finite entry (row,
/// column) if the table holds a NaN or an infinity.
void require_finite(const Table& table, const std::string& source);

}  // namespace wbary::io
