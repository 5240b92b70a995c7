// File: wbary/grid/convolutional_barycenter.h
//
// Entropic Wasserstein barycenters of densities on regular 2-D and 3-D grids
// (Solomon et al. 2015, "Convolutional Wasserstein distances"): iterative
// Bregman projections in which the Gibbs kernel K = exp(-|x - y|^2 / eps) is
// applied as one 1-D convolution per axis (the kernel is separable), never as
// a dense n^d x n^d matrix. The iterations run in the log domain, as POT's
// convolutional_barycenter2d(method="sinkhorn_log"), so small eps stays finite.
//
// The blur: by default the Gibbs kernel is a Gaussian of `blur_pixels`
// pixels' standard deviation along every axis, so one setting means the same
// sharpness at every resolution. `epsilon` > 0 selects POT's convention
// instead: every axis is mapped to [0, 1] (coordinates linspace(0, 1, n)) and
// K = exp(-|x - y|^2 / eps), i.e. a standard deviation of sqrt(eps / 2) (n - 1)
// pixels on an n-pixel axis (eps = 4e-3: 3 px at 64^2, 23 px at 512^2).
//
// On 2-D images the iterations run in the linear domain with every product
// cut to the inputs' supports (grid/linear_domain_barycenter.h) for as long
// as nothing underflows there, then go on in the log domain. In the log
// domain each 1-D log-convolution is computed as a matrix product in the
// linear domain after shifting every column by its maximum (exact up to
// round-off); the entries whose sum underflows there (eps tiny, mass far
// away) are recomputed by an exact log-sum-exp, so the result matches the
// pure log-domain algorithm at GEMM speed.
//
// Example:
//   grid::ConvolutionalBarycenter solver({.blur_pixels = 1.5});   // or {.epsilon = 4e-3}, as POT
//   grid::GridBarycenterResult r = solver.solve({img_a, img_b}, {0.5, 0.5});
//   if (!r.convergence.converged) ...;
//   at::Tensor bary = r.barycenter;   // same shape as the inputs, sums to 1
#pragma once

#include <ATen/ATen.h>

#include <optional>
#include <vector>

#include "wbary/ot/bregman_barycenter.h"

