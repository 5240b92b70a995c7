#include "wbary/barycenter/neural_barycenter.h"

#include <algorithm>
#include <torch/optim/adam.h>

#include <chrono>
#include <cmath>
#include <sstream>

#include "wbary/distributed/process_group.h"
#include "wbary/distributed/row_exchange.h"
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

std::vector<int64_t> owned_marginals(const BarycenterProblem& problem, const std::optional<MarginalParallel>& parallel) {
  if (!parallel) {
    std::vector<int64_t> all(problem.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
    return all;
  }
  if (parallel->partition.count() != static_cast<int64_t>(problem.size())) {
    throw InvalidArgument("marginal-parallel run: the partition covers " + std::to_string(parallel->partition.count()) +
                          " marginals, the problem has " + std::to_string(problem.size()));
  }
  if (!parallel->group) throw InvalidArgument("marginal-parallel run without a process group");
  return parallel->partition.owned();
}

template <typename T>
std::vector<T> rows(const std::vector<T>& all, const std::vector<int64_t>& owned) {
  std::vector<T> out;
  for (const int64_t i : owned) out.push_back(all.at(static_cast<size_t>(i)));
  return out;
}

// The rows that move between ranks: each potential's parameters and, with
// the optimisers, Adam's two moments, laid out alike (nn/icnn.h parameter_views).
std::vector<distributed::StackRows> potential_rows(const NeuralBarycenterModel& local, const NeuralBarycenterModel& full,
                                                   const nn::FlatAdam* local_f, const nn::FlatAdam* local_g,
                                                   const nn::FlatAdam* full_f, const nn::FlatAdam* full_g) {
  auto stack = [](const nn::IcnnPotential& l, const at::Tensor& lt, const nn::IcnnPotential& f, const at::Tensor& ft) {
    return distributed::StackRows{l.parameter_views(lt), f.parameter_views(ft)};
  };
  std::vector<distributed::StackRows> out = {
      stack(*local.f, local.f->flat_parameters(), *full.f, full.f->flat_parameters()),
      stack(*local.g, local.g->flat_parameters(), *full.g, full.g->flat_parameters())};
  if (local_f != nullptr) {
    out.push_back(stack(*local.f, local_f->first_moment(), *full.f, full_f->first_moment()));
    out.push_back(stack(*local.f, local_f->second_moment(), *full.f, full_f->second_moment()));
    out.push_back(stack(*local.g, local_g->first_moment(), *full.g, full_g->first_moment()));
    out.push_back(stack(*local.g, local_g->second_moment(), *full.g, full_g->second_moment()));
  }
  return out;
}

// The generator's parameters and buffers (BatchNorm's statistics), in order.
std::vector<at::Tensor> generator_state(const nn::Generator& h) {
  std::vector<at::Tensor> out;
  for (const auto& t : h->parameters()) out.push_back(t);
  for (const auto& t : h->buffers()) out.push_back(t);
  return out;
}

void copy_generator(const nn::Generator& from, const nn::Generator& to) {
  torch::NoGradGuard no_grad;
  const auto a = generator_state(from);
  const auto b = generator_state(to);
  for (size_t k = 0; k < a.size(); ++k) b[k].copy_(a[k]);
}

}  // namespace

struct NeuralBarycenter::FullState {
  std::unique_ptr<NeuralBarycenterModel> model;     // all N marginals
  std::unique_ptr<NeuralBarycenterModel> averaged;  // config.averaging > 0
  std::unique_ptr<nn::FlatAdam> opt_f, opt_g;       // Adam over model's f and g
};

