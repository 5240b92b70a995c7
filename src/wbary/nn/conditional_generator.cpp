#include "wbary/nn/conditional_generator.h"

namespace wbary::nn {

ConditionalGeneratorImpl::ConditionalGeneratorImpl(int64_t latent_dim, int64_t context_dim, int64_t dim,
                                                   GeneratorConfig config, at::Generator& gen)
    : latent_dim_(latent_dim) {
  body_ = register_module("body", Generator(latent_dim + context_dim, dim, config, gen));
  scale_ = register_parameter("scale", at::zeros({dim, context_dim}));
  shift_ = register_parameter("shift", at::zeros({dim, context_dim}));
}

at::Tensor ConditionalGeneratorImpl::forward(const at::Tensor& z, const at::Tensor& c) {
  const at::Tensor y = body_->forward(at::cat({z, c}, 1));
  return y * (1 + at::mm(c, scale_.t())) + at::mm(c, shift_.t());
}

}  // namespace wbary::nn
