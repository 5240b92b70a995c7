// File: wbary/data/gaussian.h
//
// Gaussian laws N(m, Σ), and the random covariances of the NWB paper's
// scalability experiment (Fan et al. 2021, §4.2; reference/nwb-authors.md
// §1.5): eigenvalues uniform in [0.5, 5] with uniformly random
// eigenvectors, so the condition number is below 10.
//
// Example:
//   data::GaussianSampler g = data::GaussianSampler::random(/*dim=*/16, /*seed=*/3);
//   at::Tensor x = g.sample(1000, gen);
#pragma once

#include "wbary/data/sampler.h"

namespace wbary::data {

/// Draws from N(mean, covariance), exactly, through the covariance's Cholesky factor.
class GaussianSampler : public Sampler {
 public:
  /// Throws InvalidArgument if the covariance is not symmetric positive
  /// definite or the shapes disagree.
  GaussianSampler(at::Tensor mean, at::Tensor covariance, std::string description = "");

  /// Zero mean (plus `shift` in every coordinate) and a random covariance
  /// with eigenvalues uniform in [eig_min, eig_max].
  static GaussianSampler random(int64_t dim, uint64_t seed, double eig_min = 0.5,
                                double eig_max = 5.0, double shift = 0.0);

  int64_t dim() const override { return mean_.size(0); }
  at::Tensor sample(int64_t n, at::Generator& gen) const override;
  std::optional<GaussianMoments> gaussian() const override { return GaussianMoments{mean_, cov_}; }
  std::string describe() const override { return description_; }

 private:
  at::Tensor mean_;
  at::Tensor cov_;
  at::Tensor chol_;  ///< lower Cholesky factor of cov_
  std::string description_;
};

}  // namespace wbary::data