NeuralBarycenter::NeuralBarycenter(BarycenterProblem problem, NeuralBarycenterConfig config,
                                   std::optional<MarginalParallel> parallel)
    : problem_((problem.validate(), std::move(problem))),
      owned_(owned_marginals(problem_, parallel)),
      model_(problem_.dim(), static_cast<int64_t>(owned_.size()), rows(problem_.weights, owned_),
             problem_.specs.empty() ? problem_.specs : rows(problem_.specs, owned_), std::move(config)) {
  const auto& c = model_.config();
  horizon_ = training::ScheduleHorizon(c.iterations, c.schedule_seconds);
  if (parallel) {
    group_ = parallel->group;
    // The full model, initialised exactly as one process would (every rank
    // the same), gives each rank its rows: a run's iterates do not depend on
    // how the marginals are spread.
    full_ = std::make_unique<FullState>();
    full_->model = std::make_unique<NeuralBarycenterModel>(problem_.dim(), static_cast<int64_t>(problem_.size()),
                                                           problem_.weights, problem_.specs, c);
    distributed::select_rows(potential_rows(model_, *full_->model, nullptr, nullptr, nullptr, nullptr), owned_);
    copy_generator(full_->model->h, model_.h);
    // Ranks may differ in LibTorch build or thread count; h must not.
    distributed::broadcast_all(*group_, generator_state(model_.h));
  }
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
  opt_h_ = std::make_unique<nn::ModuleAdam>(model_.h->parameters(),
                                          nn::FlatAdamOptions{c.lr_h, c.adam_beta1, c.adam_beta2});
  weights_ = at::tensor(model_.weights(), at::TensorOptions().dtype(at::kDouble))
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
  if (full_) {
    auto& m = *full_->model;
    full_->opt_f = std::make_unique<nn::FlatAdam>(m.f->flat_parameters(),
                                                  nn::FlatAdamOptions{c.lr_f, c.adam_beta1, c.adam_beta2});
    full_->opt_g = std::make_unique<nn::FlatAdam>(m.g->flat_parameters(),
                                                  nn::FlatAdamOptions{c.lr_g, c.adam_beta1, c.adam_beta2});
    if (averaged_) {
      full_->averaged = std::make_unique<NeuralBarycenterModel>(m.dim(), m.count(), m.weights(), m.marginal_specs(), c);
    }
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
  if (full_) {
    assemble(/*with_optimisers=*/false);
    NeuralBarycenterModel& out = averaged_ ? *full_->averaged : *full_->model;
    out.history() = model_.history();
    return out;
  }
  if (!averaged_) return model_;
  averaged_->history() = model_.history();
  return *averaged_;
}

void NeuralBarycenter::assemble(bool with_optimisers) const {
  FullState& full = *full_;
  std::vector<distributed::StackRows> stacks =
      with_optimisers ? potential_rows(model_, *full.model, opt_f_.get(), opt_g_.get(), full.opt_f.get(), full.opt_g.get())
                      : potential_rows(model_, *full.model, nullptr, nullptr, nullptr, nullptr);
  if (averaged_) {
    for (auto& s : potential_rows(*averaged_, *full.averaged, nullptr, nullptr, nullptr, nullptr)) stacks.push_back(s);
    copy_generator(averaged_->h, full.averaged->h);
  }
  distributed::assemble_rows(*group_, stacks, owned_);
  copy_generator(model_.h, full.model->h);
  if (with_optimisers) {
    full.opt_f->set_steps(opt_f_->steps());
    full.opt_g->set_steps(opt_g_->steps());
  }
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
  if (group_) out << "; marginal-parallel over " << group_->world_size() << " processes, this is rank " << group_->rank();
  return out.str();
}

void NeuralBarycenter::apply_learning_rate_schedule() {
  const auto& c = model_.config();
  const double progress = horizon_.progress(step_);
  if (horizon_.replanned()) history().push_back({{"step", step_}, {"schedule_horizon", *horizon_.planned()}});
  const double factor = learning_rate_factor(c, step_, progress);
  opt_f_->set_lr(c.lr_f * factor);
  opt_g_->set_lr(c.lr_g * factor);
  opt_h_->set_lr(c.lr_h * factor);
}

training::StepInfo NeuralBarycenter::step() {
  const auto& c = model_.config();
  auto& f = *model_.f;
  auto& h = model_.h;
  const int64_t N = model_.count(), B = c.batch_size, d = model_.dim();
  apply_learning_rate_schedule();

  // Batches of this step: a pure function of (seed, step) (data/sampler.h).
  std::vector<at::Tensor> ys;
  for (const int64_t i : owned_) ys.push_back(problem_.marginals[i]->batch(c.seed, i, step_, B));
  // Batches and latents are drawn on the CPU (the same numbers on any
  // device, so a run is reproducible across machines), then moved.
  const auto options = f.weights().w.options();
  const at::Tensor y = at::stack(ys).to(options);  // [N, B, d]
  at::Generator zgen = data::make_generator(data::derive_seed(c.seed, kLatentStream, step_));
  const at::Tensor z = at::randn({B, model_.latent_dim()}, zgen, at::TensorOptions().dtype(at::kDouble)).to(options);

  // h(Z) once per outer iteration: h is fixed inside the f/g loops. The
  // fused engine runs h without a graph on the CPU (nn/generator_cpu.h).
  const bool h_closed_form = c.engine == Engine::kFused && nn::cpu::GeneratorTrainingPass::supported(*h);
  at::Tensor mu = h_closed_form ? h_pass_.forward(*h, z) : h->forward(z);  // [B, d], in h's graph if autograd
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
  // This process's share of the reported sums over marginals (eq. 6-7):
  // sum_i a_i L_g,i, sum_i a_i (E f_i(h(Z)) - E f_i(grad g_i(Y))), and
  // sum_i a_i W2^2(nu, mu_i) = 2 sum_i a_i [L_g,i - E f_i(mu) + E|mu|^2/2 + E|y_i|^2/2].
  at::Tensor reported;
  {
    torch::NoGradGuard no_grad;
    const at::Tensor cost_i = 2 * (loss_g_i.detach() - f_mu_i.detach() + half_sq.detach() + y_sq);
    reported = at::stack({(weights_ * loss_g_i.detach()).sum(), (weights_ * (f_mu_i.detach() - f_grad_g_i.detach())).sum(),
                          (weights_ * cost_i).sum()});
  }
  at::Tensor loss_h;
  if (group_) {
    // d/dmu = (mu - sum_i a_i grad f_i(mu)) / B with the sum over every
    // rank's marginals: one all-reduce of [B*d + 4] values, then each rank
    // backpropagates the same cotangent through its replica of h.
    at::Tensor f_grad, f_value;
    weighted_potential_gradient(mu_n, f_grad, f_value);
    at::Tensor packed = at::cat({f_grad.reshape({-1}), f_value.reshape({1}), reported});
    group_->all_reduce_sum(packed);
    const at::Tensor dmu = (mu.detach() - packed.narrow(0, 0, B * d).view({B, d})) / static_cast<double>(B);
    loss_h = half_sq.detach() - packed[B * d];
    reported = packed.narrow(0, B * d + 1, 3);
    h_closed_form ? h_pass_.backward(*h, dmu) : mu.backward(dmu);
  } else if (c.engine == Engine::kFused) {
    // d/dmu = (mu - sum_i a_i grad f_i(mu)) / B, backpropagated through h only.
    at::Tensor f_grad, f_value;
    weighted_potential_gradient(mu_n, f_grad, f_value);
    const at::Tensor dmu = (mu.detach() - f_grad) / static_cast<double>(B);
    loss_h = half_sq.detach() - f_value;
    h_closed_form ? h_pass_.backward(*h, dmu) : mu.backward(dmu);
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
  info.losses = {{"loss_g", reported[0].item<double>()},
                 {"loss_f", reported[1].item<double>()},
                 {"loss_h", loss_h.item<double>()},
                 {"barycenter_cost", reported[2].item<double>()}};
  training::require_finite_losses(info, "training",
                                  "lower the learning rates (--lr-f, --lr-g, --lr-h) or standardise the data");
  return info;
}

void NeuralBarycenter::weighted_potential_gradient(const at::Tensor& mu_n, at::Tensor& gradient,
                                                   at::Tensor& value) const {
  torch::NoGradGuard no_grad;  // f enters the h-step as constants
  const auto& f = *model_.f;
  at::Tensor f_value, f_grad;
  if (nn::cpu::supported(f)) {
    nn::cpu::value_and_gradient(f, mu_n, f_value, f_grad);
  } else {
    nn::IcnnTape tape = nn::icnn_forward(f.config(), f.weights(), mu_n);
    nn::icnn_backward_gradient(f.config(), f.weights(), tape);
    f_value = tape.value;
    f_grad = tape.gradient;
  }
  const int64_t N = mu_n.size(0);
  gradient = (weights_.view({N, 1, 1}) * f_grad).sum(0);
  value = (weights_ * f_value.mean(1)).sum();
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
  // The f-step's batch [h(Z); grad g(Y)], [N, 2B, d]: h(Z) is fixed for the
  // whole outer iteration, so it is written once and each f-step only
  // overwrites the grad g(Y) half (an at::cat per f-step cost ~2 % of an
  // iteration at d = 16, perf).
  const at::Tensor f_batch = at::empty({N, 2 * B, y.size(2)}, y.options());
  f_batch.narrow(1, 0, B).copy_(mu);
  at::Tensor f_batch_t = f_batch.narrow(1, B, B);
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
      f_batch_t.copy_(t);
      nn::cpu::value_parameter_gradient(f, f_batch, f_cotangent, f_penalty, value);
    } else {
      f_batch_t.copy_(g.gradient(y));
      nn::IcnnTape tape = nn::icnn_forward(f.config(), f.weights(), f_batch);
      nn::IcnnWeights grads = nn::icnn_value_parameter_gradient(f.config(), f.weights(), tape, f_cotangent);
      if (f_penalty > 0) nn::add_convexity_penalty_gradient(f.weights(), f_penalty, grads);
      nn::copy_gradients(grads, f.gradient_views());
      value = tape.value;
    }
    if (kf == c.f_steps - 1) {  // only the last f-step's values are reported
      out.f_mu = value.narrow(1, 0, B).mean(1);
      out.f_t = value.narrow(1, B, B).mean(1);
    }
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
  // One layout whatever the number of processes: a marginal-parallel run
  // writes the assembled state from rank 0 (h and its Adam are replicated).
  if (full_) {
    assemble(/*with_optimisers=*/true);
    if (group_->rank() != 0) return;
  }
  const NeuralBarycenterModel& m = full_ ? *full_->model : model_;
  const nn::FlatAdam& opt_f = full_ ? *full_->opt_f : *opt_f_;
  const nn::FlatAdam& opt_g = full_ ? *full_->opt_g : *opt_g_;
  std::vector<io::ArchiveWriter> parts = {{"f", [&](auto& a) { m.f->save(a); }},
                                          {"g", [&](auto& a) { m.g->save(a); }},
                                          {"h", [&](auto& a) { model_.h->save(a); }},
                                          {"opt_f", [&](auto& a) { opt_f.save(a); }},
                                          {"opt_g", [&](auto& a) { opt_g.save(a); }},
                                          {"opt_h", [&](auto& a) { opt_h_->save(a); }}};
  if (averaged_) {
    const NeuralBarycenterModel& av = full_ ? *full_->averaged : *averaged_;
    parts.push_back({"averaged_f", [&](auto& a) { av.f->save(a); }});
    parts.push_back({"averaged_g", [&](auto& a) { av.g->save(a); }});
    parts.push_back({"averaged_h", [&](auto& a) { averaged_->h->save(a); }});
  }
  nlohmann::json meta = m.metadata();
  meta["step"] = step_;
  meta["elapsed_seconds"] = elapsed_before_;
  meta["history"] = model_.history();
  io::save_checkpoint(path, parts, meta);
}

void NeuralBarycenter::load_checkpoint(const std::string& path) {
  // Marginal-parallel: every rank reads rank 0's checkpoint into the full
  // state, then keeps its own rows.
  std::unique_ptr<distributed::FilesFromRoot> files;
  if (full_) files = std::make_unique<distributed::FilesFromRoot>(*group_, std::vector<std::string>{path, path + ".json"});
  const std::string& source = files ? files->path(0) : path;
  NeuralBarycenterModel& m = full_ ? *full_->model : model_;
  nn::FlatAdam& opt_f = full_ ? *full_->opt_f : *opt_f_;
  nn::FlatAdam& opt_g = full_ ? *full_->opt_g : *opt_g_;
  std::vector<io::ArchiveReader> parts = {{"f", [&](auto& a) { m.f->load(a); }},
                                          {"g", [&](auto& a) { m.g->load(a); }},
                                          {"h", [&](auto& a) { model_.h->load(a); }},
                                          {"opt_f", [&](auto& a) { opt_f.load(a); }},
                                          {"opt_g", [&](auto& a) { opt_g.load(a); }},
                                          {"opt_h", [&](auto& a) { opt_h_->load(a); }}};
  NeuralBarycenterModel* av = averaged_ ? (full_ ? full_->averaged.get() : averaged_.get()) : nullptr;
  if (av != nullptr) {
    parts.push_back({"averaged_f", [&](auto& a) { av->f->load(a); }});
    parts.push_back({"averaged_g", [&](auto& a) { av->g->load(a); }});
    parts.push_back({"averaged_h", [&](auto& a) { averaged_->h->load(a); }});
  }
  nlohmann::json meta;
  try {
    meta = io::load_checkpoint(source, parts, m.metadata(), kModelFormatVersion);
  } catch (const Error& e) {
    // A copy's temporary path means nothing to the user; name the checkpoint.
    if (!files || group_->rank() == 0) throw;
    throw IoError(path + " (rank 0's checkpoint): " + e.what());
  }
  // Module::load replaced the storages.
  m.f->repack();
  m.g->repack();
  if (av != nullptr) {
    av->f->repack();
    av->g->repack();
  }
  if (full_) {
    distributed::select_rows(potential_rows(model_, m, opt_f_.get(), opt_g_.get(), &opt_f, &opt_g), owned_);
    opt_f_->set_steps(opt_f.steps());
    opt_g_->set_steps(opt_g.steps());
    if (averaged_) distributed::select_rows(potential_rows(*averaged_, *av, nullptr, nullptr, nullptr, nullptr), owned_);
  }
  step_ = meta.at("step").get<int64_t>();
  elapsed_before_ = meta.value("elapsed_seconds", 0.0);
  model_.history() = meta.value("history", nlohmann::json::array());
}

}  // namespace wbary::barycenter
