#include "wbary/barycenter/all_weights_barycenter_model.h"

#include <algorithm>
#include <cmath>

#include "wbary/data/sampler.h"
#include "wbary/data/simplex.h"
#include "wbary/error.h"
#include "wbary/io/model_directory.h"
#include "wbary/version.h"

namespace wbary::barycenter {

namespace {
const io::ModelFormat kFormat{"wbary.all_weights_barycenter", AllWeightsBarycenterModel::kFormatVersion,
                              "NWB-II all-weights barycenter"};

// nu_w of an all-weights model, as a model of one barycenter.
class FixedWeights : public BarycenterModel {
 public:
  FixedWeights(std::shared_ptr<const AllWeightsBarycenterModel> model, std::vector<double> w)
      : owner_(std::move(model)), model_(*owner_), w_(std::move(w)) {}
  std::string method() const override { return model_.method(); }
  int64_t dim() const override { return model_.dim(); }
  int64_t count() const override { return model_.count(); }
  const std::vector<double>& weights() const override { return w_; }
  const std::vector<std::string>& marginal_specs() const override { return model_.marginal_specs(); }
  uint64_t seed() const override { return model_.seed(); }
  bool has_generator() const override { return true; }
  at::Tensor sample(int64_t n, uint64_t seed) const override { return model_.sample(n, w_, seed); }
  at::Tensor push(int64_t i, const at::Tensor& x) const override { return model_.push(i, x, w_); }
  bool has_pull() const override { return true; }
  at::Tensor pull(int64_t i, const at::Tensor& y) const override { return model_.pull(i, y, w_); }
  void save(const std::string& dir) const override { model_.save(dir); }
  nlohmann::json metadata() const override { return model_.metadata(); }
  nlohmann::json& history() override { return history_; }
  const nlohmann::json& history() const override { return model_.history(); }

