#include "wbary/nn/generator.h"

#include <torch/nn/init.h>
#include <torch/utils.h>

#include <cmath>

#include "wbary/error.h"

namespace wbary::nn {

int64_t resolved_generator_width(const GeneratorConfig& config, int64_t dim) {
  if (config.width > 0) return config.width;
  // The authors' per-dimension widths (NWB1_gmm.py), linearly interpolated.
  static const double table[][2] = {{2, 10}, {16, 32}, {64, 100}, {128, 160}, {256, 280}};
  double width = table[0][1];
  if (dim >= 256) {
    width = 280.0 * static_cast<double>(dim) / 256.0;
  } else {
    for (int k = 0; k + 1 < 5; ++k) {
      if (dim >= table[k][0] && dim <= table[k + 1][0]) {
        const double t = (dim - table[k][0]) / (table[k + 1][0] - table[k][0]);
        width = table[k][1] + t * (table[k + 1][1] - table[k][1]);
      }
    }
  }
  return std::max<int64_t>(32, std::lround(width));
}

GeneratorImpl::GeneratorImpl(int64_t latent_dim, int64_t dim, GeneratorConfig config, at::Generator& gen)
    : latent_dim_(latent_dim), dim_(dim), config_(config) {
  if (latent_dim < 1 || dim < 1) throw InvalidArgument("Generator: dimensions must be >= 1");
  if (config.width < 1) throw InvalidArgument("generator width: got " + std::to_string(config.width) + ", expected >= 1");
  if (config.hidden_layers < 0) throw InvalidArgument("generator hidden layers must be >= 0");
  const int64_t H = config.width;
  linears_ = register_module("linears", torch::nn::ModuleList());
  norms_ = register_module("norms", torch::nn::ModuleList());
  activations_ = register_module("activations", torch::nn::ModuleList());
  std::vector<std::pair<int64_t, int64_t>> shapes = {{latent_dim, H}};
  for (int64_t l = 0; l < config.hidden_layers; ++l) shapes.emplace_back(H, H);
  shapes.emplace_back(H, dim);
  for (size_t l = 0; l < shapes.size(); ++l) {
    torch::nn::Linear lin(shapes[l].first, shapes[l].second);
    const double bound = 1.0 / std::sqrt(static_cast<double>(shapes[l].first));
    {
      torch::NoGradGuard no_grad;
      lin->weight.copy_((at::rand(lin->weight.sizes(), gen) * 2 - 1) * bound);
      lin->bias.copy_((at::rand(lin->bias.sizes(), gen) * 2 - 1) * bound);
    }
    linears_->push_back(lin);
    const bool last = l + 1 == shapes.size();
    if (!last || config.final_activation) {
      activations_->push_back(torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(1).init(0.25)));
    }
    if (!last && l > 0 && config.batch_norm) {
      norms_->push_back(torch::nn::BatchNorm1d(H));
    }
  }
}

at::Tensor GeneratorImpl::forward(at::Tensor z) { return forward(std::move(z), {}); }

void GeneratorImpl::check_modulation_count(size_t count) const {
  if (count != 0 && static_cast<int64_t>(count) != hidden_blocks()) {
    throw InvalidArgument("Generator: " + std::to_string(count) + " modulations for " +
                          std::to_string(hidden_blocks()) + " hidden blocks");
  }
}

at::Tensor GeneratorImpl::forward(at::Tensor z, const std::vector<std::pair<at::Tensor, at::Tensor>>& modulation) {
  check_modulation_count(modulation.size());
  const size_t n_lin = linears_->size();
  for (size_t l = 0; l < n_lin; ++l) {
    z = linears_[l]->as<torch::nn::Linear>()->forward(z);
    const bool last = l + 1 == n_lin;
    if (!last && l > 0) {
      if (config_.batch_norm) z = norms_[l - 1]->as<torch::nn::BatchNorm1d>()->forward(z);
      if (!modulation.empty()) z = at::addcmul(modulation[l - 1].second, z, modulation[l - 1].first);
    }
    if (!last || config_.final_activation) z = activations_[l]->as<torch::nn::PReLU>()->forward(z);
  }
  return z;
}

}  // namespace wbary::nn
