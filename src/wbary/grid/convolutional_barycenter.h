// File: wbary/grid/convolutional_barycenter.h
//
// Entropic Wasserstein barycenters of densities on regular 2-D and 3-D grids
// (Solomon et al. 2015, "Convolutional Wasserstein distances"): iterative
// Bregman projections in which the Gibbs kernel K = exp(-|x - y|^2 / eps) is
// applied as one 1-D convolution per axis (the kernel is separable), never as
// a dense n^d x n^d matrix. The iterations run in the log domain, as POT's
// convolutional_barycenter2d(method="sinkhorn_log"), so small eps stays finite.
//
// Grid convention (POT's): every axis is mapped to [0, 1] (coordinates
// linspace(0, 1, n)), and eps is the `reg` of POT: K = exp(-|x - y|^2 / eps).
// For an n-pixel axis the kernel's standard deviation is sqrt(eps / 2) * (n - 1)
// pixels.
//
// Each 1-D log-convolution is computed as a matrix product in the linear
// domain after shifting every column by its maximum (exact up to round-off);
// the entries whose sum underflows there (eps tiny, mass far away) are
// recomputed by an exact log-sum-exp, so the result matches the pure
// log-domain algorithm at GEMM speed.
//
// Example:
//   grid::ConvolutionalBarycenter solver({.epsilon = 4e-3});
//   grid::GridBarycenterResult r = solver.solve({img_a, img_b}, {0.5, 0.5});
//   if (!r.convergence.converged) ...;
//   at::Tensor bary = r.barycenter;   // same shape as the inputs, sums to 1
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace wbary::grid {

struct ConvolutionalBarycenterConfig {
  double epsilon = 4e-3;          // POT's reg, grid mapped to [0, 1] per axis (see above)
  int64_t max_iterations = 10000; // POT's numItermax default
  double tolerance = 1e-4;        // on sum std_k(v_k * K^T u_k), checked every 10 iterations (POT's stopThr)
  double stabiliser = 1e-30;      // added before the log of the inputs (POT's stabThr)
  // Entropic sharpening (Solomon et al. 2015, §5.3; their convolutionalBarycenter.m):
  // whenever the barycenter's entropy -sum mu log mu exceeds the largest
  // input's, it is replaced by mu^beta, beta > 1 chosen to bring the entropy
  // back to that limit (unnormalised entropy, as their code). Counters the
  // blur of a large eps; the result is then normalised to sum 1.
  bool sharpen = false;
};

/// -sum mu log mu of a density given by its log (0 log 0 = 0).
double entropy_of_log(const at::Tensor& log_mu);

/// The sharpening step: returns beta * log_mu with beta in [1, 4] such that
/// the entropy of mu^beta is `limit` (beta = 1 if it is already below, 4 if
/// even that does not reach it).
at::Tensor sharpen_log_density(const at::Tensor& log_mu, double limit);

struct Convergence {
  bool converged = false;
  int64_t iterations = 0;
  std::vector<double> error_trace;  // one value every 10 iterations
};

struct GridBarycenterResult {
  at::Tensor barycenter;              // float64, the inputs' grid shape, sums to ~1
  std::vector<at::Tensor> log_scalings;  // log v_k, the dual scalings of each input (POT #728)
  Convergence convergence;
};

class ConvolutionalBarycenter {
 public:
  /// Throws InvalidArgument if epsilon <= 0 or the iteration cap < 1.
  explicit ConvolutionalBarycenter(ConvolutionalBarycenterConfig config = {});

  /// Barycenter of densities (2-D or 3-D tensors of one shape, non-negative,
  /// each normalised here to sum 1) with weights (>= 0, normalised to sum 1).
  /// Throws InvalidArgument naming the input on a shape mismatch, a negative
  /// or non-finite value, an empty density or bad weights.
  GridBarycenterResult solve(const std::vector<at::Tensor>& densities, std::vector<double> weights) const;

  /// log(K * exp(log_image)) along every grid axis: the separable Gibbs
  /// kernel applied in the log domain. log_images: [count, *grid].
  at::Tensor log_convolve(const at::Tensor& log_images) const;

 private:
  ConvolutionalBarycenterConfig config_;
};

}  // namespace wbary::grid