 private:
  std::shared_ptr<const AllWeightsBarycenterModel> owner_;
  const AllWeightsBarycenterModel& model_;
  std::vector<double> w_;
  nlohmann::json history_ = nlohmann::json::array();
};

}  // namespace

std::unique_ptr<BarycenterModel> at_weights(std::shared_ptr<const AllWeightsBarycenterModel> model,
                                            const std::vector<double>& w) {
  std::vector<double> normalised = data::normalized_weights(w, model->count(), "weights");
  return std::make_unique<FixedWeights>(std::move(model), std::move(normalised));
}

std::unique_ptr<BarycenterModel> AllWeightsBarycenterModel::at_weights(const std::vector<double>& w) const {
  // Non-owning: the caller keeps this model alive.
  return barycenter::at_weights(std::shared_ptr<const AllWeightsBarycenterModel>(this, [](auto*) {}), w);
}

AllWeightsBarycenterModel::AllWeightsBarycenterModel(int64_t dim, int64_t count, std::vector<double> weights,
                                                     std::vector<std::string> marginal_specs,
                                                     AllWeightsBarycenterConfig config)
    : dim_(dim),
      count_(count),
      weights_(std::move(weights)),
      specs_(std::move(marginal_specs)),
      config_(resolved(std::move(config), dim, count)) {
  validate(config_);
  if (count < 2) throw InvalidArgument("--all-weights needs at least 2 marginals, got " + std::to_string(count));
  at::Generator gen_f = data::make_generator(data::derive_seed(config_.seed, 0xf, 0));
  at::Generator gen_g = data::make_generator(data::derive_seed(config_.seed, 0x9, 0));
  at::Generator gen_h = data::make_generator(data::derive_seed(config_.seed, 0x4, 0));
  const auto dtype = config_.dtype == "float64" ? at::kDouble : at::kFloat;
  const at::Device dev(config_.device);
  f = std::make_shared<nn::PicnnPotential>(count, dim, count, config_.potential, gen_f, dtype, dev);
  g = std::make_shared<nn::PicnnPotential>(count, dim, count, config_.potential, gen_g, dtype, dev);
  h = nn::ConditionalGenerator(config_.latent_dim, count, dim, config_.generator, config_.generator_film, gen_h);
  h->to(dtype);
  h->to(dev);
}

at::Tensor AllWeightsBarycenterModel::weight_tensor(const std::vector<double>& w) const {
  return at::tensor(data::normalized_weights(w, count_, "weights"), at::TensorOptions().dtype(at::kDouble))
      .to(f->options());
}

at::Tensor AllWeightsBarycenterModel::sample(int64_t n, const std::vector<double>& w, uint64_t seed) const {
  if (n < 1) throw InvalidArgument("sample: n must be >= 1");
  const at::Tensor wt = weight_tensor(w);
  torch::NoGradGuard no_grad;
  const auto& net = h.ptr();
  const bool was_training = net->is_training();
  // Training sees one w per batch, so BatchNorm normalises with the
  // statistics of h's features at that w; its running statistics mix all
  // the w's of training and would move h(., w) off. Sampling therefore uses
  // batch statistics too, over at least kStatisticsBatch latents (running
  // statistics left untouched).
  const bool batch_statistics = config_.generator.batch_norm;
  const int64_t m = batch_statistics ? std::max<int64_t>(n, kStatisticsBatch) : n;
  std::vector<at::Tensor> saved;
  if (batch_statistics) {
    for (const auto& b : net->buffers()) saved.push_back(b.clone());
    net->train();
  } else {
    net->eval();
  }
  at::Generator gen = data::make_generator(data::derive_seed(seed, 0x5a, 0));
  const at::Tensor z = at::randn({m, latent_dim()}, gen, at::TensorOptions().dtype(at::kDouble)).to(wt.options());
  at::Tensor out = net->forward(z, wt.unsqueeze(0).expand({m, count_})).narrow(0, 0, n);
  out = out.to(at::kCPU).to(at::kDouble);
  if (batch_statistics) {
    const auto buffers = net->buffers();
    for (size_t k = 0; k < buffers.size(); ++k) buffers[k].copy_(saved[k]);
  }
  net->train(was_training);
  return out;
}

at::Tensor AllWeightsBarycenterModel::push(int64_t i, const at::Tensor& x, const std::vector<double>& w) const {
  check_input(i, x, "push");
  return g->gradient_of(i, x, weight_tensor(w)).to(at::kCPU).to(at::kDouble);
}

at::Tensor AllWeightsBarycenterModel::pull(int64_t i, const at::Tensor& y, const std::vector<double>& w) const {
  check_input(i, y, "pull");
  return f->gradient_of(i, y, weight_tensor(w)).to(at::kCPU).to(at::kDouble);
}

nlohmann::json AllWeightsBarycenterModel::metadata() const {
  return {{"format", kFormat.name}, {"format_version", kFormat.version}, {"method", method()},
          {"wbary_version", WBARY_VERSION}, {"dim", dim_}, {"count", count_},
          {"weights", weights_}, {"marginals", specs_}, {"config", to_json(config_)}};
}

void AllWeightsBarycenterModel::save(const std::string& dir) const {
  nlohmann::json meta = metadata();
  meta["history"] = history_;
  io::save_model_directory(
      dir, {{"f", [&](auto& a) { f->save(a); }}, {"g", [&](auto& a) { g->save(a); }}, {"h", [&](auto& a) { h->save(a); }}},
      meta);
}

AllWeightsBarycenterModel AllWeightsBarycenterModel::load(const std::string& dir, const std::string& device) {
  const nlohmann::json meta = io::read_model_metadata(dir, kFormat);
  AllWeightsBarycenterConfig config;
  update_from_json(config, meta.at("config"));
  if (!device.empty()) config.device = device;
  AllWeightsBarycenterModel model(meta.at("dim").get<int64_t>(), meta.at("count").get<int64_t>(),
                                  meta.at("weights").get<std::vector<double>>(),
                                  meta.at("marginals").get<std::vector<std::string>>(), config);
  io::load_model_parts(dir,
                       {{"f", [&](auto& a) { model.f->load(a); }},
                        {"g", [&](auto& a) { model.g->load(a); }},
                        {"h", [&](auto& a) { model.h->load(a); }}},
                       at::Device(config.device));
  model.f->repack();
  model.g->repack();
  if (meta.contains("history")) model.history_ = meta["history"];
  return model;
}

}  // namespace wbary::barycenter
