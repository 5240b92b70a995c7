#include "wbary/barycenter/continuous_barycenter_model.h"

#include "wbary/data/sampler.h"
#include "wbary/io/model_directory.h"
#include "wbary/version.h"

namespace wbary::barycenter {

namespace {
const io::ModelFormat kFormat{"wbary.continuous_barycenter", ContinuousBarycenterModel::kFormatVersion,
                              "CWB barycenter"};
}

ContinuousBarycenterModel::ContinuousBarycenterModel(int64_t dim, int64_t count, std::vector<double> weights,
                                                     std::vector<std::string> marginal_specs,
                                                     ContinuousBarycenterConfig config)
    : dim_(dim),
      count_(count),
      weights_(std::move(weights)),
      specs_(std::move(marginal_specs)),
      config_(resolved(std::move(config), dim)) {
  validate(config_);
  at::Generator gen_psi = data::make_generator(data::derive_seed(config_.seed, 0xc1, 0));
  at::Generator gen_conj = data::make_generator(data::derive_seed(config_.seed, 0xc2, 0));
  const auto dtype = config_.dtype == "float64" ? at::kDouble : at::kFloat;
  const at::Device dev(config_.device);
  psi = std::make_shared<nn::IcnnPotential>(count, dim, config_.potential, gen_psi, dtype, dev);
  conjugate = std::make_shared<nn::IcnnPotential>(count, dim, config_.potential, gen_conj, dtype, dev);
}

at::Tensor ContinuousBarycenterModel::push(int64_t i, const at::Tensor& x) const {
  check_input(i, x, "push");
  return psi->gradient_of(i, x).to(at::kCPU).to(at::kDouble);
}

at::Tensor ContinuousBarycenterModel::pull(int64_t i, const at::Tensor& y) const {
  check_input(i, y, "pull");
  return conjugate->gradient_of(i, y).to(at::kCPU).to(at::kDouble);
}

nlohmann::json ContinuousBarycenterModel::metadata() const {
  return {{"format", kFormat.name}, {"format_version", kFormat.version}, {"method", method()},
          {"wbary_version", WBARY_VERSION}, {"dim", dim_}, {"count", count_},
          {"weights", weights_}, {"marginals", specs_}, {"config", to_json(config_)}};
}

void ContinuousBarycenterModel::save(const std::string& dir) const {
  nlohmann::json meta = metadata();
  meta["history"] = history_;
  io::save_model_directory(dir, {{"psi", [&](auto& a) { psi->save(a); }}, {"conjugate", [&](auto& a) { conjugate->save(a); }}},
                           meta);
}

ContinuousBarycenterModel ContinuousBarycenterModel::load(const std::string& dir, const std::string& device) {
  const nlohmann::json meta = io::read_model_metadata(dir, kFormat);
  ContinuousBarycenterConfig config;
  update_from_json(config, meta.at("config"));
  if (!device.empty()) config.device = device;
  ContinuousBarycenterModel model(meta.at("dim").get<int64_t>(), meta.at("count").get<int64_t>(),
                                  meta.at("weights").get<std::vector<double>>(),
                                  meta.at("marginals").get<std::vector<std::string>>(), config);
  io::load_model_parts(dir,
                       {{"psi", [&](auto& a) { model.psi->load(a); }},
                        {"conjugate", [&](auto& a) { model.conjugate->load(a); }}},
                       at::Device(config.device));
  model.psi->repack();
  model.conjugate->repack();
  if (meta.contains("history")) model.history_ = meta["history"];
  return model;
}

}  // namespace wbary::barycenter