namespace wbary::grid {

/// The Gibbs kernel's blur, the iteration cap and tolerance, sharpening and the domain.
struct ConvolutionalBarycenterConfig {
  /// 2 px: the blur of the learned model's training data (grid-data); at
  /// 256^2 a silhouette's barycenter keeps 76 % of its mass on the half-way
  /// silhouette with POT's eps = 4e-3 (11 px) and more with less blur.
  double blur_pixels = 2;
  double epsilon = 0;             ///< > 0: POT's reg instead of blur_pixels (see above)
  /// Blur mode only: solve first with the blur doubled (up to 8 px) and
  /// warm-start from it (eps-scaling); same result, far fewer iterations for
  /// small blurs. POT's eps mode runs POT's iterates unchanged.
  bool anneal = true;
  int64_t max_iterations = 10000; ///< POT's numItermax default
  double tolerance = 1e-4;        ///< on sum std_k(v_k * K^T u_k) every 10 iterations (POT's stopThr); with sharpen, on the L1 change of the barycenter
  double stabiliser = 1e-30;      ///< added before the log of the inputs (POT's stabThr)
  /// Entropic sharpening (Solomon et al. 2015, §5.3): from the 2nd iteration,
  /// whenever the barycenter's entropy exceeds the largest input's, it is
  /// replaced by mu^beta, beta in [1, max_sharpening] chosen to bring the
  /// entropy back to that limit. Unlike their convolutionalBarycenter.m, the
  /// entropy is that of the normalised mu^beta and the mass of mu is kept:
  /// their unnormalised entropy also falls by shrinking the mass, which the
  /// next projection restores, and on binary silhouettes the iterates then
  /// swing until the bracket fails (measured on a 256^2 silhouette pair:
  /// unnormalised entropy 9 -> 4700, no convergence in 10 000 iterations, the
  /// centroid 8 px off after 1 000). Where the limit is out of reach
  /// the cap is used (their code falls back to beta = 1, no sharpening at all)
  /// and the result reports it. The sharpened iterations are damped (see
  /// ot::log_bregman_barycenter) and stop on Solomon et al.'s criterion.
  bool sharpen = false;
  double max_sharpening = 4;     ///< upper end of beta's bracket (their first code: [1, 4])
  /// Every iteration in the log domain (POT's method="sinkhorn_log", with its
  /// stabThr added to the inputs). Otherwise 2-D inputs without sharpening
  /// start in the linear domain, restricted to the inputs' supports, and
  /// switch when it would lose precision: the same iterates, 3-10x faster.
  bool log_domain = false;
};

/// -sum mu log mu of a density given by its log (0 log 0 = 0).
double entropy_of_log(const at::Tensor& log_mu);

/// The result of one entropic-sharpening step.
struct SharpenedDensity {
  at::Tensor log_mu;    ///< log of mu^beta rescaled to the mass of mu
  double beta = 1;  ///< the exponent used
  bool reached = true;  ///< false: even beta = max_beta left the entropy above the limit
};

/// The sharpening step: the smallest beta in [1, max_beta] (to 1e-4) with
/// H(mu^beta / sum mu^beta) <= limit; beta = 1 if mu is already below.
SharpenedDensity sharpen_log_density(const at::Tensor& log_mu, double limit, double max_beta = 4);

/// What sharpening did, for the caller to report.
struct SharpeningReport {
  double entropy_limit = 0;   ///< the largest input's entropy
  double entropy = 0;         ///< the returned barycenter's entropy
  double beta = 1;            ///< exponent of the last iteration
  bool reached = true;        ///< the limit was met in the last iteration
};

/// How a grid barycenter's iterations ended: converged or not, their count, the error trace.
struct Convergence {
  bool converged = false;  ///< Whether the stopping rule was met before the iteration cap.
  int64_t iterations = 0;  ///< Iterations run.
  std::vector<double> error_trace;  ///< one value every 10 iterations
};

/// A grid barycenter, the dual scalings that produced it and how the iterations ended.
struct GridBarycenterResult {
  at::Tensor barycenter;              ///< float64, the inputs' grid shape, sums to ~1
  std::vector<at::Tensor> log_scalings;  ///< log v_k, the dual scalings of each input (POT #728)
  Convergence convergence;  ///< how the iterations ended
  std::optional<SharpeningReport> sharpening;  ///< set when config.sharpen
  int64_t linear_domain_iterations = 0;        ///< of convergence.iterations, those run in the linear domain
};

/// Entropic barycenters of 2-D images and 3-D volumes (Solomon et al. 2015).
class ConvolutionalBarycenter {
 public:
  /// Throws InvalidArgument if epsilon < 0, blur_pixels <= 0 (without epsilon) or the iteration cap < 1.
  explicit ConvolutionalBarycenter(ConvolutionalBarycenterConfig config = {});

  /// Barycenter of densities (2-D or 3-D tensors of one shape, non-negative,
  /// each normalised here to sum 1) with weights (>= 0, normalised to sum 1).
  /// Throws InvalidArgument naming the input on a shape mismatch, a negative
  /// or non-finite value, an empty density or bad weights.
  GridBarycenterResult solve(const std::vector<at::Tensor>& densities, std::vector<double> weights) const;

  /// POT's eps for an n-pixel axis: epsilon, or 2 (blur_pixels / (n - 1))^2.
  double axis_epsilon(int64_t n) const;

  /// log(K * exp(log_image)) along every grid axis: the separable Gibbs
  /// kernel applied in the log domain. log_images: [count, *grid].
  at::Tensor log_convolve(const at::Tensor& log_images) const;

 private:
  /// The Bregman iterations from `start` (log v_k, or undefined for 0):
  /// linear domain first where it applies (see the file comment), log domain
  /// for the rest. densities [count, *grid] sum to 1 each; logA is their log
  /// with the stabiliser. Adds the linear-domain iterations to *linear.
  ot::BregmanResult iterate(const at::Tensor& densities, const at::Tensor& logA, const std::vector<double>& weights,
                            const ot::LogBarycenterMap& project, const at::Tensor& start, int64_t* linear) const;

  ConvolutionalBarycenterConfig config_;
};

}  // namespace wbary::grid
