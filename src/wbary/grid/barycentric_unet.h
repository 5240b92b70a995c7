// File: wbary/grid/barycentric_unet.h
//
// The network of "Learning to generate Wasserstein barycenters" (Lacombe,
// Digne, Courty, Bonneel; reference/learned-grid.md §5.1), reimplemented
// from the description: one shared encoder applied to each input image;
// the bottleneck and every skip connection combined across the K inputs by
// the w-weighted sum; a decoder (nearest x2 upsampling, concatenation with
// the combined skip, conv blocks); a final 3x3 conv to one channel and a
// softmax over all pixels, so the output is a probability image. Because
// the fusion is a weighted sum, a network trained on pairs accepts any
// number of inputs, and permuting inputs together with their weights
// leaves the output unchanged.
//
// Blocks are [conv 3x3 -> InstanceNorm (affine) -> ReLU] x 2 per level,
// channels base * {1, 2, 4, ...}, 2x2 average pooling between levels. The
// authors use base 32 and 5 levels at 512^2 (22 M parameters); the default
// here, base 16 and 3 levels, is sized for 64^2 on a CPU (~0.3 M).
// Any n divisible by 2^levels works: the network is fully convolutional.
//
// Example:
//   grid::BarycentricUNet net(grid::UNetConfig{});
//   at::Tensor bary = net->forward(images, weights);   // [B, K, n, n], [B, K] -> [B, n, n]
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <nlohmann/json_fwd.hpp>

namespace wbary::grid {

/// The U-Net's depth and widths.
struct UNetConfig {
  int64_t base_channels = 16;  ///< channels of the first level (authors: 32)
  int64_t levels = 3;          ///< pooling levels (authors: 5 at 512^2)

  /// Throws InvalidArgument naming the field when a value is out of range.
  void validate() const;
};

nlohmann::json to_json(const UNetConfig& config);
void update_from_json(UNetConfig& config, const nlohmann::json& j);

/// The U-Net that predicts a grid barycenter from its inputs and weights (Lacombe et al.).
class BarycentricUNetImpl : public torch::nn::Module {
 public:
  /// A freshly initialised network.
  explicit BarycentricUNetImpl(UNetConfig config);

  /// images [B, K, n, n] (probability images), weights [B, K] (rows sum to
  /// 1) -> [B, n, n] probability images. n must be divisible by 2^levels.
  at::Tensor forward(const at::Tensor& images, const at::Tensor& weights);
  /// log of forward(), computed by log-softmax (the KL loss uses it).
  at::Tensor log_forward(const at::Tensor& images, const at::Tensor& weights);

  /// The configuration it was built with.
  const UNetConfig& config() const { return config_; }

 private:
  at::Tensor logits(const at::Tensor& images, const at::Tensor& weights);

  UNetConfig config_;
  torch::nn::ModuleList encoder_{nullptr};  ///< one block per level
  torch::nn::ModuleList bottleneck_{nullptr};
  torch::nn::ModuleList decoder_{nullptr};  ///< one block per level, deepest first
  torch::nn::ModuleList head_{nullptr};
};
TORCH_MODULE(BarycentricUNet);

}  // namespace wbary::grid
