// File: wbary/grid/density_image.h
//
// Greyscale images as probability densities on a grid, and back. By default
// mass is darkness (a black shape on white paper, as in POT's examples:
// density = 1 - intensity); `invert` takes brightness instead. Densities
// are normalised to sum 1; pictures are scaled so the densest pixel is black.
//
// Example:
//   at::Tensor a = grid::read_density_png("cross.png");      // [H, W] float64, sums to 1
//   grid::write_density_png("bary.png", r.barycenter);
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace wbary::grid {

/// Throws IoError naming the file if it is unreadable or holds no mass.
at::Tensor read_density_png(const std::string& path, bool invert = false);

/// Writes a [H, W] density as a greyscale PNG, atomically.
void write_density_png(const std::string& path, const at::Tensor& density, bool invert = false);

/// Writes densities side by side (an interpolation strip), atomically.
void write_density_strip(const std::string& path, const std::vector<at::Tensor>& densities, bool invert = false);

}  // namespace wbary::grid
