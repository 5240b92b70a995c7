// File: wbary/data/empirical.h
//
// An empirical measure: a fixed cloud of n points in R^d, loaded from a
// .npy (float32/float64, C order) or .csv file. Training batches walk
// through epochs: each epoch is a fresh permutation (seeded by the run
// seed, the marginal and the epoch number) cut into consecutive batches,
// so every point is used once per epoch (mini-batches without
// replacement; a final partial batch is dropped, as with drop_last).
//
// Example:
//   data::EmpiricalSampler cloud = data::EmpiricalSampler::load("ring.npy");
//   at::Tensor y = cloud.batch(seed, /*stream=*/0, /*step=*/7, /*n=*/100);
#pragma once

#include <memory>
#include <mutex>

#include "wbary/data/sampler.h"

namespace wbary::data {

/// Draws with replacement from a stored point cloud (a .npy / .csv file or a tensor).
class EmpiricalSampler : public Sampler {
 public:
  /// `points` is [n, d]; throws InvalidArgument on an empty or non-finite cloud.
  EmpiricalSampler(at::Tensor points, std::string source);

  /// Reads .npy or .csv (by extension). Errors name the file.
  static EmpiricalSampler load(const std::string& path);

  int64_t dim() const override { return points_.size(1); }
  /// Number of stored points.
  int64_t size() const { return points_.size(0); }
  /// The stored cloud [n, d].
  const at::Tensor& points() const { return points_; }

  /// Uniform draws with replacement.
  at::Tensor sample(int64_t n, at::Generator& gen) const override;
  /// Epoch-wise batches without replacement; n must not exceed size().
  at::Tensor batch(uint64_t seed, uint64_t stream, int64_t step, int64_t n) const override;
  std::string describe() const override;

 private:
  /// The permutation of the epoch last asked for: one randperm per epoch
  /// instead of one per batch (an O(n) draw on every training step).
  struct EpochCache {
    std::mutex mutex;
    uint64_t seed = 0, stream = 0;
    int64_t epoch = -1;
    at::Tensor permutation;
  };

  at::Tensor points_;
  std::string source_;
  std::shared_ptr<EpochCache> cache_ = std::make_shared<EpochCache>();
};

/// Reads a [n, d] point cloud (float64 tensor) from .npy or .csv, checking
/// shape and finiteness; errors name the file.
at::Tensor read_points(const std::string& path);

/// Writes a [n, d] tensor to .npy or .csv, by extension, atomically: float32
/// (.npy) / 9 digits (.csv) for samples, where that is ample; float64 / 17
/// digits with `exact` for solver results users compare to other solvers'.
void write_points(const std::string& path, const at::Tensor& points, bool exact = false);

}  // namespace wbary::data
