#include "wbary/maps/w2_map.h"

#include <torch/autograd.h>
#include <torch/serialize.h>

#include <cmath>

#include "wbary/error.h"
#include "wbary/io/atomic_file.h"
#include "wbary/io/checkpoint.h"
#include "wbary/io/json_file.h"

namespace wbary::maps {
namespace {

constexpr uint64_t kSourceStream = 0, kTargetStream = 1;

// AdamW as torch::optim::AdamW (eps 1e-8), in one pass per tensor
// (nn::ModuleAdam): torch's ~12 dispatched operations per tensor cost
// 0.5 ms of a ~7 ms step at d = 8.
nn::FlatAdamOptions adamw_options(const W2MapConfig& c) {
  nn::FlatAdamOptions o;
  o.lr = c.learning_rate;
  o.beta1 = c.beta1;
  o.beta2 = c.beta2;
  o.weight_decay = c.weight_decay;
  return o;
}

// Optimizer::zero_grad detaches gradients in place, which the ICNN's
// gradients (views of one flat buffer, nn/icnn.h) do not allow.
void zero_gradients(const std::vector<at::Tensor>& params) {
  for (const at::Tensor& p : params) {
    if (p.grad().defined()) p.grad().zero_();
  }
}

}  // namespace

void W2MapProblem::validate() const {
  if (!source || !target) throw InvalidArgument("W2 map: both a source and a target are needed");
  if (source->dim() != target->dim()) {
    throw InvalidArgument("W2 map: source " + source->describe() + " has dimension " + std::to_string(source->dim()) +
                          " but target " + target->describe() + " has dimension " + std::to_string(target->dim()));
  }
}

W2Map::W2Map(W2MapProblem problem, W2MapConfig config)
    : problem_((problem.validate(), std::move(problem))),
      model_(problem_.source->dim(), problem_.source_spec, problem_.target_spec, std::move(config)),
      horizon_(model_.config().iterations, model_.config().schedule_seconds) {
  params_f_ = model_.f->parameters();
  params_h_ = model_.amortizer->parameters();
  opt_f_ = std::make_unique<nn::ModuleAdam>(params_f_, adamw_options(model_.config()));
  opt_h_ = std::make_unique<nn::ModuleAdam>(params_h_, adamw_options(model_.config()));
}

W2Map::~W2Map() = default;

void W2Map::set_learning_rate() {
  // Cosine decay from lr to lr * final_lr_fraction over the run (optax's
  // cosine_decay_schedule with alpha = final_lr_fraction); the run is
  // config.iterations steps, or the steps that fit in config.schedule_seconds.
  const auto& c = model_.config();
  const double progress = horizon_.progress(step_);
  if (horizon_.replanned()) model_.history().push_back({{"step", step_}, {"schedule_horizon", *horizon_.planned()}});
  const double lr =
      c.learning_rate * ((1 - c.final_lr_fraction) * 0.5 * (1 + std::cos(M_PI * progress)) + c.final_lr_fraction);
  opt_f_->set_lr(lr);
  opt_h_->set_lr(lr);
}

training::StepInfo W2Map::step() {
  const auto& c = model_.config();
  set_learning_rate();
  const auto opts = at::TensorOptions().dtype(model_.dtype()).device(model_.device());
  const at::Tensor x = problem_.source->batch(c.seed, kSourceStream, step_, c.batch_size).to(opts);
  const at::Tensor y = problem_.target->batch(c.seed, kTargetStream, step_, c.batch_size).to(opts);
  MapPotential& f = *model_.f;
  ResidualMlp& H = *model_.amortizer;

  // x_hat(y): the amortised prediction, fine-tuned (stop-gradient either way).
  at::Tensor h_y;
  {
    torch::NoGradGuard no_grad;
    h_y = H.forward(y);
  }
  // The autograd engine is the reference throughout: the solver's tensor form too.
  const ConjugateSolution sol = solve_conjugate(f, y, h_y, c.conjugate, c.engine == nn::Engine::kAutograd);
  const at::Tensor x_hat = sol.x;

  // f-step: the dual loss; by the envelope theorem only f's explicit
  // dependence is differentiated (Amos eq. 5).
  // The fused engine writes the MLP's chain rule out (maps/potential.h);
  // other potentials and amortization losses go through autograd.
  auto* mlp = dynamic_cast<MlpPotential*>(&f);
  const bool fused = c.engine == nn::Engine::kFused && mlp != nullptr && mlp->closed_form();
  at::Tensor dual;
  if (fused) {
    dual = mlp->mean_difference_backward(x, x_hat) + (x_hat * y).sum(1).mean();
  } else {
    zero_gradients(params_f_);
    const at::Tensor f_x = f.value(x).mean();
    const at::Tensor f_xhat = f.value(x_hat).mean();
    dual = f_x - f_xhat + (x_hat * y).sum(1).mean();
    dual.backward();
  }
  opt_f_->step();
  f.project();

  // H-step on the updated f.
  at::Tensor amort;
  if (fused && c.amortization == AmortizationLoss::kRegression) {
    amort = H.regression_backward(y, x_hat);
    opt_h_->step();
    return finish_step(x, y, dual, amort, sol);
  }
  const at::Tensor hy = H.forward(y);
  switch (c.amortization) {
    case AmortizationLoss::kRegression:
      amort = (hy - x_hat).pow(2).mean();
      break;
    case AmortizationLoss::kObjective:
      amort = (f.value(hy) - (hy * y).sum(1)).mean();
      break;
    case AmortizationLoss::kCycle: {
      const double w = c.cycle_weight > 0 ? c.cycle_weight : static_cast<double>(model_.dim());
      const at::Tensor fx = f.gradient(x);  // no graph: only H is trained here
      amort = w * ((f.gradient(hy, /*create_graph=*/true) - y).pow(2).mean() + (H.forward(fx) - x).pow(2).mean());
      break;
    }
  }
  const auto grads = torch::autograd::grad({amort}, params_h_, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                           /*allow_unused=*/true);
  for (size_t i = 0; i < params_h_.size(); ++i) {
    if (grads[i].defined()) params_h_[i].mutable_grad() = grads[i];
  }
  opt_h_->step();
  return finish_step(x, y, dual, amort, sol);
}

training::StepInfo W2Map::finish_step(const at::Tensor& x, const at::Tensor& y, const at::Tensor& dual,
                                      const at::Tensor& amort, const ConjugateSolution& sol) {
  const auto& c = model_.config();
  ++step_;
  training::StepInfo info;
  info.step = step_;
  info.total_steps = c.iterations;
  const double dual_v = dual.item<double>();
  const double second_moments = ((x * x).sum(1).mean() + (y * y).sum(1).mean()).item<double>();
  info.losses = {{"dual", dual_v},
                 {"w2_sq", second_moments - 2 * dual_v},  // W2^2 = E|X|^2 + E|Y|^2 - 2 min dual
                 {"amortization", amort.item<double>()},
                 {"conj_iters", static_cast<double>(sol.iterations)},
                 {"conj_ok", sol.converged.to(at::kDouble).mean().item<double>()}};
  training::require_finite_losses(info, "W2 map training", "try a smaller --lr or float64");
  return info;
}

training::TrainingSummary W2Map::train(const std::vector<training::TrainingCallback*>& callbacks) {
  const auto& c = model_.config();
  return training::run_training_loop([this] { return step(); }, step_, c.iterations, c.log_every, elapsed_before_,
                                     model_.history(), callbacks);
}

void W2Map::save_checkpoint(const std::string& path) const {
  torch::serialize::OutputArchive archive, af, ah, of, oh;
  model_.f->save(af);
  model_.amortizer->save(ah);
  opt_f_->save(of);
  opt_h_->save(oh);
  archive.write("f", af);
  archive.write("amortizer", ah);
  archive.write("opt_f", of);
  archive.write("opt_h", oh);
  archive.write("step", at::tensor(step_));
  archive.write("elapsed", at::tensor(elapsed_before_, at::TensorOptions().dtype(at::kDouble)));
  io::write_atomically(path, [&](const std::string& tmp) { archive.save_to(tmp); });
  nlohmann::json meta = model_.metadata();
  meta["history"] = model_.history();
  io::write_text_atomically(path + ".json", meta.dump(1));
}

void W2Map::load_checkpoint(const std::string& path) {
  const nlohmann::json meta = io::read_json(path + ".json");
  if (meta.value("dim", -1) != model_.dim() || meta.value("format", "") != "wbary.w2_map") {
    throw InvalidArgument(path + ": checkpoint is for a map in dimension " + std::to_string(meta.value("dim", -1)) +
                          ", this run has dimension " + std::to_string(model_.dim()));
  }
  // A resumed run may change its length, its time budget and the engine
  // (the same maths; older checkpoints have no "engine").
  std::vector<std::string> free_fields = io::kScheduleFields;
  free_fields.push_back("engine");
  if (io::config_without(to_json(model_.config()), free_fields) != io::config_without(meta.at("config"), free_fields)) {
    throw InvalidArgument(path + ": checkpoint was written with another config; resume with the same flags");
  }
  try {
    torch::serialize::InputArchive archive, af, ah, of, oh;
    archive.load_from(path);
    archive.read("f", af);
    archive.read("amortizer", ah);
    archive.read("opt_f", of);
    archive.read("opt_h", oh);
    model_.f->load(af);
    model_.amortizer->load(ah);
    if (auto* icnn = dynamic_cast<IcnnMapPotential*>(model_.f.get())) icnn->repack();
    opt_f_->load(of);
    opt_h_->load(oh);
    at::Tensor step, elapsed;
    archive.read("step", step);
    archive.read("elapsed", elapsed);
    step_ = step.item<int64_t>();
    elapsed_before_ = elapsed.item<double>();
  } catch (const c10::Error& e) {
    throw IoError(path + ": cannot read checkpoint (missing or corrupt): " + e.what_without_backtrace());
  } catch (const IoError& e) {
    throw IoError(path + ": " + e.what());  // e.g. the optimiser state of an older wbary
  }
  model_.history() = meta.value("history", nlohmann::json::array());
}

}  // namespace wbary::maps
