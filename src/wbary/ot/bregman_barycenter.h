// File: wbary/ot/bregman_barycenter.h
//
// The log-domain iterative Bregman projections of Benamou et al. (2015) for
// entropic barycenters on a fixed support, written once for any Gibbs
// operator: a dense kernel on shared support points (FixedSupportBarycenter)
// or a separable convolution on a grid (grid::ConvolutionalBarycenter).
// The iterates are POT's _barycenter_sinkhorn_log /
// _convolutional_barycenter2d_log, batched over the inputs:
//   log u_k = log a_k - logK(log v_k),  log KTu_k = logKt(log u_k),
//   log bar = sum_k w_k log KTu_k,      log v_k = log bar - log KTu_k,
// with the error sum std_k(v_k KTu_k) checked every 10 iterations.
//
// Example:
//   auto r = ot::log_bregman_barycenter(logA, w, log_k, log_kt, {.max_iterations = 1000}, /*check_phase=*/1);
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <vector>

namespace wbary::ot {

/// Iteration cap and tolerance of the Bregman iterations.
struct BregmanConfig {
  int64_t max_iterations = 1000;  ///< iteration cap
  double tolerance = 1e-4;  ///< stop when the error falls below (POT's stopThr)
};

/// A fixed-support or grid barycenter, its dual scalings and how the iterations ended.
struct BregmanResult {
  at::Tensor barycenter;   ///< exp(log bar), the support's shape
  at::Tensor log_scalings; ///< log v_k, [count, *support]
  bool converged = false;  ///< Whether the stopping rule was met before the iteration cap.
  int64_t iterations = 0;  ///< Iterations run.
  std::vector<double> error_trace;  ///< the error at every check (every 10 iterations)
};

using LogKernel = std::function<at::Tensor(const at::Tensor&)>;
/// Maps the log of the iteration's barycenter to the log of the one the next
/// iteration uses (e.g. entropic sharpening); called from the 2nd iteration
/// on. With it, the log v_k updates are averaged with the previous ones and
/// convergence is the L1 change of the normalised barycenter over one
/// iteration (Solomon et al. 2015) instead of POT's marginal error.
using LogBarycenterMap = std::function<at::Tensor(const at::Tensor&)>;

/// logA: [count, *support] logs of the inputs; weights: [count] summing to 1.
/// log_k / log_kt apply log(K exp(.)) and log(K^T exp(.)) to a [count,
/// *support] batch. The error is checked when iteration % 10 == check_phase
/// (POT: 1 for barycenter, 9 for convolutional_barycenter2d).
/// initial_log_scalings: log v_k to start from (default 0), e.g. the
/// rescaled scalings of a larger eps (eps-scaling).
BregmanResult log_bregman_barycenter(const at::Tensor& logA, const std::vector<double>& weights,
                                     const LogKernel& log_k, const LogKernel& log_kt, BregmanConfig config,
                                     int check_phase, const LogBarycenterMap& project = {},
                                     const at::Tensor& initial_log_scalings = {});

/// Checks and normalises barycentric weights (>= 0, finite, positive sum);
/// throws InvalidArgument naming `flag` and the entry.
std::vector<double> normalised_weights(std::vector<double> weights, size_t count, const std::string& flag);

}  // namespace wbary::ot
