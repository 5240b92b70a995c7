// File: wbary/barycenter/neural_barycenter_config.h
//
// The configuration of the neural Wasserstein barycenter solver (NWB, Fan,
// Taghvaei, Chen, ICML 2021, Algorithm 1). Defaults are the authors'
// Gaussian-experiment settings (reference/nwb-authors.md §1.4); each field
// maps to one `wbary fit` flag and round-trips through JSON
// (`--dump-config`, `--config run.json`, the model's model.json).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "wbary/config/fields.h"
#include "wbary/nn/generator.h"
#include "wbary/nn/icnn.h"
#include "wbary/nn/icnn_kernels.h"

namespace wbary::barycenter {

/// How the non-negativity of the ICNN's W_l is kept (Fan et al. §3.2).
enum class Convexity {
  kClamp,    ///< W <- max(W, 0) after every step (the authors' f)
  kPenalty,  ///< + lambda * sum ||max(-W, 0)||_F^2 in the loss (the authors' g)
};

/// How Algorithm 1's derivatives are computed (both give the same numbers).
using nn::Engine;

/// Algorithm 1's loop (Fan et al. 2021), shared by NWB and NWB-II
/// (all_weights_barycenter_config.h). Defaults: the authors' cfg.py.
struct AlgorithmOneConfig {
  int64_t iterations = 24000;  ///< outer iterations K_3: 40 epochs x 600 batches (cfg.py:240)
  int64_t batch_size = 100;    ///< M (cfg.py:56)
  int64_t g_steps = 6;         ///< K_1, g-updates per f-update (N_Gnet_ITERS, cfg.py:73)
  int64_t f_steps = 4;         ///< K_2, f-updates per h-update (N_Fnet_ITERS, cfg.py:91)
  double lr_f = 1e-3;          ///< Adam learning rates (cfg.py:57-58, 98)
  double lr_g = 1e-3;  ///< (of g_i)
  double lr_h = 1e-3;  ///< (of the generator h)
  double adam_beta1 = 0.9;     ///< PyTorch's Adam defaults, as the authors
  double adam_beta2 = 0.999;  ///< (second moment)
  int64_t lr_decay_every = 12000;  ///< x lr_decay every 20 epochs of 600 batches (cfg.py:65-67)
  double lr_decay = 0.1;  ///< the factor applied every lr_decay_every iterations
  /// The schedule's length in seconds of training instead of steps (0 = off):
  /// the steps that fit are planned from the measured speed
  /// (training/schedule_horizon.h), at most `iterations`, and the decay points
  /// keep their place in the run (lr_decay_every / iterations of the way).
  /// Opt-in: `--time-limit` alone does not set it, because runs that mean
  /// "until the time limit" by a huge --iterations would then decay at once.
  double schedule_seconds = 0;
  Convexity f_convexity = Convexity::kClamp;    ///< G2G_sameW_3loop.py:195-196
  Convexity g_convexity = Convexity::kPenalty;  ///< G2G_sameW_3loop.py:154-158
  double convexity_penalty = 0.1;               ///< lambda of R(theta), eq. (10) (LAMBDA_CVX, cfg.py:61)
  /// Iterate averaging (Polyak & Juditsky 1992, as an exponential moving
  /// average with this decay per outer iteration, ramped up as (1 + t) /
  /// (10 + t) over the first steps) of every network, for the model that
  /// comes out; training itself is unchanged. The authors use the last
  /// iterate (0 here), which carries the noise of its last stochastic steps:
  /// three Gaussians, 3000 iterations, BW2-UVP of h#eta / grad g_i#mu_i went
  /// 0.18 / 0.05 % -> 0.02 / 0.015 % at d = 2 and 0.10 / 0.12 % -> 0.03 /
  /// 0.02 % at d = 8 (BENCHMARKS.md). The ramp is below 0.999 until step
  /// 8 990, so until then the average covers about the last t / 9 iterates
  /// whatever the decay: a larger decay changes only longer runs (NWB-II,
  /// d = 8, 8 500 iterations: 0.999 and 0.9995 give the same model).
  double averaging = 0.999;
};

/// The step-decay schedule: lr_decay^floor(progress * iterations / lr_decay_every),
/// `progress` in [0, 1] from training::ScheduleHorizon (step / iterations on a
/// run of `iterations` steps), so that the decay points keep their place in a
/// run planned over a time budget; with iterations <= 0, lr_decay^floor(step / lr_decay_every).
double learning_rate_factor(const AlgorithmOneConfig& c, int64_t step, double progress);
/// Adds Algorithm 1's fields to `f` (in its current group).
void add_algorithm_fields(config::FieldList& f, AlgorithmOneConfig& c);
/// Throws InvalidArgument naming the flag of the first invalid field.
void validate_algorithm(const AlgorithmOneConfig& c);

/// NWB's hyper-parameters: Algorithm 1's loop counts, widths and optimiser, defaults from the paper.
struct NeuralBarycenterConfig : AlgorithmOneConfig {
  /// --- networks
  nn::IcnnConfig potential;       ///< f_i and g_i (ICNN_LastInp_Quadratic)
  nn::GeneratorConfig generator;  ///< h (Average_Weights_NormalNet)
  int64_t latent_dim = 0;         ///< dim of Z ~ N(0, I); 0 = d (the authors' INPUT_DIM)

  /// Starting f_i and g_i at |x|^2 / 2 (gradient maps at the identity), as
  /// CWB's pre-training (nn/identity_fit.h): at most this many fitting steps,
  /// 0 = the authors' random initialisation. The pushes grad g_i # mu_i then
  /// start as the inputs themselves instead of far off, which matters when a
  /// time budget allows few outer iterations (high d; BENCHMARKS.md).
  int64_t pretrain_iterations = 0;
  double pretrain_tolerance = 1e-2;  ///< MSE per coordinate
  double pretrain_scale = 4;         ///< fit on x ~ scale N(0, I)
  double pretrain_seconds = 0;       ///< cap (0 = none; --time-limit sets it)

  /// --- run
  /// fused: closed-form ICNN derivatives (nn/icnn_kernels.h, DESIGN.md §2);
  /// autograd: the reference implementation through LibTorch's autograd
  /// (double backward in the g-step), kept for checking and comparison.
  Engine engine = Engine::kFused;
  uint64_t seed = 0;   ///< networks, batches and latents all derive from it
  /// Floating-point type of the networks and the arithmetic (float32 or float64).
  std::string dtype = "float32";  // float32 | float64 for the networks
  /// Where the computation runs: "cpu" or "cuda" (a LibTorch device string).
  std::string device = "cpu";     // cpu | cuda | cuda:N (needs a CUDA build of LibTorch and a GPU)
  int64_t log_every = 100;        ///< history record every k steps
};

/// Throws InvalidArgument naming the flag of the first invalid field.
void validate(const NeuralBarycenterConfig& config);

/// The fields of `config` (JSON keys; flags --key-with-dashes), help and groups.
config::FieldList fields(NeuralBarycenterConfig& config);
nlohmann::json to_json(const NeuralBarycenterConfig& config);
/// Reads the fields present in `j` over `config` (absent fields keep their
/// values); throws InvalidArgument on an unknown key or a wrong type.
void update_from_json(NeuralBarycenterConfig& config, const nlohmann::json& j);

std::string to_string(Convexity c);
using nn::parse_engine;
using nn::to_string;
Convexity parse_convexity(const std::string& name);

}  // namespace wbary::barycenter
