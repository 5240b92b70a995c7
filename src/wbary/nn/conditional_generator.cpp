#include "wbary/nn/conditional_generator.h"

namespace wbary::nn {

ConditionalGeneratorImpl::ConditionalGeneratorImpl(int64_t latent_dim, int64_t context_dim, int64_t dim,
                                                   GeneratorConfig config, bool film, at::Generator& gen)
    : latent_dim_(latent_dim) {
  body_ = register_module("body", Generator(latent_dim + context_dim, dim, config, gen));
  scale_ = register_parameter("scale", at::zeros({dim, context_dim}));
  shift_ = register_parameter("shift", at::zeros({dim, context_dim}));
  for (int64_t l = 0; film && l < body_->hidden_blocks(); ++l) {
    film_scale_.push_back(register_parameter("film_scale_" + std::to_string(l), at::zeros({body_->width(), context_dim})));
    film_shift_.push_back(register_parameter("film_shift_" + std::to_string(l), at::zeros({body_->width(), context_dim})));
  }
}

at::Tensor ConditionalGeneratorImpl::forward(const at::Tensor& z, const at::Tensor& c) {
  std::vector<std::pair<at::Tensor, at::Tensor>> film;
  for (size_t l = 0; l < film_scale_.size(); ++l) {
    film.emplace_back(1 + at::mm(c, film_scale_[l].t()), at::mm(c, film_shift_[l].t()));
  }
  const at::Tensor y = body_->forward(at::cat({z, c}, 1), film);
  return y * (1 + at::mm(c, scale_.t())) + at::mm(c, shift_.t());
}

}  // namespace wbary::nn
