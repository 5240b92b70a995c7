// NWB's generator h and NWB-II's conditional generator h(z, w)
// (nn/generator.h, nn/conditional_generator.h): the FiLM-modulated forward
// pass against a layer-by-layer reference written here from the module's
// parameters, and the conditional generator's FiLM terms starting neutral
// and learning.
#include <gtest/gtest.h>

#include <torch/autograd.h>
#include <torch/nn/functional/batchnorm.h>

#include <map>
#include <string>

#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/nn/conditional_generator.h"
#include "wbary/nn/generator.h"

namespace wbary::nn {
namespace {

std::map<std::string, at::Tensor> parameters_of(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value();
  return out;
}

GeneratorConfig small_config() {
  GeneratorConfig c;
  c.width = 6;
  c.hidden_layers = 2;
  return c;
}

// The modulated forward pass against a reference written from the
// parameters: Linear, then for hidden blocks BatchNorm (batch statistics,
// biased variance, eps 1e-5) when configured, the modulation, PReLU; the last
// Linear and the final PReLU.
void expect_modulated_forward_matches_reference(bool batch_norm) {
  at::Generator gen = data::make_generator(4);
  GeneratorConfig config = small_config();
  config.batch_norm = batch_norm;
  Generator h(3, 2, config, gen);
  h->to(at::kDouble);
  h->train();  // BatchNorm on batch statistics, as in training
  ASSERT_EQ(h->hidden_blocks(), 2);
  const at::Tensor z = at::randn({20, 3}, gen, at::kDouble);
  std::vector<std::pair<at::Tensor, at::Tensor>> film;
  for (int k = 0; k < 2; ++k) {
    // Per-sample scales and a shared shift: both broadcast shapes occur in use.
    film.emplace_back(1 + 0.3 * at::randn({20, 6}, gen, at::kDouble), at::randn({1, 6}, gen, at::kDouble));
  }
  const at::Tensor out = h->forward(z, film);

  auto p = parameters_of(*h);
  auto prelu = [&](const at::Tensor& x, int l) {
    return at::where(x > 0, x, p["activations." + std::to_string(l) + ".weight"] * x);
  };
  at::Tensor x = at::linear(z, p["linears.0.weight"], p["linears.0.bias"]);
  x = prelu(x, 0);
  for (int l = 1; l <= 2; ++l) {
    x = at::linear(x, p["linears." + std::to_string(l) + ".weight"], p["linears." + std::to_string(l) + ".bias"]);
    if (batch_norm) {
      const at::Tensor mean = x.mean(0), var = x.var(0, /*unbiased=*/false);
      const std::string bn = "norms." + std::to_string(l - 1);
      x = (x - mean) / at::sqrt(var + 1e-5) * p[bn + ".weight"] + p[bn + ".bias"];
    }
    x = x * film[l - 1].first + film[l - 1].second;
    x = prelu(x, l);
  }
  x = prelu(at::linear(x, p["linears.3.weight"], p["linears.3.bias"]), 3);
  // float64, the same operations in the same order up to BatchNorm's fused kernel.
  EXPECT_TRUE(at::allclose(out, x, 1e-12, 1e-12)) << (out - x).abs().max().item<double>();

  // Neutral modulation is the plain forward pass.
  std::vector<std::pair<at::Tensor, at::Tensor>> neutral(2, {at::ones({1, 6}, at::kDouble), at::zeros({1, 6}, at::kDouble)});
  EXPECT_TRUE(at::allclose(h->forward(z, neutral), h->forward(z), 0, 1e-14));
  film.pop_back();
  EXPECT_THROW(h->forward(z, film), InvalidArgument);
}

TEST(Generator, ModulatedForwardEqualsTheLayerByLayerReference) { expect_modulated_forward_matches_reference(true); }

TEST(Generator, ModulatedForwardWithoutBatchNormEqualsTheReference) {
  expect_modulated_forward_matches_reference(false);
}

TEST(ConditionalGenerator, FilmStartsNeutralAndLetsAConstantContextMoveHiddenFeatures) {
  at::Generator gen = data::make_generator(9);
  ConditionalGenerator h(2, 3, 2, small_config(), /*film=*/true, gen);
  h->to(at::kDouble);
  h->train();
  auto p = parameters_of(*h);
  ASSERT_EQ(p.count("film_scale_0") + p.count("film_scale_1") + p.count("film_shift_0") + p.count("film_shift_1"), 4u);
  const at::Tensor z = at::randn({64, 2}, gen, at::kDouble);
  const at::Tensor c = at::tensor({0.2, 0.5, 0.3}, at::kDouble).expand({64, 3});
  // At initialisation (FiLM and the output affine zero) h is the body on [z, c].
  const at::Tensor before = h->forward(z, c);
  {
    torch::NoGradGuard ng;
    for (const char* name : {"film_scale_0", "film_shift_0", "film_scale_1", "film_shift_1"}) {
      EXPECT_EQ(p[name].abs().max().item<double>(), 0.0) << name;
    }
  }
  // Without film the generator has none.
  at::Generator gen2 = data::make_generator(9);
  EXPECT_EQ(parameters_of(*ConditionalGenerator(2, 3, 2, small_config(), /*film=*/false, gen2)).count("film_scale_0"), 0u);
  // The FiLM terms get gradient from a loss on the output, so they learn.
  h->zero_grad();
  before.pow(2).sum().backward();
  for (const char* name : {"film_scale_1", "film_shift_1"}) {
    ASSERT_TRUE(p[name].grad().defined()) << name;
    EXPECT_GT(p[name].grad().abs().max().item<double>(), 0.0) << name;
  }
  // With FiLM set, a context that is constant over the batch moves the output
  // although BatchNorm re-centres the first layer's c-dependent part.
  {
    torch::NoGradGuard ng;
    p["film_shift_1"].copy_(at::randn(p["film_shift_1"].sizes(), gen, at::kDouble));
  }
  const at::Tensor c2 = at::tensor({0.6, 0.1, 0.3}, at::kDouble).expand({64, 3});
  torch::NoGradGuard ng;
  const double moved = (h->forward(z, c2) - h->forward(z, c)).abs().max().item<double>();
  EXPECT_GT(moved, 1e-3);
}

}  // namespace
}  // namespace wbary::nn
