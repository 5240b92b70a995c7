#include "wbary/grid/learned_barycenter.h"

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>

#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/grid/convolutional_barycenter.h"
#include "wbary/grid/random_shapes.h"
#include "wbary/io/atomic_file.h"
#include "wbary/io/json_file.h"
#include "wbary/io/model_directory.h"
#include "wbary/install_dirs.h"
#include "wbary/io/npy.h"
#include "wbary/training/device.h"
#include "wbary/version.h"

namespace wbary::grid {
namespace {

const at::TensorOptions kF64 = at::TensorOptions().dtype(at::kDouble);

io::Table to_table(const at::Tensor& t) {
  io::Table table;
  table.shape = t.sizes().vec();
  const at::Tensor c = t.to(at::kDouble).contiguous();
  table.values.assign(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  return table;
}

at::Tensor from_table(const io::Table& t) {
  return at::tensor(t.values, kF64).view(t.shape).to(at::kFloat);
}

std::string shard_name(const std::string& dir, int64_t shard, const char* what) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "/shard_%05ld_%s.npy", static_cast<long>(shard), what);
  return dir + buf;
}

nlohmann::json dataset_json(const GridDatasetConfig& c) {
  return {{"n", c.n},           {"count", c.count},     {"shard_size", c.shard_size},
          {"inputs", c.inputs}, {"epsilon", c.epsilon}, {"seed", c.seed}};
}

}  // namespace

void GridDatasetConfig::validate() const {
  if (n < 8 || n > 4096) throw InvalidArgument("grid data: --n must be in [8, 4096], got " + std::to_string(n));
  if (count < 1 || shard_size < 1 || inputs < 2) {
    throw InvalidArgument("grid data: need count >= 1, shard_size >= 1 and inputs >= 2");
  }
  if (!(epsilon > 0)) throw InvalidArgument("grid data: epsilon must be > 0");
}

GridExample make_grid_example(const GridDatasetConfig& c, int64_t index) {
  GridExample e;
  std::vector<at::Tensor> shapes;
  for (int64_t k = 0; k < c.inputs; ++k) shapes.push_back(random_shape(c.n, c.seed, index * c.inputs + k));
  at::Generator gen = data::make_generator(data::derive_seed(c.seed, 0x77, index));
  if (c.inputs == 2) {
    double t = -1;
    while (t < 0 || t > 1) t = at::normal(0.5, 0.32, {1}, gen, kF64).item<double>();
    e.weights = at::tensor({t, 1 - t}, kF64);
  } else {
    const at::Tensor u = -at::log(at::rand({c.inputs}, gen, kF64));  // flat Dirichlet
    e.weights = u / u.sum();
  }
  ConvolutionalBarycenterConfig cc;
  cc.epsilon = c.epsilon;  // POT's convention, as the stored datasets record it
  const std::vector<double> w(e.weights.data_ptr<double>(), e.weights.data_ptr<double>() + c.inputs);
  e.target = ConvolutionalBarycenter(cc).solve(shapes, w).barycenter;
  e.images = at::stack(shapes, 0);
  return e;
}

