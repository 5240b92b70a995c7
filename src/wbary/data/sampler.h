// File: wbary/data/sampler.h
//
// A Sampler is a source of samples of one probability distribution on R^d:
// a synthetic law (Gaussian, mixture, uniform on a shape) or an empirical
// cloud loaded from a file. Solvers see marginals only through this
// interface (DESIGN.md §1, "measure / sampler").
//
// Randomness is counter-based: training batch number `step` of marginal
// `stream` is a pure function of (seed, stream, step). Resuming a run from
// a checkpoint therefore needs only the step counter, not the state of a
// random generator, and a resumed run draws exactly the batches an
// uninterrupted run would have drawn.
//
// Example:
//   auto s = data::make_sampler("gaussian:dim=16,seed=3");
//   at::Tensor y = s->batch(/*seed=*/0, /*stream=*/1, /*step=*/42, /*n=*/100);  // [100, 16]
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace wbary::data {

/// Mean and covariance of a Gaussian law (float64).
struct GaussianMoments {
  at::Tensor mean;        ///< [d]
  at::Tensor covariance;  ///< [d, d], symmetric positive definite
};

/// Mixes a run seed, a stream id and a counter into a 64-bit seed
/// (splitmix64 finaliser over the three words).
uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t counter);

/// A CPU generator seeded with `seed`.
at::Generator make_generator(uint64_t seed);

/// A marginal known through samples: draw(n, seed) returns n points [n, d], reproducibly.
class Sampler {
 public:
  virtual ~Sampler() = default;

  /// Dimension d of the samples.
  virtual int64_t dim() const = 0;

  /// n independent draws, [n, d] float64.
  virtual at::Tensor sample(int64_t n, at::Generator& gen) const = 0;

  /// Training batch `step` of stream `stream` under run seed `seed`, [n, d]
  /// float64. Synthetic laws draw fresh samples; empirical clouds walk
  /// through reshuffled epochs without replacement.
  virtual at::Tensor batch(uint64_t seed, uint64_t stream, int64_t step, int64_t n) const;

  /// The law's exact Gaussian moments, when it is a Gaussian.
  virtual std::optional<GaussianMoments> gaussian() const { return std::nullopt; }

  /// Human-readable description, e.g. "gaussian(dim=16, seed=3)" or "ring.npy (2000 x 2)".
  virtual std::string describe() const = 0;
};

}  // namespace wbary::data
