#include "wbary/barycenter/neural_barycenter.h"

#include <algorithm>
#include <torch/optim/adam.h>

#include <chrono>
#include <cmath>
#include <sstream>

#include "wbary/error.h"
#include "wbary/io/checkpoint.h"
#include "wbary/nn/flat_adam.h"
#include "wbary/nn/identity_fit.h"
#include "wbary/nn/icnn_cpu.h"
#include "wbary/nn/icnn_kernels.h"

namespace wbary::barycenter {
namespace {

// Stream ids for counter-based randomness (data/sampler.h): marginal i uses
// stream i; the latent Z uses this one.
constexpr uint64_t kLatentStream = 0x1a7e47ULL;


}  // namespace

NeuralBarycenter::NeuralBarycenter(BarycenterProblem problem, NeuralBarycenterConfig config)
    : problem_((problem.validate(), std::move(problem))),
      model_(problem_.dim(), static_cast<int64_t>(problem_.size()), problem_.weights, problem_.specs,
             std::move(config)) {
  const auto& c = model_.config();
  if (c.pretrain_iterations > 0) {
    nn::IdentityFitConfig fit;
    fit.max_steps = c.pretrain_iterations;
    fit.tolerance = c.pretrain_tolerance;
    fit.scale = c.pretrain_scale;
    fit.max_seconds = c.pretrain_seconds;
    pretrain_ = nn::fit_identity(fit, c.potential, model_.dim(), c.seed, {model_.f.get(), model_.g.get()});
  }
  opt_f_ = std::make_unique<nn::FlatAdam>(model_.f->flat_parameters(),
                                         nn::FlatAdamOptions{c.lr_f, c.adam_beta1, c.adam_beta2});
  opt_g_ = std::make_unique<nn::FlatAdam>(model_.g->flat_parameters(),
                                         nn::FlatAdamOptions{c.lr_g, c.adam_beta1, c.adam_beta2});
  opt_h_ = nn::make_module_adam(model_.h->parameters(), {c.lr_h, c.adam_beta1, c.adam_beta2});
  weights_ = at::tensor(problem_.weights, at::TensorOptions().dtype(at::kDouble))
                 .to(model_.f->weights().w.options());
  model_.h->train();
  if (c.averaging > 0) {
    averaged_ = std::make_unique<NeuralBarycenterModel>(model_.dim(), model_.count(), model_.weights(),
                                                        model_.marginal_specs(), c);
    torch::NoGradGuard no_grad;
    averaged_->f->flat_parameters().copy_(model_.f->flat_parameters());
    averaged_->g->flat_parameters().copy_(model_.g->flat_parameters());
    const auto from = model_.h->parameters();
    const auto to = averaged_->h->parameters();
    for (size_t k = 0; k < to.size(); ++k) to[k].copy_(from[k]);
  }
}

void NeuralBarycenter::update_average() {
  // BatchNorm's running statistics are averages already; they are averaged
  // alike so that they describe the averaged layers' inputs approximately.
  std::vector<at::Tensor> averaged = {averaged_->f->flat_parameters(), averaged_->g->flat_parameters()};
  std::vector<at::Tensor> current = {model_.f->flat_parameters(), model_.g->flat_parameters()};
  for (const auto& t : averaged_->h->parameters()) averaged.push_back(t);
  for (const auto& t : averaged_->h->buffers()) averaged.push_back(t);
  for (const auto& t : model_.h->parameters()) current.push_back(t);
  for (const auto& t : model_.h->buffers()) current.push_back(t);
  training::update_moving_average(averaged, current, model_.config().averaging, step_ + 1);  // step_ is t - 1 here
}

NeuralBarycenterModel& NeuralBarycenter::result() {
  if (!averaged_) return model_;
  averaged_->history() = model_.history();
  return *averaged_;
}

NeuralBarycenter::~NeuralBarycenter() = default;

std::string NeuralBarycenter::describe() const {
  const auto& c = model_.config();
  std::ostringstream out;
  out << "NWB (Fan et al. 2021, Algorithm 1): ICNN width " << c.potential.width << ", generator width "
      << c.generator.width << ", " << c.iterations << " iterations of " << c.f_steps << " x " << c.g_steps
      << " inner steps, batch " << c.batch_size;
  if (c.pretrain_iterations > 0) {
    out << "; f_i, g_i pre-trained to the identity in " << pretrain_.steps << " steps (MSE " << pretrain_.mse << ")";
  }
  return out.str();
}

void NeuralBarycenter::apply_learning_rate_schedule() {
  const auto& c = model_.config();
  const double factor = learning_rate_factor(c, step_);
  opt_f_->set_lr(c.lr_f * factor);
  opt_g_->set_lr(c.lr_g * factor);
  nn::set_learning_rate(*opt_h_, c.lr_h * factor);
}

training::StepInfo NeuralBarycenter::step() {
  const auto& c = model_.config();
  auto& f = *model_.f;
  auto& h = model_.h;
  const int64_t N = model_.count(), B = c.batch_size, d = model_.dim();
  apply_learning_rate_schedule();

  // Batches of this step: a pure function of (seed, step) (data/sampler.h).
  std::vector<at::Tensor> ys;
  for (int64_t i = 0; i < N; ++i) ys.push_back(problem_.marginals[i]->batch(c.seed, i, step_, B));
  // Batches and latents are drawn on the CPU (the same numbers on any
  // device, so a run is reproducible across machines), then moved.
  const auto options = f.weights().w.options();
  const at::Tensor y = at::stack(ys).to(options);  // [N, B, d]
  at::Generator zgen = data::make_generator(data::derive_seed(c.seed, kLatentStream, step_));
  const at::Tensor z = at::randn({B, model_.latent_dim()}, zgen, at::TensorOptions().dtype(at::kDouble)).to(options);

  // h(Z) once per outer iteration: h is fixed inside the f/g loops.
  at::Tensor mu = h->forward(z);  // [B, d], in h's graph
  const at::Tensor mu_n = mu.detach().unsqueeze(0).expand({N, B, d});
  const at::Tensor y_sq = 0.5 * (y * y).sum(-1).mean(1);  // [N], for the cost estimate

  const InnerLosses inner = c.engine == Engine::kFused ? update_potentials_fused(y, mu_n)
                                                        : update_potentials_autograd(y, mu_n);
  const at::Tensor& loss_g_i = inner.loss_g;
  const at::Tensor& f_mu_i = inner.f_mu;
  const at::Tensor& f_grad_g_i = inner.f_t;

  // h-step: minimise E|h(Z)|^2/2 - sum_i a_i E f_i(h(Z)).
  opt_h_->zero_grad();
  const at::Tensor half_sq = 0.5 * (mu * mu).sum(-1).mean();
  at::Tensor loss_h;
  if (c.engine == Engine::kFused) {
    // d/dmu = (mu - sum_i a_i grad f_i(mu)) / B, backpropagated through h only.
    at::Tensor f_value, f_grad;
    if (nn::cpu::supported(f)) {
      nn::cpu::value_and_gradient(f, mu_n, f_value, f_grad);
    } else {
      torch::NoGradGuard no_grad;  // f enters the h-step as constants
      nn::IcnnTape tape = nn::icnn_forward(f.config(), f.weights(), mu_n);
      nn::icnn_backward_gradient(f.config(), f.weights(), tape);
      f_value = tape.value;
      f_grad = tape.gradient;
    }
    const at::Tensor a = weights_.view({N, 1, 1});
    const at::Tensor dmu = (mu.detach() - (a * f_grad).sum(0)) / static_cast<double>(B);
    loss_h = half_sq.detach() - (weights_ * f_value.mean(1)).sum();
    mu.backward(dmu);
  } else {
    const at::Tensor f_h = f.value(mu.unsqueeze(0).expand({N, B, d})).mean(1);  // [N]
    loss_h = half_sq - (weights_ * f_h).sum();
    loss_h.backward();
  }
  opt_h_->step();
  if (averaged_) update_average();

  ++step_;
  training::StepInfo info;
  info.step = step_;
  info.total_steps = c.iterations;
  {
    torch::NoGradGuard no_grad;
    const at::Tensor w = weights_;
    // sum_i a_i W2^2(nu, mu_i) = 2 sum_i a_i [L_g,i - E f_i(mu) + E|mu|^2/2 + E|y_i|^2/2] (eq. 6-7).
    const at::Tensor cost_i = 2 * (loss_g_i.detach() - f_mu_i.detach() + half_sq.detach() + y_sq);
    info.losses = {{"loss_g", (w * loss_g_i.detach()).sum().item<double>()},
                   {"loss_f", (w * (f_mu_i.detach() - f_grad_g_i.detach())).sum().item<double>()},
                   {"loss_h", loss_h.item<double>()},
                   {"barycenter_cost", (w * cost_i).sum().item<double>()}};
  }
  training::require_finite_losses(info, "training",
                                  "lower the learning rates (--lr-f, --lr-g, --lr-h) or standardise the data");
  return info;
}

NeuralBarycenter::InnerLosses NeuralBarycenter::update_potentials_autograd(const at::Tensor& y,
                                                                          const at::Tensor& mu) {
  const auto& c = model_.config();
  auto& f = *model_.f;
  auto& g = *model_.g;
  InnerLosses out;
  for (int64_t kf = 0; kf < c.f_steps; ++kf) {
    for (int64_t kg = 0; kg < c.g_steps; ++kg) {
      // g-step: minimise E f_i(grad g_i(Y)) - <Y, grad g_i(Y)> (+ penalty).
      g.zero_grad();
      at::Tensor grad_g = g.gradient_autograd(y, /*create_graph=*/true);
      out.loss_g = (f.value(grad_g) - (y * grad_g).sum(-1)).mean(1);  // [N]
      at::Tensor loss = out.loss_g.sum();
      if (c.g_convexity == Convexity::kPenalty) loss = loss + c.convexity_penalty * g.convexity_violation();
      loss.backward();
      g.gather_gradients();
      opt_g_->step(g.flat_gradients());
      if (c.g_convexity == Convexity::kClamp) g.clamp_convex_weights();
    }
    // f-step: maximise E f_i(grad g_i(Y)) - E f_i(h(Z)).
    f.zero_grad();
    const at::Tensor grad_g = g.gradient(y);
    out.f_mu = f.value(mu).mean(1);
    out.f_t = f.value(grad_g).mean(1);
    at::Tensor loss = (out.f_mu - out.f_t).sum();
    if (c.f_convexity == Convexity::kPenalty) loss = loss + c.convexity_penalty * f.convexity_violation();
    loss.backward();
    f.gather_gradients();
    opt_f_->step(f.flat_gradients());
    if (c.f_convexity == Convexity::kClamp) f.clamp_convex_weights();
  }
  out.loss_g = out.loss_g.detach();
  out.f_mu = out.f_mu.detach();
  out.f_t = out.f_t.detach();
  return out;
}

NeuralBarycenter::InnerLosses NeuralBarycenter::update_potentials_fused(const at::Tensor& y, const at::Tensor& mu) {
  torch::NoGradGuard no_grad;
  const auto& c = model_.config();
  auto& f = *model_.f;
  auto& g = *model_.g;
  const int64_t N = y.size(0), B = y.size(1);
  const double inv_b = 1.0 / static_cast<double>(B);
  const double g_penalty = c.g_convexity == Convexity::kPenalty ? c.convexity_penalty : 0.0;
  const double f_penalty = c.f_convexity == Convexity::kPenalty ? c.convexity_penalty : 0.0;
  // Raw-memory Eigen kernels on CPU; the same maths in ATen operators elsewhere (CUDA).
  const bool on_cpu = nn::cpu::supported(f) && nn::cpu::supported(g);
  // f-step cotangent: +1/B on the h(Z) half of the batch, -1/B on the grad g(Y) half.
  const at::Tensor f_cotangent =
      at::cat({at::full({N, B}, inv_b, y.options()), at::full({N, B}, -inv_b, y.options())}, 1);
  std::vector<double> loss_g(N);
  InnerLosses out;
  for (int64_t kf = 0; kf < c.f_steps; ++kf) {
    for (int64_t kg = 0; kg < c.g_steps; ++kg) {
      // g-step in closed form (DESIGN.md §2): with t = grad g(Y) and
      // v = (grad f(t) - Y)/B, the loss gradient is d/dtheta sum_b v_b . grad g(Y_b).
      if (on_cpu) {
        nn::cpu::g_step(g, f, y, g_penalty, loss_g.data());
      } else {
        nn::IcnnTape tg = nn::icnn_forward(g.config(), g.weights(), y);
        nn::icnn_backward_gradient(g.config(), g.weights(), tg);
        nn::IcnnTape tf = nn::icnn_forward(f.config(), f.weights(), tg.gradient);
        nn::icnn_backward_gradient(f.config(), f.weights(), tf);
        out.loss_g = (tf.value - (y * tg.gradient).sum(-1)).mean(1);
        const at::Tensor v = (tf.gradient - y) * inv_b;
        nn::IcnnWeights grads = nn::icnn_directional_parameter_gradient(g.config(), g.weights(), tg, v);
        if (g_penalty > 0) nn::add_convexity_penalty_gradient(g.weights(), g_penalty, grads);
        nn::copy_gradients(grads, g.gradient_views());
      }
      opt_g_->step(g.flat_gradients());
      if (c.g_convexity == Convexity::kClamp) g.clamp_convex_weights();
    }
    // f-step: one pass over [h(Z); grad g(Y)] with cotangent (+1/B, -1/B).
    at::Tensor value;
    if (on_cpu) {
      at::Tensor g_value, t;
      nn::cpu::value_and_gradient(g, y, g_value, t);
      nn::cpu::value_parameter_gradient(f, at::cat({mu, t}, 1), f_cotangent, f_penalty, value);
    } else {
      nn::IcnnTape tape = nn::icnn_forward(f.config(), f.weights(), at::cat({mu, g.gradient(y)}, 1));
      nn::IcnnWeights grads = nn::icnn_value_parameter_gradient(f.config(), f.weights(), tape, f_cotangent);
      if (f_penalty > 0) nn::add_convexity_penalty_gradient(f.weights(), f_penalty, grads);
      nn::copy_gradients(grads, f.gradient_views());
      value = tape.value;
    }
    out.f_mu = value.narrow(1, 0, B).mean(1);
    out.f_t = value.narrow(1, B, B).mean(1);
    opt_f_->step(f.flat_gradients());
    if (c.f_convexity == Convexity::kClamp) f.clamp_convex_weights();
  }
  if (on_cpu) out.loss_g = at::tensor(loss_g, at::TensorOptions().dtype(at::kDouble)).to(y.scalar_type());
  return out;
}

training::TrainingSummary NeuralBarycenter::train(const std::vector<training::TrainingCallback*>& callbacks) {
  const auto& c = model_.config();
  return training::run_training_loop([this] { return step(); }, step_, c.iterations, c.log_every,
                                     elapsed_before_, model_.history(), callbacks);
}

void NeuralBarycenter::save_checkpoint(const std::string& path) const {
  std::vector<io::ArchiveWriter> parts = {{"f", [&](auto& a) { model_.f->save(a); }},
                                          {"g", [&](auto& a) { model_.g->save(a); }},
                                          {"h", [&](auto& a) { model_.h->save(a); }},
                                          {"opt_f", [&](auto& a) { opt_f_->save(a); }},
                                          {"opt_g", [&](auto& a) { opt_g_->save(a); }},
                                          {"opt_h", [&](auto& a) { opt_h_->save(a); }}};
  if (averaged_) {
    parts.push_back({"averaged_f", [&](auto& a) { averaged_->f->save(a); }});
    parts.push_back({"averaged_g", [&](auto& a) { averaged_->g->save(a); }});
    parts.push_back({"averaged_h", [&](auto& a) { averaged_->h->save(a); }});
  }
  nlohmann::json meta = model_.metadata();
  meta["step"] = step_;
  meta["elapsed_seconds"] = elapsed_before_;
  meta["history"] = model_.history();
  io::save_checkpoint(path, parts, meta);
}

void NeuralBarycenter::load_checkpoint(const std::string& path) {
  std::vector<io::ArchiveReader> parts = {{"f", [&](auto& a) { model_.f->load(a); }},
                                          {"g", [&](auto& a) { model_.g->load(a); }},
                                          {"h", [&](auto& a) { model_.h->load(a); }},
                                          {"opt_f", [&](auto& a) { opt_f_->load(a); }},
                                          {"opt_g", [&](auto& a) { opt_g_->load(a); }},
                                          {"opt_h", [&](auto& a) { opt_h_->load(a); }}};
  if (averaged_) {
    parts.push_back({"averaged_f", [&](auto& a) { averaged_->f->load(a); }});
    parts.push_back({"averaged_g", [&](auto& a) { averaged_->g->load(a); }});
    parts.push_back({"averaged_h", [&](auto& a) { averaged_->h->load(a); }});
  }
  const nlohmann::json meta = io::load_checkpoint(path, parts, model_.metadata(), kModelFormatVersion);
  // Module::load replaced the storages.
  model_.f->repack();
  model_.g->repack();
  if (averaged_) {
    averaged_->f->repack();
    averaged_->g->repack();
  }
  step_ = meta.at("step").get<int64_t>();
  elapsed_before_ = meta.value("elapsed_seconds", 0.0);
  model_.history() = meta.value("history", nlohmann::json::array());
}

}  // namespace wbary::barycenter
