#include "wbary/barycenter/regularized_barycenter_model.h"

#include <torch/serialize.h>

#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/io/model_directory.h"
#include "wbary/version.h"

namespace wbary::barycenter {

namespace {
const io::ModelFormat kFormat{"wbary.regularized_barycenter", RegularizedBarycenterModel::kFormatVersion,
                              "CRWB barycenter"};
}

at::Tensor ReferenceBox::sample(int64_t n, at::Generator& gen) const {
  const at::Tensor u = lo + (hi - lo) * at::rand({n, lo.size(0)}, gen, at::TensorOptions().dtype(at::kDouble));
  return at::matmul(u, axes.t());
}

double ReferenceBox::squared_diameter() const { return (hi - lo).pow(2).sum().item<double>(); }

RegularizedBarycenterModel::RegularizedBarycenterModel(int64_t dim, int64_t count, std::vector<double> weights,
                                                       std::vector<std::string> marginal_specs,
                                                       RegularizedBarycenterConfig config)
    : dim_(dim), count_(count), weights_(std::move(weights)), specs_(std::move(marginal_specs)), config_(std::move(config)) {
  validate(config_);
  at::Generator gen_f = data::make_generator(data::derive_seed(config_.seed, 0xcf, 0));
  at::Generator gen_g = data::make_generator(data::derive_seed(config_.seed, 0xc9, 0));
  f = nn::StackedMlp(count, dim, std::vector<int64_t>{config_.hidden1, config_.hidden2}, gen_f);
  g = nn::StackedMlp(count, dim, std::vector<int64_t>{config_.hidden1, config_.hidden2}, gen_g);
  const auto dtype = config_.dtype == "float64" ? at::kDouble : at::kFloat;
  f->to(at::Device(config_.device), dtype);
  g->to(at::Device(config_.device), dtype);
  const auto dbl = at::TensorOptions().dtype(at::kDouble);
  box = {at::eye(dim, dbl), at::zeros({dim}, dbl), at::zeros({dim}, dbl)};
  means = at::zeros({count, dim}, dbl);
  offsets = at::zeros({count, dim}, dbl);
}

at::Tensor RegularizedBarycenterModel::raw_map(int64_t i, const at::Tensor& centred_x) const {
  const at::Tensor x = centred_x.to(at::kDouble);
  return x - 0.5 * f->gradient_of(i, x).to(at::kCPU).to(at::kDouble);
}

at::Tensor RegularizedBarycenterModel::push(int64_t i, const at::Tensor& x) const {
  check_input(i, x, "push");
  const at::Tensor a = at::tensor(weights_, at::TensorOptions().dtype(at::kDouble)).view({count_, 1});
  const at::Tensor mean = (a * means).sum(0);
  return raw_map(i, x.to(at::kDouble) - means[i]) - offsets[i] + mean;
}

at::Tensor RegularizedBarycenterModel::pull(int64_t, const at::Tensor&) const {
  throw InvalidArgument("pull: CRWB learns no map from the barycenter back to the marginals "
                        "(use --method nwb or cwb for pull)");
}

nlohmann::json RegularizedBarycenterModel::metadata() const {
  return {{"format", kFormat.name}, {"format_version", kFormat.version}, {"method", method()},
          {"wbary_version", WBARY_VERSION}, {"dim", dim_}, {"count", count_},
          {"weights", weights_}, {"marginals", specs_}, {"config", to_json(config_)},
          {"effective_epsilon", epsilon}, {"box_outside_share", outside_share}};
}

void RegularizedBarycenterModel::save(const std::string& dir) const {
  nlohmann::json meta = metadata();
  meta["history"] = history_;
  io::save_model_directory(dir,
                           {{"f", [&](auto& a) { f->save(a); }},
                            {"g", [&](auto& a) { g->save(a); }},
                            {"data", [&](auto& a) {
                               a.write("axes", box.axes);
                               a.write("lo", box.lo);
                               a.write("hi", box.hi);
                               a.write("means", means);
                               a.write("offsets", offsets);
                             }}},
                           meta);
}

RegularizedBarycenterModel RegularizedBarycenterModel::load(const std::string& dir, const std::string& device) {
  const nlohmann::json meta = io::read_model_metadata(dir, kFormat);
  RegularizedBarycenterConfig config;
  update_from_json(config, meta.at("config"));
  if (!device.empty()) config.device = device;
  RegularizedBarycenterModel model(meta.at("dim").get<int64_t>(), meta.at("count").get<int64_t>(),
                                   meta.at("weights").get<std::vector<double>>(),
                                   meta.at("marginals").get<std::vector<std::string>>(), config);
  io::load_model_parts(dir,
                       {{"f", [&](auto& a) { model.f->load(a); }},
                        {"g", [&](auto& a) { model.g->load(a); }},
                        {"data", [&](auto& a) {
                           a.read("axes", model.box.axes);
                           a.read("lo", model.box.lo);
                           a.read("hi", model.box.hi);
                           a.read("means", model.means);
                           a.read("offsets", model.offsets);
                         }}},
                       at::Device(config.device));
  for (at::Tensor* t : {&model.box.axes, &model.box.lo, &model.box.hi, &model.means, &model.offsets}) {
    *t = t->to(at::kCPU);
  }
  model.epsilon = meta.value("effective_epsilon", 0.0);
  model.outside_share = meta.value("box_outside_share", 0.0);
  if (meta.contains("history")) model.history_ = meta["history"];
  return model;
}

}  // namespace wbary::barycenter
