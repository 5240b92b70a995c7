#include "wbary/barycenter/neural_barycenter_model.h"

#include <torch/serialize.h>

#include <filesystem>
#include <sstream>

#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"
#include "wbary/io/json_file.h"

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

void NeuralBarycenterModel::check_index(int64_t i, const at::Tensor& x, const char* what) const {
  if (i < 0 || i >= count_) {
    throw InvalidArgument(std::string(what) + ": marginal " + std::to_string(i + 1) + " does not exist, expected 1.." +
                          std::to_string(count_));
  }
  if (x.dim() != 2 || x.size(1) != dim_) {
    std::ostringstream msg;
    msg << what << ": input has shape " << x.sizes() << ", expected [n, " << dim_ << "]";
    throw InvalidArgument(msg.str());
  }
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
  check_index(i, x, "push");
  return g->gradient_of(i, x).to(at::kCPU).to(at::kDouble);
}

at::Tensor NeuralBarycenterModel::pull(int64_t i, const at::Tensor& y) const {
  check_index(i, y, "pull");
  return f->gradient_of(i, y).to(at::kCPU).to(at::kDouble);
}

nlohmann::json NeuralBarycenterModel::metadata() const {
  return {{"format", "wbary.neural_barycenter"},
          {"format_version", kModelFormatVersion},
          {"wbary_version", WBARY_VERSION},
          {"dim", dim_},
          {"count", count_},
          {"weights", weights_},
          {"marginals", specs_},
          {"config", to_json(config_)}};
}

void NeuralBarycenterModel::save(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError(dir + ": cannot create model directory: " + ec.message());
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive af, ag, ah;
  f->save(af);
  g->save(ag);
  h->save(ah);
  archive.write("f", af);
  archive.write("g", ag);
  archive.write("h", ah);
  io::write_atomically(dir + "/model.pt", [&](const std::string& tmp) { archive.save_to(tmp); });
  nlohmann::json meta = metadata();
  meta["history"] = history_;
  io::write_text_atomically(dir + "/model.json", meta.dump(1));
}

NeuralBarycenterModel NeuralBarycenterModel::load(const std::string& dir, const std::string& device) {
  const std::string meta_path = dir + "/model.json";
  const nlohmann::json meta = io::read_json(meta_path);
  if (meta.value("format", "") != "wbary.neural_barycenter") {
    throw IoError(meta_path + ": not a wbary neural barycenter model (\"format\" is " +
                  meta.value("format", std::string("missing")) + ")");
  }
  const int version = meta.value("format_version", -1);
  if (version != kModelFormatVersion) {
    throw IoError(meta_path + ": model format version " + std::to_string(version) +
                  ", this wbary reads version " + std::to_string(kModelFormatVersion) +
                  " (written by wbary " + meta.value("wbary_version", std::string("?")) + ")");
  }
  NeuralBarycenterConfig config;
  update_from_json(config, meta.at("config"));
  if (!device.empty()) config.device = device;
  NeuralBarycenterModel model(meta.at("dim").get<int64_t>(), meta.at("count").get<int64_t>(),
                              meta.at("weights").get<std::vector<double>>(),
                              meta.at("marginals").get<std::vector<std::string>>(), config);
  const std::string pt = dir + "/model.pt";
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(pt);
    torch::serialize::InputArchive af, ag, ah;
    archive.read("f", af);
    archive.read("g", ag);
    archive.read("h", ah);
    model.f->load(af);
    model.g->load(ag);
    model.h->load(ah);
    model.f->repack();  // Module::load replaced the storages
    model.g->repack();
  } catch (const c10::Error& e) {
    throw IoError(pt + ": cannot load network weights (missing or corrupt file): " + e.what_without_backtrace());
  }
  if (meta.contains("history")) model.history_ = meta["history"];
  return model;
}

}  // namespace wbary::barycenter
