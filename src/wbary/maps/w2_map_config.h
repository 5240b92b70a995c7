// File: wbary/maps/w2_map_config.h
//
// How a two-measure W2 map is fitted (Amos 2023, reference/w2-maps.md §3.1).
// Plain struct; every field has one CLI flag (`wbary map fit --help`) and a
// JSON key (`--dump-config`, `--config`, the model's model.json).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "wbary/config/fields.h"
#include "wbary/maps/conjugate_solver.h"
#include "wbary/nn/icnn_kernels.h"
#include "wbary/maps/potential.h"

namespace wbary::maps {

/// How the amortisation model H(y) ~ x_hat(y) is trained (Amos §3.2):
///   objective:  E[f(H(y)) - <H(y), y>]                      (f held fixed)
///   regression: E|H(y) - x_hat(y)|^2, x_hat fine-tuned         (needs a solver)
///   cycle:      w (E|grad f(H(y)) - y|^2 + E|H(grad f(x)) - x|^2)  (W2GN's cycle)
enum class AmortizationLoss { kObjective, kRegression, kCycle };
AmortizationLoss parse_amortization_loss(const std::string& name);
std::string to_string(AmortizationLoss loss);

/// The W2 map's hyper-parameters, defaults from Amos (2023).
struct W2MapConfig {
  /// The paper's best HD-benchmark combination: MLP potential, regression
  /// amortisation, L-BFGS fine-tuning (Amos Table 2).
  PotentialKind potential = PotentialKind::kMlp;
  /// Hidden widths of f and H; empty = [2 max(d,32), 2 max(d,32), max(d,32)].
  std::vector<int64_t> hidden;
  AmortizationLoss amortization = AmortizationLoss::kRegression;  ///< how the amortization model is trained (Amos 2023, §3)
  /// Fine-tuning of x_hat during training: Amos's `lbfgs` (gtol 0.1, 100 its).
  /// kind = none trains on the amortised prediction alone.
  ConjugateSolverConfig conjugate;
  /// The inverse map at inference: `lbfgs_high_precision` (gtol 1e-3).
  ConjugateSolverConfig inverse_conjugate = [] {
    ConjugateSolverConfig c;
    c.gradient_tolerance = 1e-3;
    return c;
  }();
  /// Amos trains 250 001 steps on a GPU; 20 000 is a CPU-sized default
  /// (BENCHMARKS.md shows the UVP reached against time).
  int64_t iterations = 20000;
  int64_t batch_size = 1024;  ///< samples of the source and of the target per step
  /// AdamW(b1 = 0.5, b2 = 0.5, weight decay 1e-4), learning rate cosine-decayed
  /// to learning_rate * final_lr_fraction. Amos's hd_benchmark config starts
  /// at 5e-4 for 250 000 GPU steps; on a CPU budget (3-17x fewer steps) that
  /// rate leaves the map far from its optimum: on Korotin's pairs, 10 minutes
  /// on one thread, d = 16, forward L2-UVP 8.0 % at 5e-4, 2.1 % at 3e-3,
  /// 0.83 % at 5e-3, 0.59 % at 1e-2 (the paper's 250 000 steps: 0.77 %);
  /// d = 8: 3.4 / 0.61 / 0.56 % at 5e-4 / 5e-3 / 1e-2; d = 2 unchanged
  /// (BENCHMARKS.md, "The learning rate on a CPU budget"). 5e-3 takes most of that gain with
  /// a margin below the rates not yet tried at d >= 32; `--lr 5e-4` is the paper's.
  double learning_rate = 5e-3;
  double final_lr_fraction = 1e-4;  ///< the cosine schedule ends at learning_rate times this
  /// The cosine's length in seconds of training instead of steps (0 = over
  /// `iterations`): the steps that fit are planned from the measured speed,
  /// and planned again as it drifts (training/schedule_horizon.h), so that a
  /// time-limited run ends with the learning rate down. `wbary map fit --time-limit T` sets it to T.
  double schedule_seconds = 0;
  double beta1 = 0.5;  ///< Adam's first-moment decay.
  double beta2 = 0.5;  ///< Adam's second-moment decay.
  double weight_decay = 1e-4;  ///< AdamW's decoupled weight decay
  /// Weight of the cycle amortisation loss; 0 = the dimension d (Amos's HD setting).
  double cycle_weight = 0;
  /// fused: the MLP potential's value and gradient in one pass with the chain
  /// rule written out (maps/potential.h); autograd: through autograd (the
  /// reference). The same iterates up to round-off (tests/maps/w2_map_test).
  nn::Engine engine = nn::Engine::kFused;
  uint64_t seed = 0;  ///< Seed of every random draw (initialisation, batches, latents): the same seed gives the same run.
  /// Floating-point type of the networks and the arithmetic (float32 or float64).
  std::string dtype = "float32";  // float32 | float64
  std::string device = "cpu";  ///< Where the computation runs: "cpu" or "cuda" (a LibTorch device string).
  int64_t log_every = 100;  ///< history record every k steps

  /// Throws InvalidArgument naming the first bad field.
  void validate() const;
};

/// The fields of `config`; the solvers' as nested objects "conjugate" and "inverse_conjugate".
config::FieldList fields(W2MapConfig& config);
nlohmann::json to_json(const W2MapConfig& config);
/// Overrides the fields present in `j`; throws InvalidArgument on unknown keys.
void update_from_json(W2MapConfig& config, const nlohmann::json& j);

}  // namespace wbary::maps
