#include "wbary/barycenter/regularized_barycenter.h"

#include <torch/optim/adam.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "wbary/error.h"
#include "wbary/io/checkpoint.h"

namespace wbary::barycenter {
namespace {

constexpr uint64_t kBoxStream = 0xb0c5;
constexpr uint64_t kSetupStream = 0xb0c6;
constexpr uint64_t kRepresentativeStream = 0xb0c7;

void copy_parameters(const torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  const auto src = from.parameters(), dst = to.parameters();
  for (size_t k = 0; k < dst.size(); ++k) dst[k].copy_(src[k]);
}

}  // namespace

RegularizedBarycenter::RegularizedBarycenter(BarycenterProblem problem, RegularizedBarycenterConfig config)
    : problem_((problem.validate(), std::move(problem))),
      model_(problem_.dim(), static_cast<int64_t>(problem_.size()), problem_.weights, problem_.specs,
             std::move(config)) {
  const auto& c = model_.config();
  const int64_t N = model_.count(), d = model_.dim();
  // Means and the reference box from pooled samples (crwb.md §1.1).
  const int64_t per = std::max<int64_t>(2, c.box_samples / N);
  std::vector<at::Tensor> centred;
  for (int64_t i = 0; i < N; ++i) {
    at::Generator gen = data::make_generator(data::derive_seed(c.seed, kSetupStream, i));
    const at::Tensor x = problem_.marginals[i]->sample(per, gen).to(at::kDouble);
    model_.means[i].copy_(x.mean(0));
    centred.push_back(x - model_.means[i]);
  }
  const at::Tensor pool = at::cat(centred);
  const at::Tensor cov = at::matmul(pool.t(), pool) / static_cast<double>(pool.size(0));
  const at::Tensor axes = std::get<1>(at::linalg_eigh(cov));  // columns: principal axes
  const at::Tensor q = at::matmul(pool, axes);                // coordinates along the axes
  model_.box.axes = axes.contiguous();
  if (c.box_quantile >= 1) {
    model_.box.lo = std::get<0>(q.min(0));
    model_.box.hi = std::get<0>(q.max(0));
  } else {
    model_.box.lo = at::quantile(q, 1 - c.box_quantile, 0);
    model_.box.hi = at::quantile(q, c.box_quantile, 0);
  }
  model_.outside_share =
      ((q < model_.box.lo) | (q > model_.box.hi)).any(1).to(at::kDouble).mean().item<double>();
  model_.epsilon = c.scale_epsilon ? c.epsilon * model_.box.squared_diameter() / 10 : c.epsilon;

  const auto options = model_.f->parameters()[0].options();
  weights_ = at::tensor(problem_.weights, at::TensorOptions().dtype(at::kDouble)).to(options);
  std::vector<at::Tensor> params = model_.f->parameters();
  for (const auto& p : model_.g->parameters()) params.push_back(p);
  opt_ = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(c.lr));
  if (c.averaging > 0) {
    averaged_ = std::make_unique<RegularizedBarycenterModel>(d, N, model_.weights(), model_.marginal_specs(), c);
    copy_parameters(*model_.f, *averaged_->f);
    copy_parameters(*model_.g, *averaged_->g);
  }
}

RegularizedBarycenter::~RegularizedBarycenter() = default;

std::string RegularizedBarycenter::describe() const {
  const auto& c = model_.config();
  std::ostringstream out;
  out << "CRWB (Li et al. 2020): " << (c.regularizer == Regularizer::kL2 ? "L2" : "entropic")
      << " regulariser, eps " << model_.epsilon << ", ReLU potentials " << c.hidden1 << "-" << c.hidden2 << ", "
      << c.iterations << " steps, batch " << c.batch_size << "; reference box diameter "
      << std::sqrt(model_.box.squared_diameter()) << ", " << 100 * model_.outside_share
      << " % of the data outside it";
  return out.str();
}

void RegularizedBarycenter::update_average() {
  torch::NoGradGuard no_grad;
  const double t = static_cast<double>(step_ + 1);
  const double d = std::min(model_.config().averaging, (1 + t) / (10 + t));
  for (auto [from, to] : {std::pair{model_.f.ptr(), averaged_->f.ptr()}, std::pair{model_.g.ptr(), averaged_->g.ptr()}}) {
    const auto src = from->parameters(), dst = to->parameters();
    for (size_t k = 0; k < dst.size(); ++k) dst[k].mul_(d).add_(src[k], 1 - d);
  }
}

