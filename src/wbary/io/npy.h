// File: wbary/io/npy.h
//
// NumPy .npy files (format versions 1.0-3.0), the exchange format for point
// clouds. Reading accepts little-endian float32 and float64 in C order and
// rejects everything else with a message naming the file and the dtype;
// writing produces version 1.0 files that numpy.load reads.
//
// Written by hand rather than through a library: Debian ships no C++ .npy
// reader (cnpy is not packaged), and the format is a 10-line header followed
// by raw data.
//
// Example:
//   io::Table cloud = io::read_npy("ring.npy");      // shape {n, d}
//   io::write_npy("out.npy", cloud, io::NpyDtype::kFloat32);
#pragma once

#include <string>

#include "wbary/io/table.h"

namespace wbary::io {

enum class NpyDtype { kFloat32, kFloat64 };

/// Reads a float32/float64 C-order array. Throws IoError on a missing file,
/// a bad header, an unsupported dtype, Fortran order or a truncated body.
Table read_npy(const std::string& path);

/// Writes `table` atomically as a version 1.0 .npy file.
void write_npy(const std::string& path, const Table& table, NpyDtype dtype = NpyDtype::kFloat32);

}  // namespace wbary::io
