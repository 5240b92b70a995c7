// File: wbary/barycenter/robust_barycenter.h
//
// Robust barycenters by semi-unbalanced neural OT (Gazdieva et al., ICLR
// 2025, "U-NOTB"; seeds/003; reference/robust-barycenter.md §4). Each OT
// term of the barycenter problem is replaced by SUOT_{c_k, psi}: the input
// marginal P_k may be re-weighted at a tau-scaled psi-divergence cost, so
// outliers and over-represented classes need not be transported. The
// poster's final objective, solved by alternating Adam steps:
//
//   sup_{g, m} inf_{T} sum_k lambda_k { -E_{x~P_k} psi_bar_tau(-E_s[c_k(x, T_k(x, s)) - f_k(T_k(x, s))]) } + m,
//   f_k = g_k - sum_{n != k} lambda_n g_n / (lambda_k (K - 1)) + m / (K lambda_k)   (so sum_k lambda_k f_k = m),
//   c_k(x, y) = |x - H_k(y)|^2 / 2,   H_k = identity unless the problem gives one.
//
// The maps take inner_iterations steps on sum_k lambda_k E[c_k - f_k] per
// potential step (the authors' loop). Inference: the density ratio
// d(gamma_k)_x/dP_k ~ psi_bar'(-f_k^c(x)) drives rejection sampling of the
// inputs, and the accepted points pushed through T_k are the barycenter.
// With the identity divergence this is the classical NOTB barycenter solver.
//
// Example:
//   barycenter::RobustBarycenterProblem problem{make_problem(specs, "")};
//   barycenter::RobustBarycenter solver(problem, config);
//   solver.train({&progress});
//   at::Tensor y = solver.model().sample(problem.base.marginals, 1000, /*seed=*/1);
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wbary/barycenter/problem.h"
#include "wbary/barycenter/robust_barycenter_config.h"
#include "wbary/training/schedule_horizon.h"
#include "wbary/training/training.h"

namespace torch::optim {
class Adam;
}

namespace wbary::barycenter {

/// H_k: barycenter space -> input space of marginal k, differentiable
/// (LibTorch ops), applied to a batch [B, D] -> [B, D].
using CostMap = std::function<at::Tensor(const at::Tensor&)>;

/// Marginals, weights and the divergence that relaxes each input's marginal constraint.
struct RobustBarycenterProblem {
  BarycenterProblem base;          ///< marginals, specs, weights lambda_k
  std::vector<CostMap> cost_maps;  ///< empty, or one per marginal (empty function = identity)

  /// base.validate(), at least two marginals, positive weights, one cost
  /// map per marginal if any.
  void validate();
};

inline constexpr int kRobustModelFormatVersion = 1;

/// What comes out: potentials, maps and m; the barycenter is sampled by
/// rejection sampling of the inputs and pushing them through the maps.
class RobustBarycenterModel {
 public:
  /// A model with fresh networks, as the solver creates it (load() reads a trained one).
  RobustBarycenterModel(int64_t dim, std::vector<double> weights, std::vector<std::string> specs,
                        RobustBarycenterConfig config);

  /// Dimension d of the barycenter and of every marginal.
  int64_t dim() const { return dim_; }
  /// Number N of marginals.
  int64_t count() const { return static_cast<int64_t>(weights_.size()); }
  /// The barycentric weights a_i (non-negative, summing to 1).
  const std::vector<double>& weights() const { return weights_; }
  /// Where each marginal came from (specs or absolute paths).
  const std::vector<std::string>& marginal_specs() const { return specs_; }
  /// The configuration it was trained with.
  const RobustBarycenterConfig& config() const { return config_; }
  /// Floating-point type of the networks and the arithmetic (float32 or float64).
  at::ScalarType dtype() const { return config_.dtype == "float64" ? at::kDouble : at::kFloat; }
  /// Where the computation runs: "cpu" or "cuda" (a LibTorch device string).
  at::Device device() const { return at::Device(config_.device); }

  /// f_k(y) for y [B, D] -> [B] (differentiable), the m-congruent potential.
  at::Tensor potential(int64_t k, const at::Tensor& y) const;
  /// All K potentials at once, [B, K]: each g_n evaluated once.
  at::Tensor all_potentials(const at::Tensor& y) const;
  /// T_k(x, s) with s ~ N(0, I) drawn from `noise_seed` (ignored when
  /// deterministic); differentiable. x [B, D] -> [B, D].
  at::Tensor transport(int64_t k, const at::Tensor& x, uint64_t noise_seed) const;
  /// c_k(x, y) = |x - H_k(y)|^2 / 2, [B].
  at::Tensor cost(int64_t k, const at::Tensor& x, const at::Tensor& y) const;

