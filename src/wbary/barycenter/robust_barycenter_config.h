// File: wbary/barycenter/robust_barycenter_config.h
//
// How a robust (semi-unbalanced) barycenter is trained (Gazdieva et al.,
// ICLR 2025; seeds/003, reference/robust-barycenter.md §4). Plain struct;
// each field is one flag of `wbary robust fit` and one JSON key.
#pragma once

#include <ATen/ATen.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "wbary/config/fields.h"

namespace wbary::barycenter {

/// The psi-divergence relaxing each input marginal, through its convex
/// conjugate psi_bar (poster, "Considered psi-divergences"), scaled by tau:
/// psi_bar_tau(t) = tau psi_bar(t / tau).
///   identity: psi_bar(t) = t                   (classical OT: the NOTB solver)
///   kl:       psi_bar(t) = exp(t) - 1
///   softplus: psi_bar(t) = 2 softplus(t) - 2 log 2  (the authors' code: psi_bar(0) = 0, psi_bar'(0) = 1)
enum class Divergence { kIdentity, kKl, kSoftplus };
Divergence parse_divergence(const std::string& name);
std::string to_string(Divergence d);

/// psi_bar_tau(t), elementwise.
at::Tensor divergence_conjugate(Divergence d, double tau, const at::Tensor& t);
/// psi_bar_tau'(t): the density ratio d(gamma_k)_x / dP_k = psi_bar'(-f^c(x)).
at::Tensor divergence_conjugate_derivative(Divergence d, double tau, const at::Tensor& t);

/// The robust solver's hyper-parameters: the divergence on the input side, its strength, the loop.
struct RobustBarycenterConfig {
  Divergence divergence = Divergence::kKl;  ///< relaxes each input's marginal: KL, softplus or identity
  /// Unbalancedness: small tau drops outliers, large tau approaches the
  /// classical barycenter (poster: tau in {1, 20, 200}; outlier toy: 1).
  double tau = 1.0;
  /// MLP widths (ReLU) of the potentials g_k and of the maps T_k; the
  /// authors' toys use [128, 128] (imbalance) and [256, 256] (outliers).
  std::vector<int64_t> potential_hidden = {128, 128};
  std::vector<int64_t> map_hidden = {128, 128};  ///< hidden widths of the maps T_i
  /// Dimension D_s of the auxiliary noise of stochastic maps T_k(x, s),
  /// s ~ N(0, I); 0 = deterministic maps (the shipped toy notebooks).
  int64_t noise_dim = 0;
  /// Outer (potential) steps and map steps per outer step (authors: 10 000 x 3).
  int64_t iterations = 10000;
  int64_t inner_iterations = 3;  ///< map updates per potential update
  int64_t batch_size = 1024;  ///< Samples drawn per marginal per step.
  /// Adam, lr 1e-3, under a one-cycle schedule (PyTorch's OneCycleLR:
  /// warm-up over 30 %, cosine down to lr / 1e4). m uses betas (0, 0.9).
  double lr_potential = 1e-3;
  double lr_map = 1e-3;  ///< Adam learning rate of the maps
  double lr_m = 1e-3;  ///< Adam learning rate of the masses
  bool one_cycle = true;  ///< one-cycle learning-rate schedule over the iterations
  /// The one-cycle's length in seconds of training instead of steps (0 = over
  /// `iterations`): the steps that fit are planned from the first steps' speed
  /// (training/schedule_horizon.h). `wbary robust fit --time-limit T` sets it to T.
  double schedule_seconds = 0;
  uint64_t seed = 0;  ///< Seed of every random draw (initialisation, batches, latents): the same seed gives the same run.
  std::string dtype = "float32";  ///< Floating-point type of the networks and the arithmetic (float32 or float64).
  std::string device = "cpu";  ///< Where the computation runs: "cpu" or "cuda" (a LibTorch device string).
  int64_t log_every = 100;  ///< Steps between two records of the losses (history and progress lines).

  /// Throws InvalidArgument naming the field when a value is out of range.
  void validate() const;
};

config::FieldList fields(RobustBarycenterConfig& config);
nlohmann::json to_json(const RobustBarycenterConfig& config);
void update_from_json(RobustBarycenterConfig& config, const nlohmann::json& j);

/// OneCycleLR's factor at progress p in [0, 1]: cosine up from 1/25 to 1
/// over the first 30 %, then cosine down to 1/(25 * 1e4).
double one_cycle_factor(double p);

}  // namespace wbary::barycenter
