// File: wbary/barycenter/regularized_barycenter_config.h
//
// The configuration of CRWB (Li, Genevay, Yurochkin, Solomon, "Continuous
// regularized Wasserstein barycenters", NeurIPS 2020). Defaults are the
// authors' Gaussian template (reference/crwb.md §1.2, gaussian_template.yaml);
// each field maps to one `wbary fit --method crwb` flag.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "wbary/config/fields.h"

namespace wbary::barycenter {

/// R_eps of the regularised dual (crwb.md §1.1).
enum class Regularizer {
  kL2,         ///< max(0, t)^2 / (2 eps): the only one in the authors' configs
  kEntropic,   ///< eps exp(t / eps)
};

/// CRWB's / CDWB's hyper-parameters, defaults from the authors' code (reference/crwb.md).
struct RegularizedBarycenterConfig {
  Regularizer regularizer = Regularizer::kL2;  ///< kL2: CRWB; kEntropy: CDWB
  /// eps of R_eps, for the un-halved cost |x - y|^2. With scale_epsilon it is
  /// multiplied by diam^2 / 10, diam the diagonal of the reference box (the
  /// Gaussian template: 1e-4 diam^2 / 10; the bike runs: 2e-5 unscaled).
  double epsilon = 1e-4;
  bool scale_epsilon = true;  ///< epsilon relative to the data's scale, as the authors' code
  /// The reference measure xi: uniform on the PCA-aligned bounding box of the
  /// pooled, centred marginals, each axis trimmed at this quantile (0.9999
  /// Gaussian, 1 = min/max for the bike data), estimated from this many
  /// pooled samples (the authors draw 2e6 per analytic marginal).
  double box_quantile = 0.9999;
  int64_t box_samples = 60000;  ///< samples that set the reference box (crwb.md)

  int64_t hidden1 = 128;          ///< f_i, g_i: d -> 128 -> 256 -> 1, ReLU (architecture.py)
  int64_t hidden2 = 256;  ///< second hidden width
  int64_t iterations = 20000;     ///< Gaussian template (50000 for the bike data)
  int64_t batch_size = 8192;  ///< Samples drawn per marginal per step.
  double lr = 1e-4;               ///< one Adam over all 2N potentials, default betas
  /// EMA of the potentials used for sampling: off in the Gaussian template,
  /// 0.999 for the bike data. wbary ramps it as NWB's averaging does; the
  /// authors' shadow weights start at zero without bias correction.
  double averaging = 0;
  int64_t representative_samples = 20000;  ///< per marginal, to re-centre each push (crwb.md §1.3)

  uint64_t seed = 0;  ///< Seed of every random draw (initialisation, batches, latents): the same seed gives the same run.
  std::string dtype = "float32";  ///< Floating-point type of the networks and the arithmetic (float32 or float64).
  std::string device = "cpu";  ///< Where the computation runs: "cpu" or "cuda" (a LibTorch device string).
  int64_t log_every = 100;  ///< Steps between two records of the losses (history and progress lines).
};

config::FieldList fields(RegularizedBarycenterConfig& config);
void validate(const RegularizedBarycenterConfig& config);
nlohmann::json to_json(const RegularizedBarycenterConfig& config);
void update_from_json(RegularizedBarycenterConfig& config, const nlohmann::json& j);

}  // namespace wbary::barycenter