  /// T_k(x) as float64 on the CPU (no graph): marginal k -> barycenter.
  at::Tensor push(int64_t k, const at::Tensor& x, uint64_t seed = 0) const;
  /// psi_bar'(-f_k^c(x)) with f_k^c(x) ~ c_k(x, T_k x) - f_k(T_k x): the
  /// un-normalised density ratio of the kept part of P_k, [n] float64.
  at::Tensor acceptance_weight(int64_t k, const at::Tensor& x, uint64_t seed = 0) const;

  /// Barycenter samples with each input's transported mass (the reweighting semi-unbalanced OT learns).
  struct Samples {
    at::Tensor points;                   ///< [n, D] barycenter samples (float64)
    std::vector<double> acceptance_rate; ///< per marginal: accepted / proposed
    at::Tensor origin;                   ///< [n] which marginal each point came from
  };
  /// n barycenter samples: marginal k is picked with probability lambda_k,
  /// its samples accepted with probability w(x) / w_max (w_max from 8192
  /// calibration draws), and the accepted points pushed through T_k.
  Samples sample(const std::vector<std::shared_ptr<const data::Sampler>>& marginals, int64_t n,
                 uint64_t seed) const;

  /// Training and evaluation records (JSON objects with a "step" field).
  nlohmann::json& history() { return history_; }
  /// Training and evaluation records (JSON objects with a "step" field).
  const nlohmann::json& history() const { return history_; }
  /// model.json's content: format, method, dimension, weights, marginals, config.
  nlohmann::json metadata() const;
  /// Writes the model to the directory DIR atomically (what load() reads).
  void save(const std::string& dir) const;
  /// Reads what save() wrote; IoError naming the file when it is missing or malformed.
  static RobustBarycenterModel load(const std::string& dir, const std::string& device = "");

  /// The networks: g_k (D -> 1) and T_k (D + D_s -> D), and the scalar m.
  torch::nn::ModuleList g{nullptr};
  torch::nn::ModuleList maps{nullptr};  ///< T_i: marginal i -> barycenter
  std::shared_ptr<torch::nn::Module> scalars;  ///< holds m
  at::Tensor m;  ///< the barycenter's learned masses
  /// H_k for the costs; not saved (code, not data): set again after load().
  std::vector<CostMap> cost_maps;

 private:
  void check_index(int64_t k) const;

  int64_t dim_;
  std::vector<double> weights_;
  std::vector<std::string> specs_;
  RobustBarycenterConfig config_;
  nlohmann::json history_ = nlohmann::json::array();
};

/// Robust barycenters with semi-unbalanced neural OT: outliers and class imbalance tolerated.
class RobustBarycenter {
 public:
  /// Sets up the networks for the problem; InvalidArgument on a bad config.
  RobustBarycenter(RobustBarycenterProblem problem, RobustBarycenterConfig config);
  ~RobustBarycenter();

  /// Runs the remaining iterations, calling the callbacks after each (progress, checkpoints, time limit, Ctrl-C).
  training::TrainingSummary train(const std::vector<training::TrainingCallback*>& callbacks = {});
  /// One outer step (inner_iterations map steps, one potential step);
  /// reports "objective", "map_loss", "transport_cost" and "m".
  training::StepInfo step();

  /// Outer iterations completed so far (a resumed run counts from its checkpoint).
  int64_t steps_done() const { return step_; }
  /// The model as trained so far.
  const RobustBarycenterModel& model() const { return model_; }
  /// The model as trained so far.
  RobustBarycenterModel& model() { return model_; }
  /// The problem being solved.
  const RobustBarycenterProblem& problem() const { return problem_; }

  /// Writes the full training state (networks, optimisers, step, history) atomically to DIR.
  void save_checkpoint(const std::string& path) const;
  /// Restores what save_checkpoint() wrote; InvalidArgument if it was trained on another problem or config.
  void load_checkpoint(const std::string& path);

 private:
  void set_learning_rates();

  RobustBarycenterProblem problem_;
  RobustBarycenterModel model_;
  std::unique_ptr<torch::optim::Adam> opt_g_, opt_maps_, opt_m_;
  int64_t step_ = 0;
  double elapsed_before_ = 0;
  training::ScheduleHorizon horizon_{0, 0};  ///< set in the constructor: the one-cycle's length
};

}  // namespace wbary::barycenter
