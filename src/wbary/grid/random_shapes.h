// File: wbary/grid/random_shapes.h
//
// Random 2-D shapes by constructive solid geometry, the training inputs of
// the learned grid barycenter (Lacombe et al., reference/learned-grid.md
// §5.1 "Training data"): triangles, rotated rectangles, rotated ellipses and
// thick line segments, combined with OR / AND / XOR / AND-NOT, drawn filled
// or as contours, on an n x n grid and normalised to a probability image.
// Shape i of a seed is a pure function of (seed, i), so a dataset can be
// generated in shards and resumed.
//
// Example:
//   at::Tensor img = grid::random_shape(/*n=*/64, /*seed=*/0, /*index=*/17);  // [64, 64], sums to 1
#pragma once

#include <ATen/ATen.h>

namespace wbary::grid {

/// A random CSG shape as a float64 probability image [n, n] (n >= 8).
at::Tensor random_shape(int64_t n, uint64_t seed, uint64_t index);

}  // namespace wbary::grid
