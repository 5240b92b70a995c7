// NWB's generator h and NWB-II's conditional generator h(z, w)
// (nn/generator.h, nn/conditional_generator.h): the FiLM-modulated forward
// pass against a layer-by-layer reference written here from the module's
// parameters, the conditional generator's FiLM terms starting neutral
// and learning, and the closed-form training passes (nn/generator_cpu.h:
// NWB's h, NWB-II's h(z, w)) against autograd.
#include <gtest/gtest.h>

#include <torch/autograd.h>
#include <torch/nn/functional/batchnorm.h>

#include <map>
#include <string>

#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/nn/conditional_generator.h"
#include "wbary/nn/generator.h"
#include "wbary/nn/generator_cpu.h"

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

// |a - b| relative to max(|b|, 1): a Linear's bias in front of a BatchNorm
// has a zero gradient (the normalisation removes the mean), so both sides
// are round-off there and only an absolute comparison means anything.
double relative_to_unit(const at::Tensor& a, const at::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1.0)).item<double>();
}

// Every parameter's .grad() and every buffer (BatchNorm's running
// statistics and counter) of `mine` against `ref`, by name.
void expect_same_gradients_and_buffers(const torch::nn::Module& mine, const torch::nn::Module& ref, double tol,
                                       const std::string& what) {
  const auto mp = mine.named_parameters(), rp = ref.named_parameters();
  for (const auto& p : rp) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_LT(relative_to_unit(mp[p.key()].grad(), p.value().grad()), tol) << what << " gradient of " << p.key();
  }
  const auto mb = mine.named_buffers(), rb = ref.named_buffers();
  for (const auto& b : rb) {
    if (b.value().is_floating_point()) {
      EXPECT_LT(relative_to_unit(mb[b.key()], b.value()), tol) << what << " buffer " << b.key();
    } else {
      EXPECT_TRUE(at::equal(mb[b.key()], b.value())) << what << " buffer " << b.key();
    }
  }
}

// The closed-form h-update pass against the module's forward and autograd:
// two identical generators (same seed), one through GeneratorTrainingPass,
// one through forward() + backward() of sum(cotangent * h(z)), twice in a
// row (gradients accumulate, running statistics move twice). float64: every
// quantity is a short sum of products, so 1e-10 is round-off with margin;
// float32: 1e-4 relative.
template <typename T>
void expect_training_pass_matches_autograd(bool batch_norm, bool final_activation, int64_t hidden_layers) {
  const auto dtype = std::is_same_v<T, double> ? at::kDouble : at::kFloat;
  const double tol = std::is_same_v<T, double> ? 1e-10 : 1e-4;
  GeneratorConfig config = small_config();
  config.batch_norm = batch_norm;
  config.final_activation = final_activation;
  config.hidden_layers = hidden_layers;
  at::Generator g1 = data::make_generator(5), g2 = data::make_generator(5);
  Generator mine(3, 2, config, g1), ref(3, 2, config, g2);
  for (Generator* h : {&mine, &ref}) {
    (*h)->to(dtype);
    (*h)->train();
  }
  ASSERT_TRUE(cpu::GeneratorTrainingPass::supported(*mine));
  cpu::GeneratorTrainingPass pass;
  at::Generator gen = data::make_generator(6);
  const std::string what = "bn " + std::to_string(batch_norm) + " final " + std::to_string(final_activation) +
                           " hidden " + std::to_string(hidden_layers);
  for (int round = 0; round < 2; ++round) {
    const at::Tensor z = at::randn({20, 3}, gen, dtype), cot = at::randn({20, 2}, gen, dtype);
    const at::Tensor out = pass.forward(*mine, z);
    pass.backward(*mine, cot);
    const at::Tensor want = ref->forward(z);
    (want * cot).sum().backward();
    EXPECT_LT(relative_to_unit(out, want.detach()), tol) << what;
    expect_same_gradients_and_buffers(*mine, *ref, tol, what);
  }
}

