#include "wbary/grid/barycentric_unet.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/instancenorm.h>

#include <nlohmann/json.hpp>

#include "wbary/error.h"

namespace wbary::grid {
namespace {

torch::nn::Sequential conv_block(int64_t in, int64_t out) {
  torch::nn::Sequential s;
  for (int i = 0; i < 2; ++i) {
    s->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(i == 0 ? in : out, out, 3).padding(1)));
    s->push_back(torch::nn::InstanceNorm2d(torch::nn::InstanceNorm2dOptions(out).affine(true)));
    s->push_back(torch::nn::ReLU());
  }
  return s;
}

at::Tensor run(torch::nn::ModuleList& list, size_t i, const at::Tensor& x) {
  return list[i]->as<torch::nn::Sequential>()->forward(x);
}

// sum_k w_k feature_k: [B K, C, h, w] -> [B, C, h, w].
at::Tensor fuse(const at::Tensor& features, const at::Tensor& weights) {
  const int64_t B = weights.size(0), K = weights.size(1);
  const at::Tensor f = features.view({B, K, features.size(1), features.size(2), features.size(3)});
  return (f * weights.view({B, K, 1, 1, 1})).sum(1);
}

}  // namespace

void UNetConfig::validate() const {
  if (base_channels < 1 || levels < 1 || levels > 8) {
    throw InvalidArgument("U-Net: need base_channels >= 1 and 1 <= levels <= 8");
  }
}

nlohmann::json to_json(const UNetConfig& c) { return {{"base_channels", c.base_channels}, {"levels", c.levels}}; }

void update_from_json(UNetConfig& c, const nlohmann::json& j) {
  for (const auto& [key, value] : j.items()) {
    if (key == "base_channels") c.base_channels = value.get<int64_t>();
    else if (key == "levels") c.levels = value.get<int64_t>();
    else throw InvalidArgument("U-Net config: unknown key '" + key + "'");
  }
}

BarycentricUNetImpl::BarycentricUNetImpl(UNetConfig config) : config_(config) {
  config_.validate();
  encoder_ = register_module("encoder", torch::nn::ModuleList());
  decoder_ = register_module("decoder", torch::nn::ModuleList());
  bottleneck_ = register_module("bottleneck", torch::nn::ModuleList());
  head_ = register_module("head", torch::nn::ModuleList());
  const int64_t c0 = config_.base_channels, L = config_.levels;
  int64_t in = 1;
  for (int64_t l = 0; l < L; ++l) {
    encoder_->push_back(conv_block(in, c0 << l));
    in = c0 << l;
  }
  bottleneck_->push_back(conv_block(in, c0 << L));
  int64_t below = c0 << L;
  for (int64_t l = L - 1; l >= 0; --l) {
    decoder_->push_back(conv_block(below + (c0 << l), c0 << l));
    below = c0 << l;
  }
  torch::nn::Sequential head;
  head->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(c0, 1, 3).padding(1)));
  head_->push_back(head);
}

at::Tensor BarycentricUNetImpl::logits(const at::Tensor& images, const at::Tensor& weights) {
  if (images.dim() != 4 || weights.dim() != 2 || images.size(0) != weights.size(0) ||
      images.size(1) != weights.size(1)) {
    throw InvalidArgument("BarycentricUNet: expected images [B, K, n, n] and weights [B, K]");
  }
  const int64_t B = images.size(0), K = images.size(1), h = images.size(2), w = images.size(3);
  const int64_t unit = int64_t{1} << config_.levels;
  if (h % unit != 0 || w % unit != 0) {
    throw InvalidArgument("BarycentricUNet: image size " + std::to_string(h) + "x" + std::to_string(w) +
                          " is not divisible by 2^levels = " + std::to_string(unit));
  }
  // Probability images have entries ~ 1/n^2; rescale so that a uniform image is 1.
  at::Tensor x = images.reshape({B * K, 1, h, w}) * static_cast<double>(h * w);
  std::vector<at::Tensor> skips;
  for (int64_t l = 0; l < config_.levels; ++l) {
    x = run(encoder_, l, x);
    skips.push_back(fuse(x, weights));
    x = torch::nn::functional::avg_pool2d(x, torch::nn::functional::AvgPool2dFuncOptions(2));
  }
  x = fuse(run(bottleneck_, 0, x), weights);
  for (int64_t l = config_.levels - 1, i = 0; l >= 0; --l, ++i) {
    x = torch::nn::functional::interpolate(
        x, torch::nn::functional::InterpolateFuncOptions().scale_factor(std::vector<double>{2, 2}).mode(torch::kNearest));
    x = run(decoder_, i, at::cat({x, skips[l]}, 1));
  }
  return run(head_, 0, x).view({B, h * w});
}

at::Tensor BarycentricUNetImpl::forward(const at::Tensor& images, const at::Tensor& weights) {
  return at::softmax(logits(images, weights), 1).view({images.size(0), images.size(2), images.size(3)});
}

at::Tensor BarycentricUNetImpl::log_forward(const at::Tensor& images, const at::Tensor& weights) {
  return at::log_softmax(logits(images, weights), 1).view({images.size(0), images.size(2), images.size(3)});
}

}  // namespace wbary::grid
