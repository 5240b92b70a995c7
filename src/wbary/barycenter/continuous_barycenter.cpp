#include "wbary/barycenter/continuous_barycenter.h"

#include <torch/autograd.h>

#include <cmath>
#include <sstream>

#include "wbary/error.h"
#include "wbary/io/checkpoint.h"
#include "wbary/nn/flat_adam.h"
#include "wbary/nn/icnn_kernels.h"
#include "wbary/nn/identity_fit.h"

namespace wbary::barycenter {
namespace {

constexpr uint64_t kProposalStream = 0xc3b0;

}  // namespace

ContinuousBarycenter::ContinuousBarycenter(BarycenterProblem problem, ContinuousBarycenterConfig config)
    : problem_((problem.validate(), std::move(problem))),
      model_(problem_.dim(), static_cast<int64_t>(problem_.size()), problem_.weights, problem_.specs,
             std::move(config)) {
  const auto& c = model_.config();
  weights_ = at::tensor(problem_.weights, at::TensorOptions().dtype(at::kDouble))
                 .to(model_.psi->weights().w.options());
  pretrain_to_identity();
  opt_psi_ = std::make_unique<nn::FlatAdam>(model_.psi->flat_parameters(),
                                           nn::FlatAdamOptions{c.lr, c.psi_beta1, c.psi_beta2});
  opt_conj_ = std::make_unique<nn::FlatAdam>(model_.conjugate->flat_parameters(),
                                            nn::FlatAdamOptions{c.lr, c.conjugate_beta1, c.conjugate_beta2});
}

ContinuousBarycenter::~ContinuousBarycenter() = default;

void ContinuousBarycenter::pretrain_to_identity() {
  const auto& c = model_.config();
  nn::IdentityFitConfig fit;
  fit.max_steps = c.pretrain_iterations;
  fit.tolerance = c.pretrain_tolerance;
  fit.scale = c.pretrain_scale;
  fit.batch_size = c.batch_size;
  fit.max_seconds = c.pretrain_seconds;
  const nn::IdentityFit r =
      nn::fit_identity(fit, c.potential, model_.dim(), c.seed, {model_.psi.get(), model_.conjugate.get()});
  pretrain_steps_ = r.steps;
  pretrain_mse_ = r.mse;
}

std::string ContinuousBarycenter::describe() const {
  const auto& c = model_.config();
  std::ostringstream out;
  out << "CWB (Korotin et al. 2021): ICNN width " << c.potential.width << ", " << c.iterations
      << " steps, batch " << c.batch_size << ", lambda_cyc " << c.cycle_weight << ", lambda_cong "
      << c.congruence_weight << "; pre-trained to the identity in " << pretrain_steps_ << " steps (MSE "
      << pretrain_mse_ << ")";
  return out.str();
}

training::StepInfo ContinuousBarycenter::step() {
  const auto& c = model_.config();
  auto& psi = *model_.psi;
  auto& conj = *model_.conjugate;
  const int64_t N = model_.count(), B = c.batch_size, d = model_.dim();
  const auto options = psi.weights().w.options();
  std::vector<at::Tensor> xs;
  for (int64_t i = 0; i < N; ++i) xs.push_back(problem_.marginals[i]->batch(c.seed, i, step_, B));
  const at::Tensor x = at::stack(xs).to(options);  // [N, B, d]
  at::Generator zgen = data::make_generator(data::derive_seed(c.seed, kProposalStream, step_));
  const at::Tensor proposal =
      at::randn({c.proposal_samples, d}, zgen, at::TensorOptions().dtype(at::kDouble)).to(options);

  const Losses losses = c.engine == nn::Engine::kFused ? gradients_fused(x, proposal) : gradients_autograd(x, proposal);
  opt_psi_->step(psi.flat_gradients());
  opt_conj_->step(conj.flat_gradients());
  psi.clamp_convex_weights();
  conj.clamp_convex_weights();

  ++step_;
  training::StepInfo info;
  info.step = step_;
  info.total_steps = c.iterations;
  const double dual = losses.dual.item<double>(), cycle = losses.cycle.item<double>(),
               congruence = losses.congruence.item<double>();
  // sum_i a_i W2^2(mu_i, nu) ~ sum_i a_i E|x - t|^2, from the batch.
  const at::Tensor cost = (weights_ * (x - losses.push).pow(2).sum(-1).mean(1)).sum();
  info.losses = {{"loss", dual + c.cycle_weight * cycle + c.congruence_weight * congruence},
                 {"dual", dual},
                 {"cycle", cycle},
                 {"congruence", congruence},
                 {"barycenter_cost", cost.item<double>()}};
  training::require_finite_losses(info, "training", "lower --lr or standardise the data");
  return info;
}

ContinuousBarycenter::Losses ContinuousBarycenter::gradients_autograd(const at::Tensor& x,
                                                                     const at::Tensor& proposal) {
  const auto& c = model_.config();
  auto& psi = *model_.psi;
  auto& conj = *model_.conjugate;
  const int64_t N = x.size(0), B = x.size(1), d = x.size(2);
  psi.zero_grad();
  conj.zero_grad();
  // grad psi_i(x) with its graph (the cycle term trains psi through it).
  const at::Tensor xr = x.detach().requires_grad_(true);
  const at::Tensor t = torch::autograd::grad({psi.value(xr).sum()}, {xr}, {}, true, true)[0];
  const at::Tensor t_sg = t.detach();
  const at::Tensor& a = weights_;
  Losses out;
  out.push = t_sg;
  // Term 1: sum_i a_i E[<x, sg(t)> - psibar_i(sg(t))]; only psibar learns from it.
  out.dual = (a * ((x * t_sg).sum(-1) - conj.value(t_sg)).mean(1)).sum();
  // Cycle: grad psibar_i(grad psi_i(x)) = x, in mean squared coordinates.
  const at::Tensor back = torch::autograd::grad({conj.value(t).sum()}, {t}, {}, true, true)[0];
  out.cycle = (a * (back - x).pow(2).mean(-1).mean(1)).sum();
  // Congruence on Q~ = N(0, I) samples and every marginal's detached pushes.
  const at::Tensor q = at::cat({proposal, t_sg.reshape({N * B, d})});
  const at::Tensor psibar_q = conj.value(q.unsqueeze(0).expand({N, q.size(0), d}));  // [N, M]
  out.congruence = at::relu((a.view({N, 1}) * psibar_q).sum(0) - 0.5 * (q * q).sum(-1)).mean();
  (out.dual + c.cycle_weight * out.cycle + c.congruence_weight * out.congruence).backward();
  psi.gather_gradients();
  conj.gather_gradients();
  out.dual = out.dual.detach();
  out.cycle = out.cycle.detach();
  out.congruence = out.congruence.detach();
  return out;
}

ContinuousBarycenter::Losses ContinuousBarycenter::gradients_fused(const at::Tensor& x, const at::Tensor& proposal) {
  torch::NoGradGuard no_grad;
  const auto& c = model_.config();
  auto& psi = *model_.psi;
  auto& conj = *model_.conjugate;
  const int64_t N = x.size(0), B = x.size(1), d = x.size(2);
  const at::Tensor a = weights_.view({N, 1});
  Losses out;
  // t = grad psi_i(x), then psibar_i and its gradient at t.
  nn::IcnnTape tape_psi = nn::icnn_forward(psi.config(), psi.weights(), x);
  nn::icnn_backward_gradient(psi.config(), psi.weights(), tape_psi);
  const at::Tensor& t = tape_psi.gradient;
  out.push = t;
  nn::IcnnTape tape_conj = nn::icnn_forward(conj.config(), conj.weights(), t);
  nn::icnn_backward_gradient(conj.config(), conj.weights(), tape_conj);
  const at::Tensor residual = tape_conj.gradient - x;  // grad psibar(grad psi(x)) - x
  out.dual = (a * ((x * t).sum(-1) - tape_conj.value)).mean(1).sum();
  out.cycle = (a * residual.pow(2).mean(-1)).mean(1).sum();

  // psibar: the dual term's -a_i/B on psibar(t), and the cycle term as the
  // directional derivative of psibar along r = d cycle / d grad psibar(t);
  // the same sweep gives Hess psibar(t) r = d cycle / d t.
  const at::Tensor r = residual * (a.unsqueeze(-1) * (2 * c.cycle_weight / static_cast<double>(B * d)));
  nn::IcnnWeights conj_grad =
      nn::icnn_value_parameter_gradient(conj.config(), conj.weights(), tape_conj, -a.expand({N, B}) / B);
  at::Tensor cycle_wrt_t;
  nn::add_gradients(conj_grad, nn::icnn_directional_parameter_gradient(conj.config(), conj.weights(), tape_conj, r,
                                                                       &cycle_wrt_t));
  // psi learns from the cycle term only, through t = grad psi(x): the
  // directional derivative of psi along d cycle / d t.
  const nn::IcnnWeights psi_grad =
      nn::icnn_directional_parameter_gradient(psi.config(), psi.weights(), tape_psi, cycle_wrt_t);

  // Congruence: relu(sum_i a_i psibar_i(q) - |q|^2/2) over M points; its
  // subgradient in psibar_i is a_i [active] / M.
  const at::Tensor q = at::cat({proposal, t.reshape({N * B, d})});
  const int64_t M = q.size(0);
  const nn::IcnnTape tape_q =
      nn::icnn_forward(conj.config(), conj.weights(), q.unsqueeze(0).expand({N, M, d}).contiguous());
  const at::Tensor excess = (a * tape_q.value).sum(0) - 0.5 * (q * q).sum(-1);  // [M]
  out.congruence = at::relu(excess).mean();
  const at::Tensor active = (excess > 0).to(q.scalar_type()).unsqueeze(0);  // [1, M]
  nn::add_gradients(conj_grad, nn::icnn_value_parameter_gradient(conj.config(), conj.weights(), tape_q,
                                                                 a * active * (c.congruence_weight / M)));
  nn::copy_gradients(psi_grad, psi.gradient_views());
  nn::copy_gradients(conj_grad, conj.gradient_views());
  return out;
}

training::TrainingSummary ContinuousBarycenter::train(const std::vector<training::TrainingCallback*>& callbacks) {
  const auto& c = model_.config();
  return training::run_training_loop([this] { return step(); }, step_, c.iterations, c.log_every,
                                     elapsed_before_, model_.history(), callbacks);
}

void ContinuousBarycenter::save_checkpoint(const std::string& path) const {
  nlohmann::json meta = model_.metadata();
  meta["step"] = step_;
  meta["elapsed_seconds"] = elapsed_before_;
  meta["history"] = model_.history();
  io::save_checkpoint(path,
                      {{"psi", [&](auto& a) { model_.psi->save(a); }},
                       {"conjugate", [&](auto& a) { model_.conjugate->save(a); }},
                       {"opt_psi", [&](auto& a) { opt_psi_->save(a); }},
                       {"opt_conjugate", [&](auto& a) { opt_conj_->save(a); }}},
                      meta);
}

void ContinuousBarycenter::load_checkpoint(const std::string& path) {
  const nlohmann::json meta = io::load_checkpoint(path,
                                                  {{"psi", [&](auto& a) { model_.psi->load(a); }},
                                                   {"conjugate", [&](auto& a) { model_.conjugate->load(a); }},
                                                   {"opt_psi", [&](auto& a) { opt_psi_->load(a); }},
                                                   {"opt_conjugate", [&](auto& a) { opt_conj_->load(a); }}},
                                                  model_.metadata(), ContinuousBarycenterModel::kFormatVersion);
  model_.psi->repack();
  model_.conjugate->repack();
  step_ = meta.at("step").get<int64_t>();
  elapsed_before_ = meta.value("elapsed_seconds", 0.0);
  model_.history() = meta.value("history", nlohmann::json::array());
}

}  // namespace wbary::barycenter
