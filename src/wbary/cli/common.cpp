#include "wbary/cli/common.h"

#include <algorithm>
#include <iostream>

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "wbary/data/spec.h"
#include "wbary/distributed/agreed_stop.h"
#include "wbary/error.h"
#include "wbary/nn/small_gemm.h"
#include "wbary/version.h"

namespace wbary::cli {

std::vector<double> parse_number_list(const std::string& text, const std::string& flag) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      out.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      throw InvalidArgument(flag + ": '" + item + "' is not a number (expected e.g. 0.3,0.7)");
    }
  }
  return out;
}

void check_marginal_index(const std::string& flag, int64_t index, int64_t count) {
  if (index < 1 || index > count) {
    throw InvalidArgument(flag + ": got " + std::to_string(index) + ", the model has marginals 1.." +
                          std::to_string(count));
  }
}

namespace {

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  const auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

}  // namespace

std::string canonical_spec(const std::string& spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return absolute_path(spec);
  // The files a synthetic spec names (image:path=, palette:path=, gaussian:json=).
  std::string out = spec.substr(0, colon + 1);
  size_t start = colon + 1;
  while (start <= spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    std::string item = spec.substr(start, comma - start);
    for (const char* key : {"path=", "json="}) {
      if (item.rfind(key, 0) == 0) item = key + absolute_path(item.substr(std::string(key).size()));
    }
    out += item + (comma < spec.size() ? "," : "");
    start = comma + 1;
  }
  return out;
}

barycenter::BarycenterProblem make_problem(const std::vector<std::string>& specs, const std::string& weights) {
  barycenter::BarycenterProblem p;
  for (const auto& s : specs) {
    p.specs.push_back(canonical_spec(s));
    p.marginals.push_back(data::make_sampler(s));
  }
  if (!weights.empty()) p.weights = parse_number_list(weights, "--weights");
  p.validate();
  return p;
}

namespace {

// The BLAS actually mapped into this process, read from /proc/self/maps, so
// that a slow reference BLAS is visible (it is ~12x slower than OpenBLAS).
std::string loaded_blas() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  std::string found;
  while (std::getline(maps, line)) {
    for (const char* variant : {"openblas-openmp", "openblas-pthread", "openblas-serial", "blas/libblas", "libmkl", "libblis"}) {
      if (line.find(variant) != std::string::npos && found.find(variant) == std::string::npos) {
        found += (found.empty() ? "" : ", ") + std::string(variant == std::string("blas/libblas") ? "reference BLAS (slow)" : variant);
      }
    }
  }
  return found.empty() ? "unknown" : found;
}

}  // namespace

std::string version_banner() {
  std::ostringstream s;
  s << "wbary " << WBARY_VERSION << " (LibTorch " << TORCH_VERSION << ", BLAS: " << loaded_blas()
    << ", small GEMMs: " << (nn::cpu::small_gemm_uses_libxsmm() ? "LIBXSMM" : "Eigen") << ", "
    << at::get_num_threads() << " threads"
#ifdef WBARY_WITH_CUDA
    << ", CUDA build"
#endif
    << ")";
  return s.str();
}

std::string find_config_argument(int argc, char** argv) {
  for (int k = 1; k < argc; ++k) {
    if (std::strcmp(argv[k], "--config") == 0 && k + 1 < argc) return argv[k + 1];
    if (std::strncmp(argv[k], "--config=", 9) == 0) return argv[k] + 9;
  }
  return "";
}

std::vector<double> as_xy(const at::Tensor& points) {
  const at::Tensor p = points.to(at::kDouble).contiguous();
  return std::vector<double>(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
}

TrainingCallbacks::TrainingCallbacks(int64_t progress_every, double time_limit, int64_t checkpoint_every,
                                     std::function<void()> checkpoint, distributed::ProcessGroup* group)
    : progress_(std::cerr, progress_every, time_limit),
      checkpointer_(checkpoint_every, [checkpoint](const training::StepInfo&) {
        checkpoint();
        return false;
      }) {
  list_.push_back(&progress_);
  if (time_limit > 0) limit_ = std::make_unique<training::TimeLimit>(time_limit);
  if (group != nullptr) {
    std::vector<training::TrainingCallback*> limits;
    if (limit_) limits.push_back(limit_.get());
    agreed_ = std::make_unique<distributed::AgreedStop>(*group, limits, std::vector<training::TrainingCallback*>{&ctrl_c_});
    list_.push_back(agreed_.get());
  } else {
    if (limit_) list_.push_back(limit_.get());
    list_.push_back(&ctrl_c_);
  }
  // After the stop decision: a checkpoint is collective in a distributed run,
  // and every rank reaches it at the same steps.
  list_.push_back(&checkpointer_);
}

TrainingCallbacks::~TrainingCallbacks() = default;

bool TrainingCallbacks::interrupted_anywhere() const {
  return interrupted() || (agreed_ && agreed_->interrupted());
}

}  // namespace wbary::cli
