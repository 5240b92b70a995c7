#include "wbary/data/mixture.h"

#include <cmath>
#include <sstream>

#include "wbary/error.h"

namespace wbary::data {

GaussianMixtureSampler::GaussianMixtureSampler(at::Tensor means, double std, at::Tensor weights,
                                               std::string description)
    : means_(means.to(at::kDouble).contiguous()),
      std_(std),
      weights_(weights.to(at::kDouble)),
      description_(std::move(description)) {
  if (means_.dim() != 2 || means_.size(0) < 1) {
    throw InvalidArgument("mixture: means must be a [k, d] matrix with k >= 1");
  }
  if (!(std > 0)) throw InvalidArgument("mixture: std=" + std::to_string(std) + ", expected > 0");
  if (weights_.numel() != means_.size(0) || (weights_ < 0).any().item<bool>() ||
      !(weights_.sum().item<double>() > 0)) {
    throw InvalidArgument("mixture: weights must be k non-negative numbers with a positive sum");
  }
  weights_ = weights_ / weights_.sum();
}

GaussianMixtureSampler GaussianMixtureSampler::on_circle(int64_t dim, int64_t components,
                                                         double radius, double std, uint64_t seed) {
  if (dim < 1 || components < 1) {
    throw InvalidArgument("mixture: dim and k must be >= 1");
  }
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor means;
  if (dim == 2) {
    at::Tensor angle = at::arange(components, opts) * (2 * M_PI / static_cast<double>(components));
    means = radius * at::stack({at::cos(angle), at::sin(angle)}, 1);
  } else {
    at::Generator gen = make_generator(derive_seed(seed, 0x6d6978ULL, 0));
    at::Tensor dir = at::randn({components, dim}, gen, opts);
    means = radius * dir / dir.norm(2, {1}, true);
  }
  std::ostringstream desc;
  desc << "mixture(dim=" << dim << ", k=" << components << ", radius=" << radius
       << ", std=" << std << ")";
  return GaussianMixtureSampler(means, std, at::ones({components}, opts), desc.str());
}

at::Tensor GaussianMixtureSampler::sample(int64_t n, at::Generator& gen) const {
  at::Tensor idx = at::multinomial(weights_, n, /*replacement=*/true, gen);
  at::Tensor noise = at::randn({n, dim()}, gen, at::TensorOptions().dtype(at::kDouble));
  return means_.index_select(0, idx) + std_ * noise;
}

}  // namespace wbary::data
