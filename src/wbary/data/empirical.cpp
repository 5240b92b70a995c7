#include "wbary/data/empirical.h"

#include <algorithm>
#include <sstream>

#include "wbary/error.h"
#include "wbary/io/csv.h"
#include "wbary/io/npy.h"

namespace wbary::data {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.rbegin(), suffix.rend(), s.rbegin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); });
}

}  // namespace

at::Tensor read_points(const std::string& path) {
  io::Table t;
  if (ends_with(path, ".npy")) {
    t = io::read_npy(path);
  } else if (ends_with(path, ".csv") || ends_with(path, ".txt")) {
    t = io::read_csv(path);
  } else {
    throw IoError(path + ": unknown file type, expected a .npy or .csv point cloud");
  }
  if (t.shape.size() == 1) t.shape = {t.shape[0], 1};  // n scalars = n points in R^1
  if (t.shape.size() != 2) {
    std::ostringstream msg;
    msg << path << ": array has " << t.shape.size() << " dimensions, expected a 2-D [n, d] point cloud";
    throw IoError(msg.str());
  }
  if (t.shape[0] == 0 || t.shape[1] == 0) {
    throw IoError(path + ": empty point cloud (shape [" + std::to_string(t.shape[0]) + ", " +
                  std::to_string(t.shape[1]) + "]), expected at least one point");
  }
  io::require_finite(t, path);
  return at::tensor(t.values, at::TensorOptions().dtype(at::kDouble)).reshape({t.shape[0], t.shape[1]});
}

void write_points(const std::string& path, const at::Tensor& points, bool exact) {
  at::Tensor p = points.detach().to(at::kCPU).to(at::kDouble).contiguous();
  if (p.dim() == 1) p = p.unsqueeze(1);
  io::Table t;
  t.shape = {p.size(0), p.size(1)};
  t.values.assign(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
  if (ends_with(path, ".csv")) {
    io::write_csv(path, t, exact ? 17 : 9);
  } else if (ends_with(path, ".npy")) {
    io::write_npy(path, t, exact ? io::NpyDtype::kFloat64 : io::NpyDtype::kFloat32);
  } else {
    throw IoError(path + ": unknown output type, expected a .npy or .csv file name");
  }
}

EmpiricalSampler::EmpiricalSampler(at::Tensor points, std::string source)
    : points_(points.to(at::kDouble).contiguous()), source_(std::move(source)) {
  if (points_.dim() != 2 || points_.size(0) == 0) {
    throw InvalidArgument(source_ + ": expected a non-empty [n, d] point cloud");
  }
  if (!at::isfinite(points_).all().item<bool>()) {
    throw InvalidArgument(source_ + ": point cloud contains NaN or Inf");
  }
}

EmpiricalSampler EmpiricalSampler::load(const std::string& path) {
  return EmpiricalSampler(read_points(path), path);
}

at::Tensor EmpiricalSampler::sample(int64_t n, at::Generator& gen) const {
  at::Tensor idx = at::randint(size(), {n}, gen, at::TensorOptions().dtype(at::kLong));
  return points_.index_select(0, idx);
}

at::Tensor EmpiricalSampler::batch(uint64_t seed, uint64_t stream, int64_t step, int64_t n) const {
  if (n > size()) {
    throw InvalidArgument(source_ + ": has " + std::to_string(size()) +
                          " points, fewer than the batch size " + std::to_string(n) +
                          " (lower --batch-size)");
  }
  const int64_t per_epoch = size() / n;
  const int64_t epoch = step / per_epoch;
  const int64_t offset = (step % per_epoch) * n;
  std::lock_guard<std::mutex> lock(cache_->mutex);
  if (cache_->epoch != epoch || cache_->seed != seed || cache_->stream != stream) {
    at::Generator gen = make_generator(derive_seed(seed, stream, static_cast<uint64_t>(epoch)));
    cache_->permutation = at::randperm(size(), gen, at::TensorOptions().dtype(at::kLong));
    cache_->seed = seed;
    cache_->stream = stream;
    cache_->epoch = epoch;
  }
  return points_.index_select(0, cache_->permutation.narrow(0, offset, n));
}

std::string EmpiricalSampler::describe() const {
  return source_ + " (" + std::to_string(size()) + " x " + std::to_string(dim()) + ")";
}

}  // namespace wbary::data
