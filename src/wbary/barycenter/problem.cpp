#include "wbary/barycenter/problem.h"

#include "wbary/barycenter/gaussian_barycenter.h"
#include "wbary/error.h"

namespace wbary::barycenter {

void BarycenterProblem::validate() {
  if (marginals.empty()) throw InvalidArgument("no marginals given, expected at least one (--marginal)");
  if (weights.empty()) weights.assign(marginals.size(), 1.0 / static_cast<double>(marginals.size()));
  const int64_t d = marginals[0]->dim();
  for (size_t i = 1; i < marginals.size(); ++i) {
    if (marginals[i]->dim() != d) {
      throw InvalidArgument("marginal " + std::to_string(i + 1) + " (" + marginals[i]->describe() +
                            ") has dimension " + std::to_string(marginals[i]->dim()) +
                            ", expected " + std::to_string(d) + " like marginal 1 (" +
                            marginals[0]->describe() + ")");
    }
  }
  validate_weights(weights, marginals.size(), "--weights");
}

}  // namespace wbary::barycenter
