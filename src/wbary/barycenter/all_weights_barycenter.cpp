#include "wbary/barycenter/all_weights_barycenter.h"

#include <torch/autograd.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "wbary/data/sampler.h"
#include "wbary/data/simplex.h"
#include "wbary/error.h"
#include "wbary/io/checkpoint.h"
#include "wbary/nn/flat_adam.h"
#include "wbary/nn/icnn_cpu.h"
#include "wbary/nn/icnn_kernels.h"

namespace wbary::barycenter {
namespace {

// Counter-based streams (data/sampler.h): marginal i uses stream i.
constexpr uint64_t kLatentStream = 0x1a7e47ULL;
constexpr uint64_t kWeightStream = 0x3e1647ULL;

// Samples per g-step: config.g_batch_size, the whole batch when 0 or larger.
int64_t g_step_batch(const AllWeightsBarycenterConfig& c) {
  return c.g_batch_size == 0 ? c.batch_size : std::min(c.g_batch_size, c.batch_size);
}

// The g-steps' batches: consecutive slices of size b of the outer iteration's
// batch y [N, B, d], contiguous for the kernels (y itself when b = B). A tail
// of fewer than b samples is left to the f-step.
std::vector<at::Tensor> g_step_batches(const at::Tensor& y, int64_t b) {
  const int64_t B = y.size(1);
  if (b == B) return {y};
  std::vector<at::Tensor> out;
  for (int64_t start = 0; start + b <= B; start += b) out.push_back(y.narrow(1, start, b).contiguous());
  return out;
}

// Marginal k's loss is scaled by a_k: so is the gradient of network k.
void scale_per_network(const nn::IcnnWeights& gradients, const at::Tensor& a) {
  torch::NoGradGuard no_grad;
  auto scale = [&](const at::Tensor& t) {
    if (t.defined()) const_cast<at::Tensor&>(t).mul_(a.view({-1, 1, 1}));
  };
  for (const auto& t : gradients.A) scale(t);
  for (const auto& t : gradients.b) scale(t);
  for (const auto& t : gradients.W) scale(t);
  for (const auto& t : gradients.slope) scale(t);
  scale(gradients.w);
  scale(gradients.a);
  scale(gradients.c);
}

// + lambda d/dtheta R(theta) on the convex path's gradients (eq. 10).
void add_penalty(nn::PicnnPotential& net, double lambda) {
  const nn::IcnnPotential& convex = net.convex();
  if (nn::cpu::supported(convex)) {
    nn::cpu::add_convexity_penalty(convex, lambda);  // the kernels' loop: no ATen dispatch per g-step
    return;
  }
  nn::IcnnWeights g = convex.gradient_views();
  nn::add_convexity_penalty_gradient(convex.weights(), lambda, g);
  nn::copy_gradients(g, convex.gradient_views());
}

}  // namespace

AllWeightsBarycenter::AllWeightsBarycenter(BarycenterProblem problem, AllWeightsBarycenterConfig config)
    : problem_((problem.validate(), std::move(problem))),
      model_(problem_.dim(), static_cast<int64_t>(problem_.size()), problem_.weights, problem_.specs,
             std::move(config)) {
  const auto& c = model_.config();
  horizon_ = training::ScheduleHorizon(c.iterations, c.schedule_seconds);
  auto flat_adam = [&](const at::Tensor& params, double lr) {
    return std::make_unique<nn::FlatAdam>(params, nn::FlatAdamOptions{lr, c.adam_beta1, c.adam_beta2});
  };
  opt_f_convex_ = flat_adam(model_.f->convex().flat_parameters(), c.lr_f);
  opt_f_context_ = flat_adam(model_.f->context_parameters(), c.lr_f);
  opt_g_convex_ = flat_adam(model_.g->convex().flat_parameters(), c.lr_g);
  opt_g_context_ = flat_adam(model_.g->context_parameters(), c.lr_g);
  opt_h_ = std::make_unique<nn::ModuleAdam>(model_.h->parameters(),
                                          nn::FlatAdamOptions{c.lr_h, c.adam_beta1, c.adam_beta2});
  model_.h->train();
  // Scratch ICNNs for the kernels: same shapes as the convex paths.
  at::Generator unused = data::make_generator(0);
  const auto dtype = model_.f->options().dtype().toScalarType();
  const at::Device device = model_.f->options().device();
  f_at_w_ = std::make_unique<nn::IcnnPotential>(model_.count(), model_.dim(), model_.f->icnn_config(), unused, dtype, device);
  g_at_w_ = std::make_unique<nn::IcnnPotential>(model_.count(), model_.dim(), model_.g->icnn_config(), unused, dtype, device);
  if (c.averaging > 0) {
    averaged_ = std::make_unique<AllWeightsBarycenterModel>(model_.dim(), model_.count(), model_.weights(),
                                                            model_.marginal_specs(), c);
    torch::NoGradGuard no_grad;
    const auto to = averaged_tensors(*averaged_), from = averaged_tensors(model_);
    for (size_t k = 0; k < to.size(); ++k) to[k].copy_(from[k]);
  }
}

std::vector<at::Tensor> AllWeightsBarycenter::averaged_tensors(const AllWeightsBarycenterModel& m) {
  std::vector<at::Tensor> out = {m.f->convex().flat_parameters(), m.f->context_parameters(),
                                 m.g->convex().flat_parameters(), m.g->context_parameters()};
  for (const auto& t : m.h->parameters()) out.push_back(t);
  for (const auto& t : m.h->buffers()) out.push_back(t);
  return out;
}

void AllWeightsBarycenter::update_average() {
  training::update_moving_average(averaged_tensors(*averaged_), averaged_tensors(model_), model_.config().averaging,
                                  step_ + 1);  // step_ is t - 1 here
}

AllWeightsBarycenterModel& AllWeightsBarycenter::result() {
  if (!averaged_) return model_;
  averaged_->history() = model_.history();
  return *averaged_;
}

AllWeightsBarycenter::~AllWeightsBarycenter() = default;

std::string AllWeightsBarycenter::describe() const {
  const auto& c = model_.config();
  std::ostringstream out;
  out << "NWB-II (Fan et al. 2021 §B, all weights): PICNN width " << c.potential.convex.width << " (weight path "
      << c.potential.context_width << "), generator width " << c.generator.width << ", " << c.iterations
      << " iterations of " << c.f_steps << " x " << c.g_steps << " inner steps, batch " << c.batch_size;
  if (g_step_batch(c) < c.batch_size) out << " (g-steps on slices of " << g_step_batch(c) << ")";
  out << "; w ~ Dirichlet(" << c.dirichlet_concentration << ") held " << c.weight_repeat << " iterations, "
      << c.vertex_fraction << " of draws at a vertex";
  return out.str();
}

at::Tensor AllWeightsBarycenter::training_weights(int64_t step) const {
  const auto& c = model_.config();
  at::Generator gen = data::make_generator(data::derive_seed(c.seed, kWeightStream, step / c.weight_repeat));
  return data::sample_simplex(1, model_.count(), c.dirichlet_concentration, c.vertex_fraction, gen)[0];
}

void AllWeightsBarycenter::apply_learning_rate_schedule() {
  const auto& c = model_.config();
  const double progress = horizon_.progress(step_);
  if (horizon_.replanned()) history().push_back({{"step", step_}, {"schedule_horizon", *horizon_.planned()}});
  const double factor = learning_rate_factor(c, step_, progress);
  opt_f_convex_->set_lr(c.lr_f * factor);
  opt_f_context_->set_lr(c.lr_f * factor);
  opt_g_convex_->set_lr(c.lr_g * factor);
  opt_g_context_->set_lr(c.lr_g * factor);
  opt_h_->set_lr(c.lr_h * factor);
}

training::StepInfo AllWeightsBarycenter::step() {
  const auto& c = model_.config();
  auto& f = *model_.f;
  auto& h = model_.h;
  const int64_t N = model_.count(), B = c.batch_size, d = model_.dim();
  apply_learning_rate_schedule();

  const auto options = f.options();
  std::vector<at::Tensor> ys;
  for (int64_t i = 0; i < N; ++i) ys.push_back(problem_.marginals[i]->batch(c.seed, i, step_, B));
  const at::Tensor y = at::stack(ys).to(options);  // [N, B, d]
  at::Generator zgen = data::make_generator(data::derive_seed(c.seed, kLatentStream, step_));
  const at::Tensor z = at::randn({B, model_.latent_dim()}, zgen, at::TensorOptions().dtype(at::kDouble)).to(options);
  const at::Tensor a = training_weights(step_).to(options);  // [N]
  // h(Z, w) once per outer iteration, in h's graph (autograd) or by the
  // closed-form pass (fused engine on the CPU: one w per batch makes FiLM and
  // the output affine per-feature constants; nn/generator_cpu.h).
  const bool h_closed_form =
      c.engine == nn::Engine::kFused && nn::cpu::ConditionalGeneratorTrainingPass::supported(*h);
  at::Tensor mu = h_closed_form ? h_pass_.forward(*h, z, a) : h->forward(z, a.unsqueeze(0).expand({B, N}));  // [B, d]
  const at::Tensor mu_n = mu.detach().unsqueeze(0).expand({N, B, d});
  const std::vector<at::Tensor> y_g = g_step_batches(y, g_step_batch(c));
  const InnerLosses inner = c.engine == nn::Engine::kFused ? update_potentials_fused(y, y_g, mu_n, a)
                                                            : update_potentials_autograd(y, y_g, mu_n, a);

  // h-step: E|h|^2/2 - sum_i a_i E f_i(h); f enters as a fixed function.
  opt_h_->zero_grad();
  const at::Tensor half_sq = 0.5 * (mu * mu).sum(-1).mean();
  at::Tensor f_value, f_grad;
  {
    torch::NoGradGuard no_grad;
    f.effective_into(a, *f_at_w_);
    if (nn::cpu::supported(*f_at_w_)) {
      nn::cpu::value_and_gradient(*f_at_w_, mu_n, f_value, f_grad);
    } else {
      nn::IcnnTape tape = nn::icnn_forward(f_at_w_->config(), f_at_w_->weights(), mu_n);
      nn::icnn_backward_gradient(f_at_w_->config(), f_at_w_->weights(), tape);
      f_value = tape.value;
      f_grad = tape.gradient;
    }
  }
  const at::Tensor a3 = a.view({N, 1, 1});
  const at::Tensor dmu = (mu.detach() - (a3 * f_grad).sum(0)) / static_cast<double>(B);
  h_closed_form ? h_pass_.backward(*h, dmu) : mu.backward(dmu);
  const at::Tensor loss_h = half_sq.detach() - (a * f_value.mean(1)).sum();
  opt_h_->step();
  if (averaged_) update_average();

  ++step_;
  training::StepInfo info;
  info.step = step_;
  info.total_steps = c.iterations;
  {
    torch::NoGradGuard no_grad;
    const at::Tensor y_sq = 0.5 * (y * y).sum(-1).mean(1);
    // sum_i a_i W2^2(nu_a, mu_i) = 2 sum_i a_i [L_g,i - E f_i(mu) + E|mu|^2/2 + E|y_i|^2/2] (eq. 6-7) at this batch's a.
    const at::Tensor cost_i = 2 * (inner.loss_g - inner.f_mu + half_sq.detach() + y_sq);
    info.losses = {{"loss_g", (a * inner.loss_g).sum().item<double>()},
                   {"loss_f", (a * (inner.f_mu - inner.f_t)).sum().item<double>()},
                   {"loss_h", loss_h.item<double>()},
                   {"barycenter_cost", (a * cost_i).sum().item<double>()}};
  }
  training::require_finite_losses(info, "training",
                                  "lower the learning rates (--lr-f, --lr-g, --lr-h) or standardise the data");
  return info;
}


AllWeightsBarycenter::InnerLosses AllWeightsBarycenter::update_potentials_fused(const at::Tensor& y,
                                                                                const std::vector<at::Tensor>& y_g,
                                                                                const at::Tensor& mu,
                                                                                const at::Tensor& a) {
  const auto& c = model_.config();
  auto& f = *model_.f;
  auto& g = *model_.g;
  auto& f_at = *f_at_w_;
  auto& g_at = *g_at_w_;
  const int64_t N = y.size(0), B = y.size(1);
  const double inv_b = 1.0 / static_cast<double>(B);
  const bool on_cpu = nn::cpu::supported(f_at);
  // f-step cotangent: +a_i/B on the h(Z) half, -a_i/B on the grad g(Y) half.
  const at::Tensor f_cotangent = at::cat({a.view({N, 1}).expand({N, B}), -a.view({N, 1}).expand({N, B})}, 1) * inv_b;
  std::vector<double> loss_g(N);
  InnerLosses out;
  size_t next = 0;  // y_g's batches in turn
  for (int64_t kf = 0; kf < c.f_steps; ++kf) {
    f.effective_into(a, f_at);  // f is fixed in the g-loop
    for (int64_t kg = 0; kg < c.g_steps; ++kg) {
      // g-step on g's effective ICNN at w (DESIGN.md §2): the kernels give the
      // gradient in the effective weights, backward_at the rest.
      g.effective_into(a, g_at);
      const at::Tensor& yk = y_g[next++ % y_g.size()];
      if (on_cpu) {
        nn::cpu::g_step(g_at, f_at, yk, 0.0, loss_g.data());
      } else {
        torch::NoGradGuard no_grad;
        nn::IcnnTape tg = nn::icnn_forward(g_at.config(), g_at.weights(), yk);
        nn::icnn_backward_gradient(g_at.config(), g_at.weights(), tg);
        nn::IcnnTape tf = nn::icnn_forward(f_at.config(), f_at.weights(), tg.gradient);
        nn::icnn_backward_gradient(f_at.config(), f_at.weights(), tf);
        out.loss_g = (tf.value - (yk * tg.gradient).sum(-1)).mean(1);
        nn::copy_gradients(nn::icnn_directional_parameter_gradient(g_at.config(), g_at.weights(), tg,
                                                                   (tf.gradient - yk) / static_cast<double>(yk.size(1))),
                           g_at.gradient_views());
      }
      scale_per_network(g_at.gradient_views(), a);
      g.backward_at(a, g_at.gradient_views());
      if (c.g_convexity == Convexity::kPenalty) add_penalty(g, c.convexity_penalty);
      opt_g_convex_->step(g.convex().flat_gradients());
      opt_g_context_->step(g.context_gradients());
      if (c.g_convexity == Convexity::kClamp) g.clamp_convex_weights();
    }
    // f-step: one pass over [h(Z); grad g(Y)] with cotangent (+a_i/B, -a_i/B).
    at::Tensor t, value;
    {
      torch::NoGradGuard no_grad;
      g.effective_into(a, g_at);
      if (on_cpu) {
        at::Tensor g_value;
        nn::cpu::value_and_gradient(g_at, y, g_value, t);
      } else {
        t = nn::icnn_gradient(g_at.config(), g_at.weights(), y);
      }
    }
    f.effective_into(a, f_at);
    const at::Tensor x = at::cat({mu, t}, 1);
    if (on_cpu) {
      nn::cpu::value_parameter_gradient(f_at, x, f_cotangent, 0.0, value);
    } else {
      torch::NoGradGuard no_grad;
      const nn::IcnnTape tape = nn::icnn_forward(f_at.config(), f_at.weights(), x);
      value = tape.value;
      nn::copy_gradients(nn::icnn_value_parameter_gradient(f_at.config(), f_at.weights(), tape, f_cotangent),
                         f_at.gradient_views());
    }
    out.f_mu = value.narrow(1, 0, B).mean(1);
    out.f_t = value.narrow(1, B, B).mean(1);
    f.backward_at(a, f_at.gradient_views());
    if (c.f_convexity == Convexity::kPenalty) add_penalty(f, c.convexity_penalty);
    opt_f_convex_->step(f.convex().flat_gradients());
    opt_f_context_->step(f.context_gradients());
    if (c.f_convexity == Convexity::kClamp) f.clamp_convex_weights();
  }
  // The CPU kernels report the g-loss as numbers; the last g-step's is kept.
  if (on_cpu) out.loss_g = at::tensor(loss_g, at::TensorOptions().dtype(at::kDouble)).to(y.options());
  return out;
}

AllWeightsBarycenter::InnerLosses AllWeightsBarycenter::update_potentials_autograd(const at::Tensor& y,
                                                                                   const std::vector<at::Tensor>& y_g,
                                                                                   const at::Tensor& mu,
                                                                                   const at::Tensor& a) {
  const auto& c = model_.config();
  auto& f = *model_.f;
  auto& g = *model_.g;
  InnerLosses out;
  size_t next = 0;  // y_g's batches in turn
  for (int64_t kf = 0; kf < c.f_steps; ++kf) {
    for (int64_t kg = 0; kg < c.g_steps; ++kg) {
      // g-step: min sum_i a_i E f_i(grad g_i(Y)) - <Y, grad g_i(Y)> (+ penalty), double backward.
      g.zero_grad();
      const at::Tensor& yk = y_g[next++ % y_g.size()];
      const at::Tensor yr = yk.detach().requires_grad_(true);
      const at::Tensor t = torch::autograd::grad({g.value(yr, a).sum()}, {yr}, {}, true, true)[0];
      const at::Tensor loss_g = (f.value(t, a) - (yk * t).sum(-1)).mean(1);
      at::Tensor loss = (a * loss_g).sum();
      if (c.g_convexity == Convexity::kPenalty) loss = loss + c.convexity_penalty * g.convexity_violation();
      loss.backward();
      g.gather_gradients();
      opt_g_convex_->step(g.convex().flat_gradients());
      opt_g_context_->step(g.context_gradients());
      if (c.g_convexity == Convexity::kClamp) g.clamp_convex_weights();
      out.loss_g = loss_g.detach();
    }
    // f-step: max sum_i a_i (E f_i(grad g_i(Y)) - E f_i(h(Z))).
    f.zero_grad();
    const at::Tensor t = g.gradient(y, a);
    const at::Tensor f_mu = f.value(mu, a).mean(1);
    const at::Tensor f_t = f.value(t, a).mean(1);
    at::Tensor loss = (a * (f_mu - f_t)).sum();
    if (c.f_convexity == Convexity::kPenalty) loss = loss + c.convexity_penalty * f.convexity_violation();
    loss.backward();
    f.gather_gradients();
    opt_f_convex_->step(f.convex().flat_gradients());
    opt_f_context_->step(f.context_gradients());
    if (c.f_convexity == Convexity::kClamp) f.clamp_convex_weights();
    out.f_mu = f_mu.detach();
    out.f_t = f_t.detach();
  }
  return out;
}

training::TrainingSummary AllWeightsBarycenter::train(const std::vector<training::TrainingCallback*>& callbacks) {
  const auto& c = model_.config();
  return training::run_training_loop([this] { return step(); }, step_, c.iterations, c.log_every,
                                     elapsed_before_, model_.history(), callbacks);
}

void AllWeightsBarycenter::save_checkpoint(const std::string& path) const {
  nlohmann::json meta = model_.metadata();
  meta["step"] = step_;
  meta["elapsed_seconds"] = elapsed_before_;
  meta["history"] = model_.history();
  std::vector<io::ArchiveWriter> parts = {{"f", [&](auto& a) { model_.f->save(a); }},
                       {"g", [&](auto& a) { model_.g->save(a); }},
                       {"h", [&](auto& a) { model_.h->save(a); }},
                       {"opt_f_convex", [&](auto& a) { opt_f_convex_->save(a); }},
                       {"opt_f_context", [&](auto& a) { opt_f_context_->save(a); }},
                       {"opt_g_convex", [&](auto& a) { opt_g_convex_->save(a); }},
                       {"opt_g_context", [&](auto& a) { opt_g_context_->save(a); }},
                       {"opt_h", [&](auto& a) { opt_h_->save(a); }}};
  if (averaged_) {
    parts.push_back({"averaged_f", [&](auto& a) { averaged_->f->save(a); }});
    parts.push_back({"averaged_g", [&](auto& a) { averaged_->g->save(a); }});
    parts.push_back({"averaged_h", [&](auto& a) { averaged_->h->save(a); }});
  }
  io::save_checkpoint(path, parts, meta);
}

void AllWeightsBarycenter::load_checkpoint(const std::string& path) {
  std::vector<io::ArchiveReader> parts = {{"f", [&](auto& a) { model_.f->load(a); }},
                                                   {"g", [&](auto& a) { model_.g->load(a); }},
                                                   {"h", [&](auto& a) { model_.h->load(a); }},
                                                   {"opt_f_convex", [&](auto& a) { opt_f_convex_->load(a); }},
                                                   {"opt_f_context", [&](auto& a) { opt_f_context_->load(a); }},
                                                   {"opt_g_convex", [&](auto& a) { opt_g_convex_->load(a); }},
                                                   {"opt_g_context", [&](auto& a) { opt_g_context_->load(a); }},
                                                   {"opt_h", [&](auto& a) { opt_h_->load(a); }}};
  if (averaged_) {
    parts.push_back({"averaged_f", [&](auto& a) { averaged_->f->load(a); }});
    parts.push_back({"averaged_g", [&](auto& a) { averaged_->g->load(a); }});
    parts.push_back({"averaged_h", [&](auto& a) { averaged_->h->load(a); }});
  }
  const nlohmann::json meta =
      io::load_checkpoint(path, parts, model_.metadata(), AllWeightsBarycenterModel::kFormatVersion);
  // Module::load replaced the storages.
  for (AllWeightsBarycenterModel* m : {&model_, averaged_.get()}) {
    if (!m) continue;
    m->f->repack();
    m->g->repack();
  }
  step_ = meta.at("step").get<int64_t>();
  elapsed_before_ = meta.value("elapsed_seconds", 0.0);
  model_.history() = meta.value("history", nlohmann::json::array());
}

}  // namespace wbary::barycenter
