#include "wbary/nn/identity_fit.h"

#include <chrono>
#include <cmath>

#include "wbary/data/sampler.h"
#include "wbary/nn/flat_adam.h"
#include "wbary/nn/icnn_kernels.h"
#include "wbary/training/training.h"

namespace wbary::nn {
namespace {

constexpr uint64_t kIdentityStream = 0xc3b1;

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
  // Tensor by tensor into every network: copy_ broadcasts the stack of one over the K networks.
  for (IcnnPotential* t : targets) copy_gradients(net.weights(), t->weights());
  return out;
}

}  // namespace wbary::nn
