#include "wbary/nn/identity_fit.h"

#include <chrono>
#include <cmath>

#include "wbary/data/sampler.h"
#include "wbary/nn/flat_adam.h"
#include "wbary/training/training.h"

namespace wbary::nn {
namespace {

constexpr uint64_t kIdentityStream = 0xc3b1;

// Copies network 0 of `from` (a stack of one) into every network of `to`.
void broadcast_into(const IcnnPotential& from, IcnnPotential& to) {
  torch::NoGradGuard no_grad;
  const IcnnWeights& s = from.weights();
  const IcnnWeights& t = to.weights();
  auto copy = [](const at::Tensor& dst, const at::Tensor& src) {
    if (dst.defined()) dst.copy_(src.expand_as(dst));
  };
  for (size_t l = 0; l < t.A.size(); ++l) copy(t.A[l], s.A[l]);
  for (size_t l = 0; l < t.b.size(); ++l) copy(t.b[l], s.b[l]);
  for (size_t l = 0; l < t.W.size(); ++l) copy(t.W[l], s.W[l]);
  for (size_t l = 0; l < t.slope.size(); ++l) copy(t.slope[l], s.slope[l]);
  copy(t.w, s.w);
  copy(t.a, s.a);
  copy(t.c, s.c);
}

}  // namespace

IdentityFit fit_identity(const IdentityFitConfig& fit, const IcnnConfig& config, int64_t dim, uint64_t seed,
                         const std::vector<IcnnPotential*>& targets) {
  const auto options = targets.at(0)->weights().w.options();
  at::Generator gen = data::make_generator(data::derive_seed(seed, 0xc0, 0));
  IcnnPotential net(1, dim, config, gen, options.dtype().toScalarType(), options.device());
  FlatAdam opt(net.flat_parameters(), FlatAdamOptions{1e-3, 0.8, 0.9});
  IdentityFit out;
  out.mse = INFINITY;
  const auto start = std::chrono::steady_clock::now();
  const auto out_of_time = [&] {
    return fit.max_seconds > 0 &&
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > fit.max_seconds;
  };
  for (out.steps = 0; out.steps < fit.max_steps; ++out.steps) {
    if (out_of_time() || training::CancelOnSignal::requested()) break;
    at::Generator g = data::make_generator(data::derive_seed(seed, kIdentityStream, out.steps));
    const at::Tensor x =
        (fit.scale * at::randn({1, fit.batch_size, dim}, g, at::TensorOptions().dtype(at::kDouble))).to(options);
    net.zero_grad();
    const at::Tensor grad = net.gradient_autograd(x, /*create_graph=*/true);
    const at::Tensor mse = (grad - x).pow(2).mean();  // per coordinate, as torch's mse_loss
    mse.backward();
    out.mse = mse.item<double>();
    if (out.mse < fit.tolerance) break;
    net.gather_gradients();
    opt.step(net.flat_gradients());
    net.clamp_convex_weights();
  }
  for (IcnnPotential* t : targets) broadcast_into(net, *t);
  return out;
}

}  // namespace wbary::nn
