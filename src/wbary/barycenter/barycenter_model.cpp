#include "wbary/barycenter/barycenter_model.h"

#include <cmath>
#include <sstream>

#include "wbary/data/sampler.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"

namespace wbary::barycenter {

void BarycenterModel::check_input(int64_t i, const at::Tensor& x, const char* what) const {
  if (i < 0 || i >= count()) {
    throw InvalidArgument(std::string(what) + ": marginal " + std::to_string(i + 1) + " does not exist, expected 1.." +
                          std::to_string(count()));
  }
  if (x.dim() != 2 || x.size(1) != dim()) {
    std::ostringstream msg;
    msg << what << ": input has shape " << x.sizes() << ", expected [n, " << dim() << "]";
    throw InvalidArgument(msg.str());
  }
}

at::Tensor sample_by_pushing(const BarycenterModel& model, int64_t n, uint64_t seed) {
  if (n < 1) throw InvalidArgument("sample: n must be >= 1");
  const auto& specs = model.marginal_specs();
  if (static_cast<int64_t>(specs.size()) != model.count()) {
    throw InvalidArgument("sample: the model does not record its marginals, so it cannot push fresh samples; "
                          "use push on samples of a marginal instead");
  }
  // Largest-remainder rounding of n a_i, so that the counts sum to n.
  const auto& a = model.weights();
  std::vector<int64_t> counts(a.size());
  int64_t total = 0;
  for (size_t i = 0; i < a.size(); ++i) total += counts[i] = static_cast<int64_t>(std::floor(a[i] * n));
  for (size_t k = 0; total < n; k = (k + 1) % a.size()) {
    if (a[k] > 0) ++counts[k], ++total;
  }
  std::vector<at::Tensor> parts;
  for (size_t i = 0; i < a.size(); ++i) {
    if (counts[i] == 0) continue;
    if (specs[i].empty()) {
      throw InvalidArgument("sample: marginal " + std::to_string(i + 1) +
                            " was given as an array, not a file or spec, so this " + model.method() +
                            " model cannot draw fresh samples of it; push samples of it instead");
    }
    const auto sampler = data::make_sampler(specs[i]);
    at::Generator gen = data::make_generator(data::derive_seed(seed, 0x9b5 + i, 0));
    parts.push_back(model.push(static_cast<int64_t>(i), sampler->sample(counts[i], gen)));
  }
  at::Generator gen = data::make_generator(data::derive_seed(seed, 0x9b4, 0));
  const at::Tensor all = at::cat(parts);
  return all.index_select(0, at::randperm(n, gen, at::TensorOptions().dtype(at::kLong)));
}

}  // namespace wbary::barycenter