TEST(GeneratorTrainingPass, MatchesAutogradInFloat64) {
  for (bool bn : {true, false}) {
    for (bool final_activation : {true, false}) {
      for (int64_t hidden : {0, 2}) expect_training_pass_matches_autograd<double>(bn, final_activation, hidden);
    }
  }
}

TEST(GeneratorTrainingPass, MatchesAutogradInFloat32) { expect_training_pass_matches_autograd<float>(true, true, 2); }

// NWB-II's h(z, c) through ConditionalGeneratorTrainingPass against the
// module's forward and autograd, with one context for the batch as in
// training; S, T and FiLM set away from their zero start so that every path
// carries weight. Tolerances as above (float64: round-off; float32: 1e-4).
template <typename T>
void expect_conditional_pass_matches_autograd(bool batch_norm, bool film) {
  const auto dtype = std::is_same_v<T, double> ? at::kDouble : at::kFloat;
  const double tol = std::is_same_v<T, double> ? 1e-10 : 1e-4;
  GeneratorConfig config = small_config();
  config.batch_norm = batch_norm;
  at::Generator g1 = data::make_generator(5), g2 = data::make_generator(5);
  ConditionalGenerator mine(2, 3, 2, config, film, g1), ref(2, 3, 2, config, film, g2);
  at::Generator gen = data::make_generator(8);
  for (ConditionalGenerator* h : {&mine, &ref}) {
    (*h)->to(dtype);
    (*h)->train();
  }
  {
    torch::NoGradGuard ng;
    auto mp = parameters_of(*mine), rp = parameters_of(*ref);
    for (auto& [name, p] : rp) {
      if (name.rfind("body.", 0) == 0) continue;
      p.copy_(0.3 * at::randn(p.sizes(), gen, dtype));
      mp[name].copy_(p);
    }
  }
  ASSERT_TRUE(cpu::ConditionalGeneratorTrainingPass::supported(*mine));
  cpu::ConditionalGeneratorTrainingPass pass;
  const std::string what = "bn " + std::to_string(batch_norm) + " film " + std::to_string(film);
  for (int round = 0; round < 2; ++round) {
    const at::Tensor z = at::randn({20, 2}, gen, dtype), cot = at::randn({20, 2}, gen, dtype);
    const at::Tensor c = at::rand({3}, gen, dtype);
    const at::Tensor out = pass.forward(*mine, z, c);
    pass.backward(*mine, cot);
    const at::Tensor want = ref->forward(z, c.unsqueeze(0).expand({20, 3}));
    (want * cot).sum().backward();
    EXPECT_LT(relative_to_unit(out, want.detach()), tol) << what;
    expect_same_gradients_and_buffers(*mine, *ref, tol, what);
  }
  // A context of the wrong size is refused by name.
  EXPECT_THROW(pass.forward(*mine, at::zeros({4, 2}, dtype), at::zeros({2}, dtype)), InvalidArgument);
}

TEST(ConditionalGeneratorTrainingPass, MatchesAutogradInFloat64) {
  for (bool bn : {true, false}) {
    for (bool film : {true, false}) expect_conditional_pass_matches_autograd<double>(bn, film);
  }
}

TEST(ConditionalGeneratorTrainingPass, MatchesAutogradInFloat32) { expect_conditional_pass_matches_autograd<float>(true, true); }

TEST(GeneratorTrainingPass, RefusesEvalModeAndBackwardFirst) {
  at::Generator gen = data::make_generator(7);
  Generator h(3, 2, small_config(), gen);
  h->eval();  // running statistics: not the training pass's job
  EXPECT_FALSE(cpu::GeneratorTrainingPass::supported(*h));
  h->train();
  cpu::GeneratorTrainingPass pass;
  EXPECT_THROW(pass.backward(*h, at::zeros({4, 2})), InvalidArgument);
}

}  // namespace
}  // namespace wbary::nn