void generate_grid_dataset(const GridDatasetConfig& c, const std::string& dir,
                           const std::function<void(int64_t, int64_t)>& progress,
                           const std::function<bool()>& cancelled) {
  c.validate();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError(dir + ": cannot create dataset directory: " + ec.message());
  const std::string manifest_path = dir + "/manifest.json";
  nlohmann::json manifest = {{"format", "wbary.grid_dataset"}, {"config", dataset_json(c)},
                             {"shards", nlohmann::json::array()}};
  if (std::filesystem::exists(manifest_path)) {
    const nlohmann::json old = io::read_json(manifest_path);
    if (old.value("config", nlohmann::json()) != dataset_json(c)) {
      throw InvalidArgument(manifest_path + ": the dataset there was made with other settings (" +
                            old.value("config", nlohmann::json()).dump() + "); use another --out");
    }
    manifest = old;
  }
  const int64_t shards = (c.count + c.shard_size - 1) / c.shard_size;
  const int64_t done_shards = static_cast<int64_t>(manifest["shards"].size());
  int64_t done = std::min(c.count, done_shards * c.shard_size);
  for (int64_t s = done_shards; s < shards; ++s) {
    if (cancelled && cancelled()) return;
    const int64_t first = s * c.shard_size, last = std::min(c.count, first + c.shard_size);
    std::vector<at::Tensor> images, weights, targets;
    for (int64_t i = first; i < last; ++i) {
      GridExample e = make_grid_example(c, i);
      images.push_back(e.images);
      weights.push_back(e.weights);
      targets.push_back(e.target);
      if (progress) progress(++done, c.count);
    }
    io::write_npy(shard_name(dir, s, "images"), to_table(at::stack(images)), io::NpyDtype::kFloat32);
    io::write_npy(shard_name(dir, s, "weights"), to_table(at::stack(weights)), io::NpyDtype::kFloat32);
    io::write_npy(shard_name(dir, s, "targets"), to_table(at::stack(targets)), io::NpyDtype::kFloat32);
    manifest["shards"].push_back({{"index", s}, {"examples", last - first}});
    io::write_text_atomically(manifest_path, manifest.dump(1));  // only after the shard's files exist
  }
}

GridDataset GridDataset::load(const std::string& dir) {
  const std::string manifest_path = dir + "/manifest.json";
  const nlohmann::json manifest = io::read_json(manifest_path);
  if (manifest.value("format", "") != "wbary.grid_dataset") {
    throw IoError(manifest_path + ": not a wbary grid dataset manifest");
  }
  GridDataset d;
  const auto& cj = manifest["config"];
  d.config.n = cj.at("n");
  d.config.count = cj.at("count");
  d.config.shard_size = cj.at("shard_size");
  d.config.inputs = cj.at("inputs");
  d.config.epsilon = cj.at("epsilon");
  d.config.seed = cj.at("seed");
  std::vector<at::Tensor> images, weights, targets;
  for (const auto& shard : manifest["shards"]) {
    const int64_t s = shard.at("index");
    images.push_back(from_table(io::read_npy(shard_name(dir, s, "images"))));
    weights.push_back(from_table(io::read_npy(shard_name(dir, s, "weights"))));
    targets.push_back(from_table(io::read_npy(shard_name(dir, s, "targets"))));
  }
  if (images.empty()) throw IoError(manifest_path + ": the dataset has no finished shard yet");
  d.images = at::cat(images);
  d.weights = at::cat(weights);
  d.targets = at::cat(targets);
  return d;
}

at::Tensor kl_divergence(const at::Tensor& truth, const at::Tensor& log_prediction) {
  const at::Tensor t = truth.clamp_min(1e-10);
  return (t * (t.log() - log_prediction)).flatten(1).sum(1);
}

// ---- model -------------------------------------------------------------

LearnedGridBarycenter::LearnedGridBarycenter(UNetConfig config, uint64_t seed) : config_(config) {
  // Module constructors draw from LibTorch's default generator; seed it for
  // reproducible initial weights, then restore nothing (callers seed again).
  torch::manual_seed(seed);
  net_ = BarycentricUNet(config_);
}

