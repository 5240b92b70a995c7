// File: wbary/barycenter/all_weights_barycenter_config.h
//
// The configuration of NWB-II: one training for the barycenters of every
// weight vector (Fan, Taghvaei, Chen 2021, §3 and supplementary §B; the
// authors' G2G_differentW.py, reference/nwb-authors.md §1.6). Algorithm 1's
// defaults are NWB's (neural_barycenter_config.h); the fields below say
// where NWB-II differs. Each field maps to one `wbary fit --all-weights`
// flag and round-trips through JSON.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "wbary/barycenter/neural_barycenter_config.h"
#include "wbary/config/fields.h"
#include "wbary/nn/generator.h"
#include "wbary/nn/picnn.h"

namespace wbary::barycenter {

/// Algorithm 1's loop and its defaults are NWB's (AlgorithmOneConfig).
struct AllWeightsBarycenterConfig : AlgorithmOneConfig {
  /// --- networks
  /// f_i(x; w), g_i(x; w): partially input-convex in x, free in the weight
  /// vector w (nn/picnn.h; the authors' PICNN_LastInp_Quadratic). Square
  /// offset 1, unlike NWB's default (the authors'): with it the potentials
  /// are convex in x everywhere (nn/icnn.h).
  nn::PicnnConfig potential = [] {
    nn::PicnnConfig p;
    p.convex.square_offset = 1;
    return p;
  }();
  /// h(z, w) (nn/conditional_generator.h: NWB's generator on [z, w], the
  /// authors' Different_Weights_NormalNet, with an output affine in w).
  nn::GeneratorConfig generator;
  /// BatchNorm in h when d >= this (resolved() sets generator.batch_norm).
  /// w is constant over a training batch, so BatchNorm normalises with that
  /// w's statistics, and sample() does the same (its running statistics mix
  /// every w of training). Measured on three Gaussians, 2500 iterations,
  /// BW2-UVP of h at the centre: d = 8, 0.04 % with BatchNorm, 2.2 % without;
  /// d = 2, 0.93 % with, 0.14 % without (BENCHMARKS.md). On 2-D shapes
  /// BatchNorm folds h's samples (the README's triangle: median UVP 4.5 %
  /// with it and FiLM, 1.8 % without), hence off below d = 4.
  int64_t batch_norm_from_dim = 4;
  /// Each hidden block of h (after its BatchNorm, if any) followed by a
  /// feature-wise scale and shift that are linear in w (FiLM,
  /// nn/conditional_generator.h): BatchNorm subtracts the shift a batch's
  /// constant w gives its inputs, FiLM gives it back. With BatchNorm at d = 2
  /// on three Gaussians it removes a weak region (worst BW2-UVP over 20
  /// weight vectors 0.73 % -> 0.18 %); at d = 8 it changes little (worst
  /// 0.116 % -> 0.113 %); without BatchNorm at d = 2 it is no better than the
  /// defaults (worst 0.80 % against 1.10 %, two of the three reference
  /// weights worse). So off by default (BENCHMARKS.md).
  bool generator_film = false;
  int64_t latent_dim = 0;  ///< dimension of Z ~ N(0, I); 0 = d

  /// --- the batches
  /// Samples of each input per g-step; 0 (or >= batch_size) = the whole
  /// batch (Algorithm 1: every inner step on the outer iteration's batch).
  /// Smaller, the K_f x K_g g-steps of an iteration take consecutive slices of
  /// that batch in turn, while the f-step and the h-step use all of it. At one
  /// w per batch the potentials learn that w from its batch: on three 2-D
  /// Gaussians a batch of 400 brings NWB-II's error down to NWB's, but the
  /// g-steps are ~77 % of an iteration; on slices of 50 they cost what they
  /// cost at batch 50 and the error stays that of the whole batch (5 000
  /// iterations: 0.4-1.7x NWB's error at 1.5-1.6x one NWB run's time, against
  /// 5.1x with the whole batch; BENCHMARKS.md). Not the default: on 2-D shapes
  /// batch 400 is worse than 100, sliced or not (README's triangle: median UVP
  /// 2.4-2.8 % against 1.8-2.1 %).
  int64_t g_batch_size = 0;

  /// --- the weight vectors (supplementary §B)
  /// w ~ Dirichlet(alpha 1_N) (the authors' choice_weight = 1: alpha = 1,
  /// uniform on the simplex), one vector for a whole batch, held for
  /// `weight_repeat` outer iterations. The authors hold each for 30
  /// (NUM_WEIGHTS_repeated); a fresh one every iteration was better in every
  /// measurement here (three 2-D Gaussians, 90 s: BW2-UVP of h at the centre
  /// 1.75 % against 4.73 %; BENCHMARKS.md).
  double dirichlet_concentration = 1;
  int64_t weight_repeat = 1;  ///< batches that reuse one Dirichlet draw of w (the authors' R)
  /// Share of draws replaced by a vertex e_k (wbary; the authors have none):
  /// w = e_k must give back marginal k, and Dirichlet(1) rarely comes near a
  /// vertex (data/simplex.h). Three 2-D Gaussians, 2500 iterations: BW2-UVP
  /// of h at the hardest vertex 5.97 % with 0.1, 3.74 % with 0.3, the
  /// interior unchanged (BENCHMARKS.md).
  double vertex_fraction = 0.3;

  /// --- run
  /// fused: the ICNN kernels on the potentials' effective weights at this
  /// batch's w (nn/picnn.h), autograd through the small map to the
  /// parameters; autograd: double backward throughout (the reference).
  nn::Engine engine = nn::Engine::kFused;
  uint64_t seed = 0;  ///< Seed of every random draw (initialisation, batches, latents): the same seed gives the same run.
  std::string dtype = "float32";  ///< Floating-point type of the networks and the arithmetic (float32 or float64).
  std::string device = "cpu";  ///< Where the computation runs: "cpu" or "cuda" (a LibTorch device string).
  int64_t log_every = 100;  ///< Steps between two records of the losses (history and progress lines).
};

config::FieldList fields(AllWeightsBarycenterConfig& config);
void validate(const AllWeightsBarycenterConfig& config);
nlohmann::json to_json(const AllWeightsBarycenterConfig& config);
void update_from_json(AllWeightsBarycenterConfig& config, const nlohmann::json& j);
/// Automatic (0) widths and latent size resolved for dimension `dim` and `count` inputs.
AllWeightsBarycenterConfig resolved(AllWeightsBarycenterConfig config, int64_t dim, int64_t count);

}  // namespace wbary::barycenter
