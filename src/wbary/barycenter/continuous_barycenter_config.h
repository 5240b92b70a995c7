// File: wbary/barycenter/continuous_barycenter_config.h
//
// The configuration of CWB (Korotin, Li, Solomon, Burnaev, "Continuous
// Wasserstein-2 barycenter estimation without minimax optimization", ICLR
// 2021). Defaults are the authors' (reference/cw2b.md §2.2: their
// CW2B_toy_experiments notebook); each field maps to one `wbary fit --method
// cwb` flag and round-trips through JSON.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "wbary/config/fields.h"
#include "wbary/nn/icnn.h"
#include "wbary/nn/icnn_kernels.h"

namespace wbary::barycenter {

/// CWB's hyper-parameters, defaults from the NWB paper's comparison (§4.2).
struct ContinuousBarycenterConfig {
  /// psi_i (maps marginal i -> barycenter) and psibar_i (their conjugates,
  /// barycenter -> marginal i). The authors use DenseICNN with hidden sizes
  /// [max(64, 2d), max(64, 2d), max(32, d)]; wbary uses its own ICNN (the
  /// same class as NWB's, so that the comparison isolates the algorithm) at
  /// width max(64, 2d) (width = 0) with 3 hidden layers.
  nn::IcnnConfig potential = nn::IcnnConfig{}.with_width(0);

  int64_t iterations = 10001;     ///< MAX_ITER (cw2b.md §2.2)
  int64_t batch_size = 1024;      ///< samples per marginal and step
  int64_t proposal_samples = 1024;  ///< N(0, I) samples in the congruence sample Q~ (§2.1)
  double cycle_weight = 10;       ///< lambda_cyc (LAMBDA)
  double congruence_weight = 5;   ///< lambda_cong (R_LAMBDA)
  double lr = 1e-3;               ///< Adam learning rate of every network
  double psi_beta1 = 0.8;         ///< Adam betas of psi_i (D_list)
  double psi_beta2 = 0.99;  ///< (second moment)
  double conjugate_beta1 = 0.4;   ///< Adam betas of psibar_i (D_conj_list)
  double conjugate_beta2 = 0.4;  ///< (second moment)

  /// Pre-training: one network fitted to grad D(x) = x for x ~ scale N(0, I)
  /// (Adam lr 1e-3, betas (0.8, 0.9)), stopped at this MSE, then copied into
  /// all 2N networks.
  int64_t pretrain_iterations = 10000;
  double pretrain_tolerance = 1e-2;  ///< pre-training stops when the identity-fit MSE falls below
  double pretrain_scale = 4;  ///< pre-training samples are drawn uniformly from [-scale, scale]^d
  /// Wall-clock cap on pre-training (0 = none; `wbary fit --time-limit T`
  /// sets it to T): at d = 128 reaching the tolerance took 78 s on 2 cores.
  double pretrain_seconds = 0;

  /// fused: closed-form ICNN derivatives (nn/icnn_kernels.h; the cycle term
  /// through one Hessian-vector product of psibar); autograd: LibTorch's
  /// double backward, the reference.
  nn::Engine engine = nn::Engine::kFused;
  uint64_t seed = 0;  ///< Seed of every random draw (initialisation, batches, latents): the same seed gives the same run.
  std::string dtype = "float32";  ///< Floating-point type of the networks and the arithmetic (float32 or float64).
  std::string device = "cpu";  ///< Where the computation runs: "cpu" or "cuda" (a LibTorch device string).
  int64_t log_every = 100;  ///< Steps between two records of the losses (history and progress lines).
};

config::FieldList fields(ContinuousBarycenterConfig& config);
void validate(const ContinuousBarycenterConfig& config);
nlohmann::json to_json(const ContinuousBarycenterConfig& config);
void update_from_json(ContinuousBarycenterConfig& config, const nlohmann::json& j);
/// The config with width 0 resolved to max(64, 2d).
ContinuousBarycenterConfig resolved(ContinuousBarycenterConfig config, int64_t dim);

}  // namespace wbary::barycenter
