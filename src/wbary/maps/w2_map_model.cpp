#include "wbary/maps/w2_map_model.h"

#include <torch/serialize.h>


#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/io/model_directory.h"
#include "wbary/version.h"

namespace wbary::maps {
namespace {

constexpr int64_t kChunk = 4096;

// Applies fn to row chunks of x and concatenates (bounded memory for large n).
template <typename Fn>
at::Tensor chunked(const at::Tensor& x, Fn fn) {
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += kChunk) parts.push_back(fn(x.slice(0, i, std::min(i + kChunk, x.size(0)))));
  if (parts.empty()) return fn(x);
  return at::cat(parts, 0);
}

}  // namespace

W2MapModel::W2MapModel(int64_t dim, std::string source_spec, std::string target_spec, W2MapConfig config)
    : dim_(dim), source_spec_(std::move(source_spec)), target_spec_(std::move(target_spec)), config_(std::move(config)) {
  config_.validate();
  if (config_.hidden.empty()) config_.hidden = default_hidden_widths(dim);
  at::Generator gen = data::make_generator(data::derive_seed(config_.seed, 0x3a9, 0));
  f = make_potential(config_.potential, dim, config_.hidden, gen, dtype(), config_.engine == nn::Engine::kFused);
  amortizer = std::make_shared<ResidualMlp>(dim, config_.hidden, gen, dtype());
  f->to(device());
  amortizer->to(device());
}

at::ScalarType W2MapModel::dtype() const { return config_.dtype == "float64" ? at::kDouble : at::kFloat; }

at::Tensor W2MapModel::prepare(const at::Tensor& x, const char* what) const {
  if (x.dim() != 2 || x.size(1) != dim_) {
    throw InvalidArgument(std::string(what) + ": expected points of shape [n, " + std::to_string(dim_) + "], got " +
                          std::to_string(x.dim()) + "-D with " + std::to_string(x.dim() >= 2 ? x.size(1) : 0) +
                          " columns");
  }
  return x.to(device(), dtype());
}

at::Tensor W2MapModel::forward(const at::Tensor& x) const {
  const at::Tensor xd = prepare(x, "forward");
  return chunked(xd, [&](const at::Tensor& c) { return f->gradient(c); }).to(at::kCPU, at::kDouble);
}

at::Tensor W2MapModel::amortized_inverse(const at::Tensor& y) const {
  const at::Tensor yd = prepare(y, "inverse");
  torch::NoGradGuard no_grad;
  return chunked(yd, [&](const at::Tensor& c) { return amortizer->forward(c); }).to(at::kCPU, at::kDouble);
}

at::Tensor W2MapModel::inverse(const at::Tensor& y) const {
  const at::Tensor yd = prepare(y, "inverse");
  return chunked(yd, [&](const at::Tensor& c) {
           at::Tensor x0;
           {
             torch::NoGradGuard no_grad;
             x0 = amortizer->forward(c);
           }
           return solve_conjugate(*f, c, x0, config_.inverse_conjugate).x;
         })
      .to(at::kCPU, at::kDouble);
}

at::Tensor W2MapModel::conjugate(const at::Tensor& y) const {
  const at::Tensor yd = prepare(y, "conjugate");
  return chunked(yd, [&](const at::Tensor& c) {
           at::Tensor x0;
           {
             torch::NoGradGuard no_grad;
             x0 = amortizer->forward(c);
           }
           return -solve_conjugate(*f, c, x0, config_.inverse_conjugate).objective;
         })
      .to(at::kCPU, at::kDouble);
}

at::Tensor W2MapModel::potential_value(const at::Tensor& x) const {
  const at::Tensor xd = prepare(x, "potential");
  torch::NoGradGuard no_grad;
  return chunked(xd, [&](const at::Tensor& c) { return f->value(c); }).to(at::kCPU, at::kDouble);
}

double W2MapModel::dual_objective(const at::Tensor& x, const at::Tensor& y) const {
  return potential_value(x).mean().item<double>() + conjugate(y).mean().item<double>();
}

nlohmann::json W2MapModel::metadata() const {
  return {{"format", "wbary.w2_map"},   {"format_version", kMapFormatVersion}, {"wbary_version", WBARY_VERSION},
          {"dim", dim_},                {"source", source_spec_},             {"target", target_spec_},
          {"config", to_json(config_)}};
}

void W2MapModel::save(const std::string& dir) const {
  nlohmann::json meta = metadata();
  meta["history"] = history_;
  io::save_model_directory(
      dir, {{"f", [&](auto& a) { f->save(a); }}, {"amortizer", [&](auto& a) { amortizer->save(a); }}}, meta);
}

W2MapModel W2MapModel::load(const std::string& dir, const std::string& device) {
  const nlohmann::json meta = io::read_model_metadata(dir, {"wbary.w2_map", kMapFormatVersion, "W2 map"});
  W2MapConfig config;
  update_from_json(config, meta.at("config"));
  if (!device.empty()) config.device = device;
  W2MapModel model(meta.at("dim").get<int64_t>(), meta.at("source").get<std::string>(),
                   meta.at("target").get<std::string>(), config);
  io::load_model_parts(
      dir, {{"f", [&](auto& a) { model.f->load(a); }}, {"amortizer", [&](auto& a) { model.amortizer->load(a); }}},
      model.device());
  if (auto* icnn = dynamic_cast<IcnnMapPotential*>(model.f.get())) icnn->repack();  // load replaced the storages
  if (meta.contains("history")) model.history_ = meta["history"];
  return model;
}

}  // namespace wbary::maps
