#include "wbary/nn/stacked_mlp.h"

#include <torch/autograd.h>

#include <cmath>

namespace wbary::nn {

StackedMlpImpl::StackedMlpImpl(int64_t count, int64_t dim, std::vector<int64_t> hidden, at::Generator& gen)
    : count_(count), dim_(dim) {
  std::vector<int64_t> sizes = {dim};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(1);
  const auto dbl = at::TensorOptions().dtype(at::kDouble);
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    // Glorot-uniform: U(-r, r), r = sqrt(6 / (fan_in + fan_out)).
    const double r = std::sqrt(6.0 / static_cast<double>(sizes[l] + sizes[l + 1]));
    at::Tensor w = (at::rand({count, sizes[l], sizes[l + 1]}, gen, dbl) * 2 - 1) * r;
    weight_.push_back(register_parameter("weight" + std::to_string(l), w.to(at::kFloat)));
    bias_.push_back(register_parameter("bias" + std::to_string(l), at::zeros({count, 1, sizes[l + 1]})));
  }
}

at::Tensor StackedMlpImpl::forward(const at::Tensor& x) const {
  at::Tensor z = x;
  for (size_t l = 0; l < weight_.size(); ++l) {
    z = at::baddbmm(bias_[l], z, weight_[l]);
    if (l + 1 < weight_.size()) z = at::relu(z);
  }
  return z.squeeze(-1);
}

at::Tensor StackedMlpImpl::gradient_of(int64_t k, const at::Tensor& x) const {
  const at::Tensor xr = x.to(weight_[0].options()).detach().requires_grad_(true);
  at::Tensor z = xr;
  for (size_t l = 0; l < weight_.size(); ++l) {
    z = at::addmm(bias_[l][k], z, weight_[l][k]);
    if (l + 1 < weight_.size()) z = at::relu(z);
  }
  return torch::autograd::grad({z.sum()}, {xr})[0].detach();
}

}  // namespace wbary::nn
