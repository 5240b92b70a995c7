// File: wbary/data/simplex.h
//
// Random weight vectors on the probability simplex, for training a model
// of the barycenters of every weight vector (NWB-II, Fan et al. 2021
// supplementary §B): Dirichlet(alpha, ..., alpha) draws (the authors'
// generate_uniform_weights, alpha = 1: uniform on the simplex), a share of
// them replaced by vertices e_k. A Dirichlet(1) draw lands within 0.05 of a
// vertex of the 3-simplex with probability ~0.3 %, too rarely for the model
// to learn that w = e_k gives back marginal k; the vertex draws fix that.
//
// Example:
//   at::Generator gen = data::make_generator(7);
//   at::Tensor w = data::sample_simplex(/*n=*/5, /*m=*/3, /*alpha=*/1.0, /*vertex_fraction=*/0.1, gen);  // [5, 3]
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace wbary::data {

/// n vectors [n, m] (float64, rows >= 0 summing to 1): each a vertex e_k
/// (k uniform) with probability vertex_fraction, else Dirichlet(alpha 1_m).
at::Tensor sample_simplex(int64_t n, int64_t m, double alpha, double vertex_fraction, at::Generator& gen);

/// w checked and divided by its sum: InvalidArgument naming `what` unless
/// there are m finite entries >= 0 with a positive sum.
std::vector<double> normalized_weights(std::vector<double> w, int64_t m, const std::string& what);

/// Parses "0.2,0.3,0.5" into weights for m inputs (normalized_weights); InvalidArgument naming
/// `what` unless there are m finite entries >= 0 with a positive sum. The
/// result is normalised to sum 1.
std::vector<double> parse_weight_vector(const std::string& text, int64_t m, const std::string& what);

/// The weight vectors of a triangular grid on the simplex of R^m with k
/// steps per side (m = 2: a strip of k + 1 vectors; m = 3: (k+1)(k+2)/2),
/// in row order from e_1; InvalidArgument for m > 3 or k < 1.
std::vector<std::vector<double>> simplex_grid(int64_t m, int64_t k);

}  // namespace wbary::data
