#include "wbary/barycenter/robust_barycenter.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include <cmath>

#include "wbary/barycenter/gaussian_barycenter.h"
#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"
#include "wbary/io/checkpoint.h"
#include "wbary/io/json_file.h"
#include "wbary/nn/flat_adam.h"
#include "wbary/io/model_directory.h"
#include "wbary/version.h"

namespace wbary::barycenter {
namespace {

constexpr uint64_t kMapStream = 0, kPotentialStream = 1000, kNoiseStream = 2000, kSampleStream = 3000;
constexpr int64_t kCalibration = 8192;

// Linear / ReLU stack, initialised as nn.Linear (uniform, bound 1/sqrt(fan_in))
// from `gen` so that the networks are a function of the seed alone.
torch::nn::Sequential make_mlp(int64_t in, const std::vector<int64_t>& hidden, int64_t out, at::Generator& gen,
                               at::ScalarType dtype) {
  torch::nn::Sequential net;
  int64_t prev = in;
  std::vector<int64_t> sizes = hidden;
  sizes.push_back(out);
  for (size_t l = 0; l < sizes.size(); ++l) {
    torch::nn::Linear lin(prev, sizes[l]);
    {
      torch::NoGradGuard no_grad;
      const double bound = 1.0 / std::sqrt(static_cast<double>(prev));
      lin->weight.set_data(at::empty({sizes[l], prev}, at::TensorOptions().dtype(dtype)).uniform_(-bound, bound, gen));
      lin->bias.set_data(at::empty({sizes[l]}, at::TensorOptions().dtype(dtype)).uniform_(-bound, bound, gen));
    }
    net->push_back(lin);
    if (l + 1 < sizes.size()) net->push_back(torch::nn::ReLU());
    prev = sizes[l];
  }
  return net;
}

at::Tensor run(const torch::nn::ModuleList& list, int64_t k, const at::Tensor& x) {
  // ModuleList's operator[] is non-const; the holder is a shared pointer.
  torch::nn::ModuleList mutable_list = list;
  return mutable_list[k]->as<torch::nn::Sequential>()->forward(x);
}

}  // namespace

void RobustBarycenterProblem::validate() {
  base.validate();
  if (base.size() < 2) {
    throw InvalidArgument("robust barycenter: need at least two marginals (with one, m-congruence fixes f = m)");
  }
  for (size_t k = 0; k < base.size(); ++k) {
    if (!(base.weights[k] > 0)) {
      throw InvalidArgument("robust barycenter: weight " + std::to_string(k + 1) +
                            " is 0; the m-congruent potentials divide by lambda_k (drop that marginal)");
    }
  }
  if (!cost_maps.empty() && cost_maps.size() != base.size()) {
    throw InvalidArgument("robust barycenter: " + std::to_string(cost_maps.size()) + " cost maps for " +
                          std::to_string(base.size()) + " marginals");
  }
}

RobustBarycenterModel::RobustBarycenterModel(int64_t dim, std::vector<double> weights, std::vector<std::string> specs,
                                             RobustBarycenterConfig config)
    : dim_(dim), weights_(std::move(weights)), specs_(std::move(specs)), config_(std::move(config)) {
  config_.validate();
  at::Generator gen = data::make_generator(data::derive_seed(config_.seed, 0x726f62, 0));
  g = torch::nn::ModuleList();
  maps = torch::nn::ModuleList();
  for (int64_t k = 0; k < count(); ++k) {
    g->push_back(make_mlp(dim_, config_.potential_hidden, 1, gen, dtype()));
    maps->push_back(make_mlp(dim_ + config_.noise_dim, config_.map_hidden, dim_, gen, dtype()));
  }
  scalars = std::make_shared<torch::nn::Module>();
  m = scalars->register_parameter("m", at::zeros({}, at::TensorOptions().dtype(dtype())));
  g->to(device());
  maps->to(device());
  scalars->to(device());
}

void RobustBarycenterModel::check_index(int64_t k) const {
  if (k < 0 || k >= count()) {
    throw InvalidArgument("marginal index " + std::to_string(k + 1) + " out of range 1.." + std::to_string(count()));
  }
}

at::Tensor RobustBarycenterModel::all_potentials(const at::Tensor& y) const {
  // [f_1 .. f_K](y) = [g_1 .. g_K](y) C^T + m / (K lambda), with C the
  // m-congruence matrix: C_kk = 1, C_kn = -lambda_n / (lambda_k (K - 1)).
  const int64_t K = count();
  std::vector<at::Tensor> gs;
  for (int64_t n = 0; n < K; ++n) gs.push_back(run(g, n, y));
  std::vector<double> C(K * K), shift(K);
  for (int64_t k = 0; k < K; ++k) {
    for (int64_t n = 0; n < K; ++n) {
      C[k * K + n] = n == k ? 1.0 : -weights_[n] / (weights_[k] * static_cast<double>(K - 1));
    }
    shift[k] = 1.0 / (static_cast<double>(K) * weights_[k]);
  }
  const auto opts = y.options();
  const at::Tensor Cm = at::tensor(C, opts.dtype(at::kDouble)).view({K, K}).to(opts);
  const at::Tensor sh = at::tensor(shift, opts.dtype(at::kDouble)).to(opts);
  return at::mm(at::cat(gs, 1), Cm.t()) + m * sh;
}

at::Tensor RobustBarycenterModel::potential(int64_t k, const at::Tensor& y) const {
  check_index(k);
  return all_potentials(y).select(1, k);
}

at::Tensor RobustBarycenterModel::transport(int64_t k, const at::Tensor& x, uint64_t noise_seed) const {
  check_index(k);
  if (config_.noise_dim == 0) return run(maps, k, x);
  at::Generator gen = data::make_generator(noise_seed);
  const at::Tensor s = at::randn({x.size(0), config_.noise_dim}, gen, at::TensorOptions().dtype(at::kDouble));
  return run(maps, k, at::cat({x, s.to(x.options())}, 1));
}

at::Tensor RobustBarycenterModel::cost(int64_t k, const at::Tensor& x, const at::Tensor& y) const {
  const at::Tensor hy = (k < static_cast<int64_t>(cost_maps.size()) && cost_maps[k]) ? cost_maps[k](y) : y;
  return 0.5 * (x - hy).pow(2).sum(1);
}

at::Tensor RobustBarycenterModel::push(int64_t k, const at::Tensor& x, uint64_t seed) const {
  check_index(k);
  if (x.dim() != 2 || x.size(1) != dim_) {
    throw InvalidArgument("push: expected points of shape [n, " + std::to_string(dim_) + "]");
  }
  torch::NoGradGuard no_grad;
  return transport(k, x.to(device(), dtype()), seed).to(at::kCPU, at::kDouble);
}

at::Tensor RobustBarycenterModel::acceptance_weight(int64_t k, const at::Tensor& x, uint64_t seed) const {
  check_index(k);
  torch::NoGradGuard no_grad;
  const at::Tensor xd = x.to(device(), dtype());
  const at::Tensor y = transport(k, xd, seed);
  const at::Tensor fc = cost(k, xd, y) - potential(k, y);
  return divergence_conjugate_derivative(config_.divergence, config_.tau, -fc.to(at::kDouble)).to(at::kCPU);
}

RobustBarycenterModel::Samples RobustBarycenterModel::sample(
    const std::vector<std::shared_ptr<const data::Sampler>>& marginals, int64_t n, uint64_t seed) const {
  if (static_cast<int64_t>(marginals.size()) != count()) {
    throw InvalidArgument("sample: the model has " + std::to_string(count()) + " marginals, got " +
                          std::to_string(marginals.size()));
  }
  for (const auto& s : marginals) {
    if (s->dim() != dim_) throw InvalidArgument("sample: marginal " + s->describe() + " has the wrong dimension");
  }
  at::Generator gen = data::make_generator(data::derive_seed(seed, kSampleStream, 0));
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor pick = at::multinomial(at::tensor(weights_, opts), n, /*replacement=*/true, gen);
  Samples out;
  std::vector<at::Tensor> points, origin;
  for (int64_t k = 0; k < count(); ++k) {
    const int64_t want = (pick == k).sum().item<int64_t>();
    const double w_max = acceptance_weight(k, marginals[k]->sample(kCalibration, gen), seed).max().item<double>();
    int64_t proposed = 0, accepted = 0, round = 0;
    while (accepted < want) {
      if (++round > 1000) {
        throw Error("sample: rejection sampling of marginal " + std::to_string(k + 1) +
                    " accepts almost nothing (rate " + std::to_string(static_cast<double>(accepted) / proposed) + ")");
      }
      const int64_t batch = std::max<int64_t>(1024, 2 * (want - accepted));
      const at::Tensor x = marginals[k]->sample(batch, gen);
      const at::Tensor w = acceptance_weight(k, x, data::derive_seed(seed, kNoiseStream + k, round));
      const at::Tensor keep = (at::rand({batch}, gen, opts) * w_max < w).nonzero().squeeze(1);
      proposed += batch;
      const at::Tensor xs = x.index_select(0, keep).slice(0, 0, want - accepted);
      if (xs.size(0) > 0) {
        points.push_back(push(k, xs, data::derive_seed(seed, kNoiseStream + k, round + 1)));
        origin.push_back(at::full({xs.size(0)}, k, at::TensorOptions().dtype(at::kLong)));
      }
      accepted += keep.size(0);
    }
    out.acceptance_rate.push_back(proposed > 0 ? static_cast<double>(accepted) / proposed : 1.0);
  }
  out.points = points.empty() ? at::zeros({0, dim_}, opts) : at::cat(points, 0);
  out.origin = origin.empty() ? at::zeros({0}, at::TensorOptions().dtype(at::kLong)) : at::cat(origin, 0);
  return out;
}

nlohmann::json RobustBarycenterModel::metadata() const {
  return {{"format", "wbary.robust_barycenter"},
          {"format_version", kRobustModelFormatVersion},
          {"wbary_version", WBARY_VERSION},
          {"dim", dim_},
          {"weights", weights_},
          {"marginals", specs_},
          {"config", to_json(config_)}};
}

void RobustBarycenterModel::save(const std::string& dir) const {
  nlohmann::json meta = metadata();
  meta["history"] = history_;
  io::save_model_directory(dir,
                           {{"g", [&](auto& a) { g->save(a); }},
                            {"maps", [&](auto& a) { maps->save(a); }},
                            {"scalars", [&](auto& a) { scalars->save(a); }}},
                           meta);
}

RobustBarycenterModel RobustBarycenterModel::load(const std::string& dir, const std::string& device) {
  const nlohmann::json meta =
      io::read_model_metadata(dir, {"wbary.robust_barycenter", kRobustModelFormatVersion, "robust barycenter"});
  RobustBarycenterConfig config;
  update_from_json(config, meta.at("config"));
  if (!device.empty()) config.device = device;
  RobustBarycenterModel model(meta.at("dim").get<int64_t>(), meta.at("weights").get<std::vector<double>>(),
                              meta.at("marginals").get<std::vector<std::string>>(), config);
  io::load_model_parts(dir,
                       {{"g", [&](auto& a) { model.g->load(a); }},
                        {"maps", [&](auto& a) { model.maps->load(a); }},
                        {"scalars", [&](auto& a) { model.scalars->load(a); }}},
                       model.device());
  if (meta.contains("history")) model.history_ = meta["history"];
  return model;
}

RobustBarycenter::RobustBarycenter(RobustBarycenterProblem problem, RobustBarycenterConfig config)
    : problem_((problem.validate(), std::move(problem))),
      model_(problem_.base.dim(), problem_.base.weights, problem_.base.specs, std::move(config)) {
  model_.cost_maps = problem_.cost_maps;
  const auto& c = model_.config();
  horizon_ = training::ScheduleHorizon(c.iterations, c.schedule_seconds);
  opt_g_ = std::make_unique<torch::optim::Adam>(model_.g->parameters(), torch::optim::AdamOptions(c.lr_potential));
  opt_maps_ = std::make_unique<torch::optim::Adam>(model_.maps->parameters(), torch::optim::AdamOptions(c.lr_map));
  opt_m_ = std::make_unique<torch::optim::Adam>(std::vector<at::Tensor>{model_.m},
                                                torch::optim::AdamOptions(c.lr_m).betas({0.0, 0.9}));
}

RobustBarycenter::~RobustBarycenter() = default;

void RobustBarycenter::set_learning_rates() {
  const auto& c = model_.config();
  if (!c.one_cycle) return;
  const double p = horizon_.progress(step_);
  if (horizon_.replanned()) model_.history().push_back({{"step", step_}, {"schedule_horizon", *horizon_.planned()}});
  const double factor = one_cycle_factor(p);
  nn::set_learning_rate(*opt_g_, c.lr_potential * factor);
  nn::set_learning_rate(*opt_maps_, c.lr_map * factor);
  nn::set_learning_rate(*opt_m_, c.lr_m * factor);
}

training::StepInfo RobustBarycenter::step() {
  const auto& c = model_.config();
  const int64_t K = model_.count();
  const auto& lambda = problem_.base.weights;
  const auto opts = at::TensorOptions().dtype(model_.dtype()).device(model_.device());
  set_learning_rates();

  // Inner loop: the maps minimise sum_k lambda_k E[c_k(x, T_k x) - f_k(T_k x)]
  // (the infimum inside psi_bar, which is increasing, is reached pointwise).
  double map_loss = 0;
  for (int64_t j = 0; j < c.inner_iterations; ++j) {
    const int64_t counter = step_ * c.inner_iterations + j;
    opt_maps_->zero_grad();
    std::vector<at::Tensor> xs, ys;
    for (int64_t k = 0; k < K; ++k) {
      xs.push_back(problem_.base.marginals[k]->batch(c.seed, kMapStream + k, counter, c.batch_size).to(opts));
      ys.push_back(model_.transport(k, xs[k], data::derive_seed(c.seed, kNoiseStream + k, counter)));
    }
    // One evaluation of each g_n on all K batches: [K B, K].
    const at::Tensor F = model_.all_potentials(at::cat(ys, 0));
    at::Tensor loss = at::zeros({}, opts);
    for (int64_t k = 0; k < K; ++k) {
      const at::Tensor f_k = F.slice(0, k * c.batch_size, (k + 1) * c.batch_size).select(1, k);
      loss = loss + lambda[k] * (model_.cost(k, xs[k], ys[k]) - f_k).mean();
    }
    loss.backward();
    opt_maps_->step();
    map_loss = loss.item<double>();
  }

  // Outer step: the potentials and m maximise the SUOT barycenter objective.
  opt_g_->zero_grad();
  opt_m_->zero_grad();
  at::Tensor objective = model_.m.clone();
  double transport_cost = 0;
  std::vector<at::Tensor> xs, ys;
  for (int64_t k = 0; k < K; ++k) {
    xs.push_back(problem_.base.marginals[k]->batch(c.seed, kPotentialStream + k, step_, c.batch_size).to(opts));
    torch::NoGradGuard no_grad;
    ys.push_back(model_.transport(k, xs[k], data::derive_seed(c.seed, kNoiseStream + 100 + k, step_)));
  }
  const at::Tensor F = model_.all_potentials(at::cat(ys, 0));
  for (int64_t k = 0; k < K; ++k) {
    const at::Tensor cost = model_.cost(k, xs[k], ys[k]);
    const at::Tensor fc = cost - F.slice(0, k * c.batch_size, (k + 1) * c.batch_size).select(1, k);
    objective = objective - lambda[k] * divergence_conjugate(c.divergence, c.tau, -fc).mean();
    transport_cost += lambda[k] * cost.mean().item<double>();
  }
  (-objective).backward();
  opt_g_->step();
  if (c.divergence != Divergence::kIdentity) opt_m_->step();  // m is inert when balanced (the authors fix it)

  ++step_;
  training::StepInfo info;
  info.step = step_;
  info.total_steps = c.iterations;
  info.losses = {{"objective", objective.item<double>()},
                 {"map_loss", map_loss},
                 {"transport_cost", transport_cost},
                 {"m", model_.m.item<double>()}};
  training::require_finite_losses(info, "robust barycenter training",
                                  "try a larger --tau, a smaller learning rate or float64");
  return info;
}

training::TrainingSummary RobustBarycenter::train(const std::vector<training::TrainingCallback*>& callbacks) {
  const auto& c = model_.config();
  return training::run_training_loop([this] { return step(); }, step_, c.iterations, c.log_every, elapsed_before_,
                                     model_.history(), callbacks);
}

void RobustBarycenter::save_checkpoint(const std::string& path) const {
  torch::serialize::OutputArchive archive, ag, at_, as, og, ot, om;
  model_.g->save(ag);
  model_.maps->save(at_);
  model_.scalars->save(as);
  opt_g_->save(og);
  opt_maps_->save(ot);
  opt_m_->save(om);
  archive.write("g", ag);
  archive.write("maps", at_);
  archive.write("scalars", as);
  archive.write("opt_g", og);
  archive.write("opt_maps", ot);
  archive.write("opt_m", om);
  archive.write("step", at::tensor(step_));
  archive.write("elapsed", at::tensor(elapsed_before_, at::TensorOptions().dtype(at::kDouble)));
  io::write_atomically(path, [&](const std::string& tmp) { archive.save_to(tmp); });
  nlohmann::json meta = model_.metadata();
  meta["history"] = model_.history();
  io::write_text_atomically(path + ".json", meta.dump(1));
}

void RobustBarycenter::load_checkpoint(const std::string& path) {
  const nlohmann::json meta = io::read_json(path + ".json");
  if (meta.value("format", "") != "wbary.robust_barycenter" || meta.value("dim", -1) != model_.dim() ||
      meta.at("weights").size() != static_cast<size_t>(model_.count())) {
    throw InvalidArgument(path + ": checkpoint is for another problem (dimension or number of marginals differ)");
  }
  // A resumed run may change its length and its time budget.
  if (io::config_without(to_json(model_.config()), io::kScheduleFields) !=
      io::config_without(meta.at("config"), io::kScheduleFields)) {
    throw InvalidArgument(path + ": checkpoint was written with another config; resume with the same flags");
  }
  try {
    torch::serialize::InputArchive archive, ag, at_, as, og, ot, om;
    archive.load_from(path);
    archive.read("g", ag);
    archive.read("maps", at_);
    archive.read("scalars", as);
    archive.read("opt_g", og);
    archive.read("opt_maps", ot);
    archive.read("opt_m", om);
    model_.g->load(ag);
    model_.maps->load(at_);
    model_.scalars->load(as);
    opt_g_->load(og);
    opt_maps_->load(ot);
    opt_m_->load(om);
    at::Tensor step, elapsed;
    archive.read("step", step);
    archive.read("elapsed", elapsed);
    step_ = step.item<int64_t>();
    elapsed_before_ = elapsed.item<double>();
  } catch (const c10::Error& e) {
    throw IoError(path + ": cannot read checkpoint (missing or corrupt): " + e.what_without_backtrace());
  }
  model_.history() = meta.value("history", nlohmann::json::array());
}

}  // namespace wbary::barycenter
