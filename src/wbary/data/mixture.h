// File: wbary/data/mixture.h
//
// Equal-weight mixtures of isotropic Gaussians: the 2-D test laws of the
// NWB paper (Fig. 3, the GAN mode of §3.4) and of the robust-barycenter
// poster. Means are given explicitly or placed on a circle (d = 2) /
// at random directions (d > 2) at a given radius.
//
// Example:
//   auto m = data::GaussianMixtureSampler::on_circle(/*dim=*/2, /*components=*/8,
//                                                   /*radius=*/4, /*std=*/0.3, /*seed=*/0);
#pragma once

#include "wbary/data/sampler.h"

namespace wbary::data {

/// Draws from a Gaussian mixture (components, weights).
class GaussianMixtureSampler : public Sampler {
 public:
  /// `means` is [k, d]; `weights` [k] non-negative (normalised here).
  GaussianMixtureSampler(at::Tensor means, double std, at::Tensor weights, std::string description);

  /// Equal-weight isotropic components with means on a circle of this radius in the first two axes.
  static GaussianMixtureSampler on_circle(int64_t dim, int64_t components, double radius,
                                          double std, uint64_t seed);

  int64_t dim() const override { return means_.size(1); }
  at::Tensor sample(int64_t n, at::Generator& gen) const override;
  std::string describe() const override { return description_; }

  /// Component means [K, d].
  const at::Tensor& means() const { return means_; }

 private:
  at::Tensor means_;
  double std_;
  at::Tensor weights_;
  std::string description_;
};

}  // namespace wbary::data