at::Tensor LearnedGridBarycenter::predict(const std::vector<at::Tensor>& images,
                                          const std::vector<double>& weights) const {
  if (images.empty() || images.size() != weights.size()) {
    throw InvalidArgument("grid predict: " + std::to_string(images.size()) + " images and " +
                          std::to_string(weights.size()) + " weights");
  }
  double total = 0;
  for (double w : weights) {
    if (!(w >= 0) || !std::isfinite(w)) throw InvalidArgument("grid predict: weights must be finite and >= 0");
    total += w;
  }
  if (!(total > 0)) throw InvalidArgument("grid predict: the weights sum to 0");
  std::vector<at::Tensor> normalised;
  for (size_t k = 0; k < images.size(); ++k) {
    if (images[k].dim() != 2 || !images[k].sizes().equals(images[0].sizes())) {
      throw InvalidArgument("grid predict: image " + std::to_string(k + 1) + " is not a 2-D image of the size of image 1");
    }
    const at::Tensor img = images[k].to(at::kFloat);
    if ((img < 0).any().item<bool>() || !(img.sum().item<double>() > 0)) {
      throw InvalidArgument("grid predict: image " + std::to_string(k + 1) + " has negative or no mass");
    }
    normalised.push_back(img / img.sum());
  }
  const at::Device dev = device();
  const at::Tensor w = at::tensor(weights, kF64).div(total).to(at::kFloat).unsqueeze(0).to(dev);
  torch::NoGradGuard no_grad;
  BarycentricUNet net = net_;
  const bool was_training = net->is_training();
  net->eval();
  at::Tensor out = net->forward(at::stack(normalised).unsqueeze(0).to(dev), w).squeeze(0).to(at::kCPU, at::kDouble);
  net->train(was_training);
  return out;
}

void LearnedGridBarycenter::to(const at::Device& device) { net_->to(device); }

at::Device LearnedGridBarycenter::device() const { return net_->parameters().front().device(); }

void LearnedGridBarycenter::save(const std::string& dir) const {
  const nlohmann::json meta = {{"format", "wbary.grid_unet"}, {"format_version", kGridModelFormatVersion},
                               {"wbary_version", WBARY_VERSION}, {"net", to_json(config_)}, {"info", info_}};
  // The network is the archive's top level (the shipped model's layout).
  io::save_model_directory(dir, {{"", [&](auto& a) { net_->save(a); }}}, meta);
}

LearnedGridBarycenter LearnedGridBarycenter::load(const std::string& dir) {
  const nlohmann::json meta =
      io::read_model_metadata(dir, {"wbary.grid_unet", kGridModelFormatVersion, "grid barycenter"});
  UNetConfig config;
  update_from_json(config, meta.at("net"));
  LearnedGridBarycenter model(config);
  io::load_model_parts(dir, {{"", [&](auto& a) { model.net_->load(a); }}}, at::Device(at::kCPU));
  model.info_ = meta.value("info", nlohmann::json::object());
  return model;
}

std::string shipped_grid_model_dir() {
  // $WBARY_MODELS_DIR first (a user's own copy); then the models beside this
  // library, at the same relative path in the build tree and in an installed
  // prefix (<libdir>/<WBARY_MODELS_FROM_LIBDIR>), so a relocated install
  // finds its own copy and nothing points back into the build folder.
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("WBARY_MODELS_DIR"); env != nullptr && *env) candidates.push_back(env);
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&shipped_grid_model_dir), &info) != 0 && info.dli_fname != nullptr) {
    std::error_code ec;
    const auto library = std::filesystem::canonical(info.dli_fname, ec);
    if (!ec) candidates.push_back((library.parent_path() / WBARY_MODELS_FROM_LIBDIR).lexically_normal().string());
  }
  for (const auto& models : candidates) {
    const std::string dir = models + "/grid64";
    if (std::filesystem::exists(dir + "/model.json")) return dir;
  }
  return "";
}

// ---- training ----------------------------------------------------------

void GridTrainingConfig::validate() const {
  net.validate();
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw InvalidArgument("grid training config: " + what);
  };
  need(optimizer == "sgd" || optimizer == "adam", "optimizer must be sgd or adam, got '" + optimizer + "'");
  need(learning_rate > 0, "learning_rate must be > 0");
  need(momentum >= 0 && momentum < 1, "momentum must be in [0, 1)");
  need(restart_period >= 1 && restart_mult >= 1, "restart_period and restart_mult must be >= 1");
  need(iterations >= 0 && batch_size >= 1, "need iterations >= 0 and batch_size >= 1");
  need(validation_fraction > 0 && validation_fraction < 1, "validation_fraction must be in (0, 1)");
  need(validate_every >= 1 && log_every >= 1, "validate_every and log_every must be >= 1");
  training::validate_device(device);
}

