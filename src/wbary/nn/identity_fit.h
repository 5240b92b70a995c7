// File: wbary/nn/identity_fit.h
//
// Starts convex potentials at f(x) ~ |x|^2 / 2, so that their gradient maps
// start at the identity: Korotin et al.'s pre-training (CWB, reference/cw2b.md
// §2.2), used by CWB always and by NWB on request. One network is fitted to
// grad f(x) = x for x ~ scale N(0, I) with Adam (lr 1e-3, betas (0.8, 0.9)),
// W >= 0 clamped after every step, until the mean squared error per coordinate
// falls below the tolerance (or a step / time cap), then copied into every
// network of the target stacks.
//
// Example:
//   nn::IdentityFitConfig fit;                     // the authors' settings
//   nn::IdentityFit r = nn::fit_identity(fit, *psi->config(), dim, seed, {psi.get(), conj.get()});
#pragma once

#include <cstdint>
#include <vector>

#include "wbary/nn/icnn.h"

namespace wbary::nn {

/// Steps, batch and learning rate of the identity fit.
struct IdentityFitConfig {
  int64_t max_steps = 10000;  ///< cap on the fit's steps
  double tolerance = 1e-2;   ///< MSE per coordinate
  double scale = 4;          ///< x ~ scale N(0, I)
  int64_t batch_size = 1024;  ///< points drawn per step
  double max_seconds = 0;    ///< 0 = no cap
};

/// Fits a potential so that its gradient is the identity map (the paper's initialisation).
struct IdentityFit {
  int64_t steps = 0;  ///< steps the fit took
  double mse = 0;  ///< at the last step
};

/// Fits one network of `config` on R^dim (seeded by `seed`) and copies it into
/// every network of each stack in `targets` (which share `config`, dtype and
/// device). Stops early on Ctrl-C (training::CancelOnSignal).
IdentityFit fit_identity(const IdentityFitConfig& fit, const IcnnConfig& config, int64_t dim, uint64_t seed,
                         const std::vector<IcnnPotential*>& targets);

}  // namespace wbary::nn
