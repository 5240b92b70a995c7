#include "wbary/barycenter/neural_barycenter_model.h"

#include <torch/serialize.h>

#include <sstream>

#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/io/model_directory.h"
#include "wbary/version.h"

namespace wbary::barycenter {

NeuralBarycenterConfig resolved(NeuralBarycenterConfig c, int64_t dim) {
  c.potential.width = nn::resolved_icnn_width(c.potential, dim);
  c.generator.width = nn::resolved_generator_width(c.generator, dim);
  if (c.latent_dim == 0) c.latent_dim = dim;
  return c;
}

NeuralBarycenterModel::NeuralBarycenterModel(int64_t dim, int64_t count, std::vector<double> weights,
                                             std::vector<std::string> marginal_specs,
                                             NeuralBarycenterConfig config)
    : dim_(dim),
      count_(count),
      weights_(std::move(weights)),
      specs_(std::move(marginal_specs)),
      config_(resolved(std::move(config), dim)) {
  validate(config_);
  // Separate streams so that f, g and h do not depend on each other's sizes.
  at::Generator gen_f = data::make_generator(data::derive_seed(config_.seed, 0xf, 0));
  at::Generator gen_g = data::make_generator(data::derive_seed(config_.seed, 0x9, 0));
  at::Generator gen_h = data::make_generator(data::derive_seed(config_.seed, 0x4, 0));
  const auto dtype = config_.dtype == "float64" ? at::kDouble : at::kFloat;
  const at::Device dev(config_.device);
  f = std::make_shared<nn::IcnnPotential>(count, dim, config_.potential, gen_f, dtype, dev);
  g = std::make_shared<nn::IcnnPotential>(count, dim, config_.potential, gen_g, dtype, dev);
  h = nn::Generator(config_.latent_dim, dim, config_.generator, gen_h);
  h->to(dev, dtype);
}

at::Tensor NeuralBarycenterModel::sample(int64_t n, uint64_t seed) const {
  if (n < 1) throw InvalidArgument("sample: n must be >= 1");
  torch::NoGradGuard no_grad;
  // BatchNorm must use running statistics here, whatever mode training left it in.
  const std::shared_ptr<nn::GeneratorImpl>& net = h.ptr();
  const bool was_training = net->is_training();
  net->eval();
  at::Generator gen = data::make_generator(data::derive_seed(seed, 0x5a, 0));
  at::Tensor z = at::randn({n, latent_dim()}, gen, at::TensorOptions().dtype(at::kDouble));
  at::Tensor out = net->forward(z.to(f->weights().w.options())).to(at::kCPU).to(at::kDouble);
  net->train(was_training);
  return out;
}

at::Tensor NeuralBarycenterModel::push(int64_t i, const at::Tensor& x) const {
  check_input(i, x, "push");
  return g->gradient_of(i, x).to(at::kCPU).to(at::kDouble);
}

at::Tensor NeuralBarycenterModel::pull(int64_t i, const at::Tensor& y) const {
  check_input(i, y, "pull");
  return f->gradient_of(i, y).to(at::kCPU).to(at::kDouble);
}

nlohmann::json NeuralBarycenterModel::metadata() const {
  return {{"format", "wbary.neural_barycenter"},
          {"method", method()},
          {"format_version", kModelFormatVersion},
          {"wbary_version", WBARY_VERSION},
          {"dim", dim_},
          {"count", count_},
          {"weights", weights_},
          {"marginals", specs_},
          {"config", to_json(config_)}};
}

void NeuralBarycenterModel::save(const std::string& dir) const {
  nlohmann::json meta = metadata();
  meta["history"] = history_;
  io::save_model_directory(dir,
                           {{"f", [&](auto& a) { f->save(a); }},
                            {"g", [&](auto& a) { g->save(a); }},
                            {"h", [&](auto& a) { h->save(a); }}},
                           meta);
}

NeuralBarycenterModel NeuralBarycenterModel::load(const std::string& dir, const std::string& device) {
  const nlohmann::json meta =
      io::read_model_metadata(dir, {"wbary.neural_barycenter", kModelFormatVersion, "neural barycenter"});
  NeuralBarycenterConfig config;
  update_from_json(config, meta.at("config"));
  if (!device.empty()) config.device = device;
  NeuralBarycenterModel model(meta.at("dim").get<int64_t>(), meta.at("count").get<int64_t>(),
                              meta.at("weights").get<std::vector<double>>(),
                              meta.at("marginals").get<std::vector<std::string>>(), config);
  io::load_model_parts(dir,
                       {{"f", [&](auto& a) { model.f->load(a); }},
                        {"g", [&](auto& a) { model.g->load(a); }},
                        {"h", [&](auto& a) { model.h->load(a); }}},
                       at::Device(config.device));
  model.f->repack();  // Module::load replaced the storages
  model.g->repack();
  if (meta.contains("history")) model.history_ = meta["history"];
  return model;
}

}  // namespace wbary::barycenter