nlohmann::json to_json(const GridTrainingConfig& c) {
  return {{"net", to_json(c.net)},
          {"optimizer", c.optimizer},
          {"learning_rate", c.learning_rate},
          {"momentum", c.momentum},
          {"restart_period", c.restart_period},
          {"restart_mult", c.restart_mult},
          {"iterations", c.iterations},
          {"batch_size", c.batch_size},
          {"validation_fraction", c.validation_fraction},
          {"validate_every", c.validate_every},
          {"seed", c.seed},
          {"log_every", c.log_every},
          {"device", c.device}};
}

void update_from_json(GridTrainingConfig& c, const nlohmann::json& j) {
  try {
    for (const auto& [key, value] : j.items()) {
      if (key == "net") update_from_json(c.net, value);
      else if (key == "optimizer") c.optimizer = value.get<std::string>();
      else if (key == "learning_rate") c.learning_rate = value.get<double>();
      else if (key == "momentum") c.momentum = value.get<double>();
      else if (key == "restart_period") c.restart_period = value.get<int64_t>();
      else if (key == "restart_mult") c.restart_mult = value.get<int64_t>();
      else if (key == "iterations") c.iterations = value.get<int64_t>();
      else if (key == "batch_size") c.batch_size = value.get<int64_t>();
      else if (key == "validation_fraction") c.validation_fraction = value.get<double>();
      else if (key == "validate_every") c.validate_every = value.get<int64_t>();
      else if (key == "seed") c.seed = value.get<uint64_t>();
      else if (key == "log_every") c.log_every = value.get<int64_t>();
      else if (key == "device") c.device = value.get<std::string>();
      else throw InvalidArgument("config: unknown key '" + key + "'");
    }
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("config: wrong value type (") + e.what() + ")");
  }
}

GridBarycenterTrainer::GridBarycenterTrainer(GridDataset data, GridTrainingConfig config)
    : data_(std::move(data)), config_(std::move(config)), model_((config_.validate(), config_.net), config_.seed) {
  const int64_t S = data_.size();
  train_size_ = S - std::max<int64_t>(1, static_cast<int64_t>(std::llround(config_.validation_fraction * S)));
  if (train_size_ < 1) throw InvalidArgument("grid training: the dataset has " + std::to_string(S) + " examples, too few to split");
  device_ = training::parse_device(config_.device);
  if (!device_.is_cpu()) {
    model_.to(device_);
    data_.images = data_.images.to(device_);
    data_.weights = data_.weights.to(device_);
    data_.targets = data_.targets.to(device_);
  }
  if (config_.optimizer == "sgd") {
    opt_ = std::make_unique<torch::optim::SGD>(
        model_.net()->parameters(),
        torch::optim::SGDOptions(config_.learning_rate).momentum(config_.momentum).nesterov(true));
  } else {
    opt_ = std::make_unique<torch::optim::Adam>(model_.net()->parameters(), torch::optim::AdamOptions(config_.learning_rate));
  }
}

GridBarycenterTrainer::~GridBarycenterTrainer() = default;

double GridBarycenterTrainer::learning_rate() const {
  // CosineAnnealingWarmRestarts(T0, T_mult, eta_min = 0).
  int64_t t = step_, period = config_.restart_period;
  while (t >= period) {
    t -= period;
    period *= config_.restart_mult;
  }
  return config_.learning_rate * 0.5 * (1 + std::cos(M_PI * static_cast<double>(t) / static_cast<double>(period)));
}

