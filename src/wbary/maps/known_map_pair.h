// File: wbary/maps/known_map_pair.h
//
// Pairs of measures with a known optimal map, built in-house (Korotin et
// al. 2021's construction with a generated potential; reference/w2-maps.md
// §1.1 and §1.6). By Brenier's theorem, for any convex psi the map
// grad psi is the W2-optimal map from P to Q = grad psi # P. Here
//   P   = Korotin's "Mix3": 3 equal Gaussian components, centres from
//         per-coordinate permutations of {-1, 0, 1}, random unit-row
//         matrices, std 0.4, standardised to total variance ~ d;
//   psi = a sharp random "softplus ridge" potential
//         sum_k c_k tau softplus((a_k.x + b_k)/tau) + (s/2)|x|^2,
//         K = 2 max(2d, 64) ridges (two of §1.6's sums), a_k ~ N(0, 9/d),
//         tau = 0.1, s = 0.01, c_k ~ U(0, 1), b_k ~ N(0, 1),
//         then standardised: (psi(x) - m.x)/sqrt(v) so that Q has mean 0 and
//         total variance ~ d. (A random ICNN with quadratic terms would be
//         almost linear and the benchmark trivial: §1.6.)
// Hardness is measured by the linear baseline's L2-UVP, reported beside
// every result; these pairs are easier than Korotin's trained ones.
//
// Example:
//   auto pair = maps::KnownMapPair::make(/*dim=*/16, /*seed=*/0);
//   at::Tensor x = pair.source()->sample(4096, gen);
//   double uvp = metrics::l2_uvp(model.forward(x), pair.optimal_map(x), pair.target_variance());
#pragma once

#include <memory>

#include "wbary/data/sampler.h"
#include "wbary/metrics/transport_map.h"

namespace wbary::maps {

/// psi(x) = sum_k c_k tau softplus((a_k.x + b_k)/tau) + (s/2)|x|^2, then
/// (psi - m.x)/sqrt(v). Convex: a non-negative sum of convex functions.
class RidgePotential {
 public:
  /// psi(x) = strong_convexity |x|^2 / 2 + sum of softplus ridges; its gradient is the known map.
  RidgePotential(at::Tensor directions, at::Tensor offsets, at::Tensor scales, double tau, double strong_convexity);
  /// psi(x), [n] (float64).
  at::Tensor value(const at::Tensor& x) const;
  /// grad psi(x), [n, d] (float64), in closed form.
  at::Tensor gradient(const at::Tensor& x) const;
  /// Replaces psi by (psi - m.x)/sqrt(v).
  void standardize(const at::Tensor& m, double v);
  /// Dimension d of the space.
  int64_t dim() const { return a_.size(1); }

 private:
  at::Tensor a_, b_, c_;  ///< [K, d], [K], [K]
  double tau_, s_;
  at::Tensor m_;          ///< [d]
  double scale_ = 1.0;    ///< 1/sqrt(v)
};

/// A pair of measures with a known optimal map, for W2-map benchmarks (L2-UVP).
class KnownMapPair {
 public:
  /// The pair in dimension `dim` drawn from `seed` (moments from 2^14 samples).
  static KnownMapPair make(int64_t dim, uint64_t seed);

  /// Dimension d of the space.
  int64_t dim() const { return psi_->dim(); }
  /// Samples of the source measure.
  std::shared_ptr<const data::Sampler> source() const { return source_; }
  /// Samples of the target measure (grad psi of the source).
  std::shared_ptr<const data::Sampler> target() const { return target_; }
  /// The potential whose gradient is the optimal map.
  const RidgePotential& potential() const { return *psi_; }
  /// T*(x) = grad psi(x).
  at::Tensor optimal_map(const at::Tensor& x) const { return psi_->gradient(x); }
  /// Var(Q): sum of per-coordinate variances, from 2^14 samples.
  double target_variance() const { return target_variance_; }
  /// The Gaussian baseline map fitted on 2^14 samples of each side.
  const metrics::LinearMap& linear_baseline() const { return linear_; }

 private:
  std::shared_ptr<RidgePotential> psi_;
  std::shared_ptr<const data::Sampler> source_, target_;
  double target_variance_ = 0;
  metrics::LinearMap linear_;
};

/// Korotin et al.'s RandomGaussianMixSampler(dim, num = 3) construction with
/// wbary's own random numbers (so not their exact instance).
class BenchmarkMixtureSampler : public data::Sampler {
 public:
  /// A seeded random Gaussian mixture in dimension dim.
  BenchmarkMixtureSampler(int64_t dim, uint64_t seed, int64_t components = 3);
  int64_t dim() const override { return centers_.size(1); }
  at::Tensor sample(int64_t n, at::Generator& gen) const override;
  std::string describe() const override;

 private:
  at::Tensor centers_;  ///< [k, d]
  at::Tensor maps_;     ///< [k, d, d]
  uint64_t seed_;
};

}  // namespace wbary::maps
