// File: wbary/nn/generator.h
//
// The generator h: R^k -> R^d whose push-forward h#eta of a standard
// Gaussian represents the barycenter (Fan et al. 2021, §3.2, eq. 9). The
// architecture is the authors' Average_Weights_NormalNet
// (reference/nwb-authors.md §1.2): Linear + PReLU, then hidden blocks of
// Linear + BatchNorm + PReLU, then Linear and (by default) a final PReLU.
// Every PReLU has one learnable slope initialised to 0.25.
//
// Example:
//   nn::Generator h(/*latent=*/2, /*dim=*/2, nn::GeneratorConfig{}, gen);
//   at::Tensor y = h->forward(at::randn({100, 2}));
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace wbary::nn {

/// The generator h's latent dimension, width and depth.
struct GeneratorConfig {
  /// Linear+BN+PReLU blocks after the first layer (NUM_LAYERS_h = 3).
  int64_t hidden_layers = 3;
  /// Neurons per layer. 0 = automatic: the paper's Gaussian setting
  /// (NWB1_gmm.py: d = 2 -> 10, 16 -> 32, 64 -> 100, 128 -> 160, 256 -> 280,
  /// interpolated between), but at least 32 (the authors' default H_h).
  int64_t width = 0;
  /// BatchNorm1d in the hidden blocks (batch_nml = 1).
  bool batch_norm = true;
  /// PReLU on the output layer too (final_actv = 'Prelu').
  bool final_activation = true;
};

/// Width actually used for dimension `dim` (resolves width == 0).
int64_t resolved_generator_width(const GeneratorConfig& config, int64_t dim);

/// NWB's generator h: an MLP from the latent space to the barycenter's samples.
class GeneratorImpl : public torch::nn::Module {
 public:
  /// Initialised as PyTorch's defaults (Kaiming-uniform Linear, PReLU 0.25,
  /// BatchNorm weight 1 / bias 0), drawing from `gen` for reproducibility.
  GeneratorImpl(int64_t latent_dim, int64_t dim, GeneratorConfig config, at::Generator& gen);

  /// [n, latent] -> [n, dim].
  at::Tensor forward(at::Tensor z);
  /// The same with each hidden block's features scaled and shifted by
  /// modulation[k] = {scale, shift} ([n or 1, width] each) before its
  /// activation (after its BatchNorm when there is one): FiLM (Perez et al.
  /// 2018), how a context that is constant over a batch reaches features
  /// that BatchNorm re-centres, and a multiplicative path for it without
  /// BatchNorm (nn/conditional_generator.h). One pair per hidden block
  /// (hidden_blocks()).
  at::Tensor forward(at::Tensor z, const std::vector<std::pair<at::Tensor, at::Tensor>>& modulation);
  /// Number of width x width blocks between the first and the last layer
  /// (GeneratorConfig::hidden_layers); each has a BatchNorm when batch_norm.
  int64_t hidden_blocks() const { return config_.hidden_layers; }
  /// Throws InvalidArgument unless `count` modulations fit (0 or hidden_blocks()).
  void check_modulation_count(size_t count) const;
  /// Neurons per hidden layer.
  int64_t width() const { return config_.width; }

  /// Dimension of the generator's latent space.
  int64_t latent_dim() const { return latent_dim_; }
  /// Output dimension d (the barycenter's).
  int64_t dim() const { return dim_; }
  // The layers, for passes written outside autograd (nn/generator_cpu.h):
  // layer l is linears()[l], then norms()[l - 1] for hidden blocks l >= 1
  // (batch_norm), then activations()[l] (every layer but the last unless
  // final_activation).
  /// The configuration the generator was built with.
  const GeneratorConfig& config() const { return config_; }
  /// The Linear layers, first to last.
  torch::nn::ModuleList& linears() { return linears_; }
  /// The hidden blocks' BatchNorm1d layers (empty without batch_norm).
  torch::nn::ModuleList& norms() { return norms_; }
  /// The PReLU layers, one per Linear but the last (and the last's when final_activation).
  torch::nn::ModuleList& activations() { return activations_; }

 private:
  int64_t latent_dim_;
  int64_t dim_;
  GeneratorConfig config_;
  torch::nn::ModuleList linears_;
  torch::nn::ModuleList norms_;
  torch::nn::ModuleList activations_;
};
TORCH_MODULE(Generator);

}  // namespace wbary::nn