training::StepInfo GridBarycenterTrainer::step() {
  for (auto& group : opt_->param_groups()) {
    if (config_.optimizer == "sgd") static_cast<torch::optim::SGDOptions&>(group.options()).lr(learning_rate());
    else static_cast<torch::optim::AdamOptions&>(group.options()).lr(learning_rate());
  }
  at::Generator gen = data::make_generator(data::derive_seed(config_.seed, 0x6272, step_));
  const at::Tensor idx =
      at::randint(train_size_, {config_.batch_size}, gen, at::TensorOptions().dtype(at::kLong)).to(device_);
  model_.net()->train();
  opt_->zero_grad();
  const at::Tensor log_pred = model_.net()->log_forward(data_.images.index_select(0, idx), data_.weights.index_select(0, idx));
  const at::Tensor loss = kl_divergence(data_.targets.index_select(0, idx), log_pred).mean();
  loss.backward();
  opt_->step();
  ++step_;
  training::StepInfo info;
  info.step = step_;
  info.total_steps = config_.iterations;
  const double kl = loss.item<double>();
  if (!std::isfinite(kl)) {
    throw DivergenceError("grid training diverged at step " + std::to_string(step_) + ": KL = " + std::to_string(kl) +
                          " (try a smaller --lr)");
  }
  if (step_ % config_.validate_every == 0 || step_ == config_.iterations || step_ == 1) last_val_kl_ = validation_kl();
  info.losses = {{"train_kl", kl}, {"val_kl", last_val_kl_}, {"lr", learning_rate()}};
  return info;
}

double GridBarycenterTrainer::validation_kl() const {
  torch::NoGradGuard no_grad;
  BarycentricUNet net = model_.net();
  const bool was_training = net->is_training();
  net->eval();
  double total = 0;
  const int64_t S = data_.size();
  for (int64_t i = train_size_; i < S; i += 64) {
    const int64_t j = std::min(S, i + 64);
    total += kl_divergence(data_.targets.slice(0, i, j),
                           net->log_forward(data_.images.slice(0, i, j), data_.weights.slice(0, i, j)))
                 .sum()
                 .item<double>();
  }
  net->train(was_training);
  return total / static_cast<double>(S - train_size_);
}

training::TrainingSummary GridBarycenterTrainer::train(const std::vector<training::TrainingCallback*>& callbacks) {
  auto summary = training::run_training_loop([this] { return step(); }, step_, config_.iterations, config_.log_every,
                                             elapsed_before_, history_, callbacks);
  model_.info() = {{"steps", step_},
                   {"training_seconds", elapsed_before_},
                   {"validation_kl", validation_kl()},
                   {"dataset", dataset_json(data_.config)},
                   {"examples", data_.size()},
                   {"training", to_json(config_)}};
  return summary;
}

void GridBarycenterTrainer::save_checkpoint(const std::string& path) const {
  torch::serialize::OutputArchive archive, an, ao;
  model_.net()->save(an);
  opt_->save(ao);
  archive.write("net", an);
  archive.write("opt", ao);
  archive.write("step", at::tensor(step_));
  archive.write("elapsed", at::tensor(elapsed_before_, kF64));
  io::write_atomically(path, [&](const std::string& tmp) { archive.save_to(tmp); });
  io::write_text_atomically(path + ".json", nlohmann::json{{"config", to_json(config_)}, {"history", history_}}.dump(1));
}

void GridBarycenterTrainer::load_checkpoint(const std::string& path) {
  const nlohmann::json meta = io::read_json(path + ".json");
  // The device may change between runs (train on a GPU, finish on the CPU).
  auto without_device = [](nlohmann::json j) {
    if (j.is_object()) j.erase("device");
    return j;
  };
  if (without_device(meta.value("config", nlohmann::json())) != without_device(to_json(config_))) {
    throw InvalidArgument(path + ": checkpoint was written with another config; resume with the same flags");
  }
  try {
    torch::serialize::InputArchive archive, an, ao;
    archive.load_from(path, device_);
    archive.read("net", an);
    archive.read("opt", ao);
    model_.net()->load(an);
    opt_->load(ao);
    at::Tensor step, elapsed;
    archive.read("step", step);
    archive.read("elapsed", elapsed);
    step_ = step.item<int64_t>();
    elapsed_before_ = elapsed.item<double>();
  } catch (const c10::Error& e) {
    throw IoError(path + ": cannot read checkpoint (missing or corrupt): " + e.what_without_backtrace());
  }
  history_ = meta.value("history", nlohmann::json::array());
}

}  // namespace wbary::grid