training::StepInfo RegularizedBarycenter::step() {
  const auto& c = model_.config();
  const int64_t N = model_.count(), B = c.batch_size, d = model_.dim();
  const auto options = model_.f->parameters()[0].options();
  std::vector<at::Tensor> xs;
  for (int64_t i = 0; i < N; ++i) {
    xs.push_back(problem_.marginals[i]->batch(c.seed, i, step_, B).to(at::kDouble) - model_.means[i]);
  }
  const at::Tensor x = at::stack(xs).to(options);  // [N, B, d], centred
  at::Generator ygen = data::make_generator(data::derive_seed(c.seed, kBoxStream, step_));
  const at::Tensor y = model_.box.sample(B, ygen).to(options);  // [B, d], shared by all i

  opt_->zero_grad();
  const at::Tensor fx = model_.f->forward(x);                                 // [N, B]
  const at::Tensor gy = model_.g->forward(y.unsqueeze(0).expand({N, B, d}));  // [N, B]
  const at::Tensor a = weights_.view({N, 1});
  const at::Tensor gbar = gy - (a * gy).sum(0, /*keepdim=*/true);
  const at::Tensor slack = fx + gbar - (x - y.unsqueeze(0)).pow(2).sum(-1);  // f + gbar - c
  const double eps = model_.epsilon;
  at::Tensor penalty, density;
  if (c.regularizer == Regularizer::kL2) {
    penalty = at::relu(slack).pow(2) / (2 * eps);
    density = at::relu(slack.detach()) / eps;
  } else {
    penalty = eps * at::exp(slack / eps);
    density = at::exp(slack.detach() / eps);
  }
  const at::Tensor objective = (weights_ * (fx - penalty).mean(1)).sum();
  (-objective).backward();
  opt_->step();
  if (averaged_) update_average();

  ++step_;
  training::StepInfo info;
  info.step = step_;
  info.total_steps = c.iterations;
  // The plan density R'(.) integrates to 1 against mu_i x xi at the optimum.
  info.losses = {{"dual", objective.item<double>()},
                 {"plan_mass", (weights_ * density.mean(1)).sum().item<double>()},
                 {"active_pairs", (slack.detach() > 0).to(at::kDouble).mean().item<double>()}};
  training::require_finite_losses(info, "training", "lower --lr or raise --epsilon");
  return info;
}

RegularizedBarycenterModel& RegularizedBarycenter::result() {
  RegularizedBarycenterModel& out = averaged_ ? *averaged_ : model_;
  if (averaged_) {
    out.box = model_.box;
    out.means = model_.means;
    out.epsilon = model_.epsilon;
    out.outside_share = model_.outside_share;
    out.history() = model_.history();
  }
  // Re-centring (crwb.md §1.3): each push gets the weighted mean of the means.
  const auto& c = model_.config();
  at::Tensor offsets = at::zeros_like(model_.means);
  for (int64_t i = 0; i < model_.count(); ++i) {
    at::Generator gen = data::make_generator(data::derive_seed(c.seed, kRepresentativeStream, i));
    const at::Tensor x = problem_.marginals[i]->sample(c.representative_samples, gen).to(at::kDouble);
    offsets[i].copy_(out.raw_map(i, x - model_.means[i]).mean(0));
  }
  out.offsets = offsets;
  return out;
}

training::TrainingSummary RegularizedBarycenter::train(const std::vector<training::TrainingCallback*>& callbacks) {
  const auto& c = model_.config();
  return training::run_training_loop([this] { return step(); }, step_, c.iterations, c.log_every,
                                     elapsed_before_, model_.history(), callbacks);
}

void RegularizedBarycenter::save_checkpoint(const std::string& path) const {
  nlohmann::json meta = model_.metadata();
  meta["step"] = step_;
  meta["elapsed_seconds"] = elapsed_before_;
  meta["history"] = model_.history();
  std::vector<io::ArchiveWriter> parts = {{"f", [&](auto& a) { model_.f->save(a); }},
                                          {"g", [&](auto& a) { model_.g->save(a); }},
                                          {"opt", [&](auto& a) { opt_->save(a); }}};
  if (averaged_) {
    parts.push_back({"averaged_f", [&](auto& a) { averaged_->f->save(a); }});
    parts.push_back({"averaged_g", [&](auto& a) { averaged_->g->save(a); }});
  }
  io::save_checkpoint(path, parts, meta);
}

void RegularizedBarycenter::load_checkpoint(const std::string& path) {
  std::vector<io::ArchiveReader> parts = {{"f", [&](auto& a) { model_.f->load(a); }},
                                          {"g", [&](auto& a) { model_.g->load(a); }},
                                          {"opt", [&](auto& a) { opt_->load(a); }}};
  if (averaged_) {
    parts.push_back({"averaged_f", [&](auto& a) { averaged_->f->load(a); }});
    parts.push_back({"averaged_g", [&](auto& a) { averaged_->g->load(a); }});
  }
  // The box and the means are a function of the seed and the marginals, so
  // they are recomputed, not stored; the metadata check covers both.
  const nlohmann::json meta =
      io::load_checkpoint(path, parts, model_.metadata(), RegularizedBarycenterModel::kFormatVersion);
  step_ = meta.at("step").get<int64_t>();
  elapsed_before_ = meta.value("elapsed_seconds", 0.0);
  model_.history() = meta.value("history", nlohmann::json::array());
}

}  // namespace wbary::barycenter
