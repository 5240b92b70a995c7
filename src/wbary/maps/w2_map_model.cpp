#include "wbary/maps/w2_map_model.h"

#include <torch/serialize.h>

#include <filesystem>

#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"
#include "wbary/io/json_file.h"

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
  f = make_potential(config_.potential, dim, config_.hidden, gen, dtype());
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
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError(dir + ": cannot create model directory: " + ec.message());
  torch::serialize::OutputArchive archive, af, ah;
  f->save(af);
  amortizer->save(ah);
  archive.write("f", af);
  archive.write("amortizer", ah);
  io::write_atomically(dir + "/model.pt", [&](const std::string& tmp) { archive.save_to(tmp); });
  nlohmann::json meta = metadata();
  meta["history"] = history_;
  io::write_text_atomically(dir + "/model.json", meta.dump(1));
}

W2MapModel W2MapModel::load(const std::string& dir, const std::string& device) {
  const std::string meta_path = dir + "/model.json";
  const nlohmann::json meta = io::read_json(meta_path);
  if (meta.value("format", "") != "wbary.w2_map") {
    throw IoError(meta_path + ": not a wbary W2 map model (\"format\" is " +
                  meta.value("format", std::string("missing")) + ")");
  }
  const int version = meta.value("format_version", -1);
  if (version != kMapFormatVersion) {
    throw IoError(meta_path + ": map format version " + std::to_string(version) + ", this wbary reads version " +
                  std::to_string(kMapFormatVersion));
  }
  W2MapConfig config;
  update_from_json(config, meta.at("config"));
  if (!device.empty()) config.device = device;
  W2MapModel model(meta.at("dim").get<int64_t>(), meta.at("source").get<std::string>(),
                   meta.at("target").get<std::string>(), config);
  const std::string pt = dir + "/model.pt";
  try {
    torch::serialize::InputArchive archive, af, ah;
    archive.load_from(pt);
    archive.read("f", af);
    archive.read("amortizer", ah);
    model.f->load(af);
    model.amortizer->load(ah);
    if (auto* icnn = dynamic_cast<IcnnMapPotential*>(model.f.get())) icnn->repack();
  } catch (const c10::Error& e) {
    throw IoError(pt + ": cannot load network weights (missing or corrupt file): " + e.what_without_backtrace());
  }
  if (meta.contains("history")) model.history_ = meta["history"];
  return model;
}

}  // namespace wbary::maps
