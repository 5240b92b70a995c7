#include "wbary/data/spec.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <vector>

#include "wbary/data/empirical.h"
#include "wbary/data/gaussian.h"
#include "wbary/data/mixture.h"
#include "wbary/data/palette.h"
#include "wbary/data/shapes.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"

namespace wbary::data {
namespace {

class SpecArgs {
 public:
  SpecArgs(const std::string& spec, const std::string& body, std::set<std::string> allowed)
      : spec_(spec) {
    size_t start = 0;
    while (start <= body.size() && !body.empty()) {
      const size_t comma = body.find(',', start);
      const std::string item = body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      const size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw InvalidArgument("marginal '" + spec + "': '" + item + "' is not key=value");
      }
      const std::string key = item.substr(0, eq);
      if (!allowed.count(key)) {
        std::string keys;
        for (const auto& k : allowed) keys += (keys.empty() ? "" : ", ") + k;
        throw InvalidArgument("marginal '" + spec + "': unknown key '" + key + "', expected one of: " + keys);
      }
      values_[key] = item.substr(eq + 1);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }

  double number(const std::string& key, double fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    try {
      size_t used = 0;
      const double v = std::stod(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument("trailing");
      return v;
    } catch (const std::exception&) {
      throw InvalidArgument("marginal '" + spec_ + "': " + key + "='" + it->second + "' is not a number");
    }
  }
  int64_t integer(const std::string& key, int64_t fallback) const {
    const double v = number(key, static_cast<double>(fallback));
    if (v != static_cast<double>(static_cast<int64_t>(v))) {
      throw InvalidArgument("marginal '" + spec_ + "': " + key + " must be an integer");
    }
    return static_cast<int64_t>(v);
  }
  std::string text(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) throw InvalidArgument("marginal '" + spec_ + "': missing required key '" + key + "'");
    return it->second;
  }
  /// "1/-2.5/3" -> {1, -2.5, 3}; a fallback when the key is absent.
  std::vector<double> numbers(const std::string& key, std::vector<double> fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    std::vector<double> out;
    size_t start = 0;
    while (true) {
      const size_t slash = it->second.find('/', start);
      const std::string item = it->second.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      try {
        size_t used = 0;
        out.push_back(std::stod(item, &used));
        if (used != item.size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        throw InvalidArgument("marginal '" + spec_ + "': " + key + " entry '" + item + "' is not a number");
      }
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    return out;
  }
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  void require(const std::string& key) const { text(key); }

 private:
  std::string spec_;
  std::map<std::string, std::string> values_;
};

}  // namespace

GaussianMoments read_gaussian_json(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(io::read_text(path));
  } catch (const nlohmann::json::exception& e) {
    throw IoError(path + ": invalid JSON: " + e.what());
  }
  if (!j.contains("mean") || !j.contains("cov")) {
    throw IoError(path + ": expected an object with \"mean\" (vector) and \"cov\" (matrix)");
  }
  try {
    const auto mean = j["mean"].get<std::vector<double>>();
    const auto cov = j["cov"].get<std::vector<std::vector<double>>>();
    const int64_t d = static_cast<int64_t>(mean.size());
    std::vector<double> flat;
    for (const auto& row : cov) {
      if (static_cast<int64_t>(row.size()) != d) {
        throw IoError(path + ": \"cov\" row has " + std::to_string(row.size()) + " entries, expected " +
                      std::to_string(d) + " (the length of \"mean\")");
      }
      flat.insert(flat.end(), row.begin(), row.end());
    }
    if (static_cast<int64_t>(cov.size()) != d) {
      throw IoError(path + ": \"cov\" has " + std::to_string(cov.size()) + " rows, expected " + std::to_string(d));
    }
    const auto opts = at::TensorOptions().dtype(at::kDouble);
    return {at::tensor(mean, opts), at::tensor(flat, opts).reshape({d, d})};
  } catch (const nlohmann::json::exception& e) {
    throw IoError(path + ": \"mean\"/\"cov\" must be numbers: " + e.what());
  }
}

std::unique_ptr<Sampler> make_sampler(const std::string& spec) {
  const size_t colon = spec.find(':');
  const std::string kind = colon == std::string::npos ? "" : spec.substr(0, colon);
  const std::string body = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "gaussian") {
    SpecArgs a(spec, body, {"dim", "seed", "eig_min", "eig_max", "shift", "json"});
    if (a.has("json")) {
      GaussianMoments m = read_gaussian_json(a.text("json"));
      return std::make_unique<GaussianSampler>(m.mean, m.covariance, "gaussian(" + a.text("json") + ")");
    }
    a.require("dim");
    return std::make_unique<GaussianSampler>(GaussianSampler::random(
        a.integer("dim", 0), static_cast<uint64_t>(a.integer("seed", 0)), a.number("eig_min", 0.5),
        a.number("eig_max", 5.0), a.number("shift", 0.0)));
  }
  if (kind == "normal") {
    SpecArgs a(spec, body, {"dim", "std"});
    a.require("dim");
    const int64_t d = a.integer("dim", 0);
    const double sd = a.number("std", 1.0);
    if (d < 1 || !(sd > 0)) throw InvalidArgument(spec + ": need dim >= 1 and std > 0");
    const auto opts = at::TensorOptions().dtype(at::kDouble);
    std::ostringstream desc;
    desc << "normal(dim=" << d << ", std=" << sd << ")";
    return std::make_unique<GaussianSampler>(at::zeros({d}, opts), sd * sd * at::eye(d, opts), desc.str());
  }
  if (kind == "gmm") {
    SpecArgs a(spec, body, {"dim", "means", "weights", "std"});
    a.require("means");
    const int64_t d = a.integer("dim", 2);
    const std::vector<double> means = a.numbers("means", {});
    if (d < 1 || means.empty() || means.size() % static_cast<size_t>(d) != 0) {
      throw InvalidArgument(spec + ": means has " + std::to_string(means.size()) +
                            " numbers, expected a multiple of dim=" + std::to_string(d));
    }
    const int64_t k = static_cast<int64_t>(means.size()) / d;
    const std::vector<double> weights = a.numbers("weights", std::vector<double>(k, 1.0));
    if (static_cast<int64_t>(weights.size()) != k) {
      throw InvalidArgument(spec + ": " + std::to_string(weights.size()) + " weights for " + std::to_string(k) +
                            " components");
    }
    const auto opts = at::TensorOptions().dtype(at::kDouble);
    std::ostringstream desc;
    desc << "gmm(k=" << k << ", dim=" << d << ", std=" << a.number("std", 0.3) << ")";
    return std::make_unique<GaussianMixtureSampler>(at::tensor(means, opts).view({k, d}), a.number("std", 0.3),
                                                    at::tensor(weights, opts), desc.str());
  }
  if (kind == "mixture") {
    SpecArgs a(spec, body, {"dim", "k", "radius", "std", "seed"});
    return std::make_unique<GaussianMixtureSampler>(GaussianMixtureSampler::on_circle(
        a.integer("dim", 2), a.integer("k", 8), a.number("radius", 4.0), a.number("std", 0.3),
        static_cast<uint64_t>(a.integer("seed", 0))));
  }
  if (kind == "disc") {
    SpecArgs a(spec, body, {"r", "cx", "cy"});
    return std::make_unique<ShapeSampler>(
        ShapeSampler::disc(a.number("r", 1.0), a.number("cx", 0), a.number("cy", 0)));
  }
  if (kind == "ring") {
    SpecArgs a(spec, body, {"inner", "outer", "cx", "cy"});
    return std::make_unique<ShapeSampler>(ShapeSampler::ring(
        a.number("inner", 0.6), a.number("outer", 1.0), a.number("cx", 0), a.number("cy", 0)));
  }
  if (kind == "square") {
    SpecArgs a(spec, body, {"side", "cx", "cy"});
    return std::make_unique<ShapeSampler>(
        ShapeSampler::square(a.number("side", 2.0), a.number("cx", 0), a.number("cy", 0)));
  }
  if (kind == "image") {
    SpecArgs a(spec, body, {"path", "scale", "invert"});
    return std::make_unique<ShapeSampler>(
        ShapeSampler::image(a.text("path"), a.number("scale", 1.0), a.integer("invert", 0) != 0));
  }
  if (kind == "palette") {
    SpecArgs a(spec, body, {"path"});
    a.require("path");
    const io::RgbImage photo = io::read_rgb_image(a.text("path"));
    return std::make_unique<EmpiricalSampler>(
        colours_of(photo), "palette(" + a.text("path") + ", " + std::to_string(photo.width) + "x" +
                               std::to_string(photo.height) + " pixels)");
  }
  if (colon == std::string::npos) {
    return std::make_unique<EmpiricalSampler>(EmpiricalSampler::load(spec));
  }
  throw InvalidArgument("marginal '" + spec + "': unknown kind '" + kind + "'\n" + sampler_spec_help());
}

const char* sampler_spec_help() {
  return "A marginal is a point-cloud file or a synthetic law:\n"
         "  cloud.npy | cloud.csv                     empirical cloud, one point a row\n"
         "  gaussian:dim=16,seed=3                    N(0, S), S with eigenvalues in [0.5, 5]\n"
         "           [,eig_min=0.5,eig_max=5,shift=0]\n"
         "  gmm:means=-4/1/4/1,weights=1/3[,std=0.3,dim=2]  mixture, explicit means (row-major) and weights\n"
         "  normal:dim=8[,std=1]                      N(0, std^2 I) (a flow's source: `wbary map fit`)\n"
         "  gaussian:json=g.json                      {\"mean\": [...], \"cov\": [[...], ...]}\n"
         "  mixture:dim=2,k=8,radius=4,std=0.3,seed=0 isotropic Gaussian mixture\n"
         "  disc:r=1,cx=0,cy=0                        uniform on a disc\n"
         "  ring:inner=0.6,outer=1,cx=0,cy=0          uniform on an annulus\n"
         "  square:side=2,cx=0,cy=0                   uniform on a square\n"
         "  image:path=mask.png,scale=1,invert=0      uniform on the dark pixels of an image\n"
         "  palette:path=photo.jpg                    the colours of an image's pixels, in [0, 1]^3\n";
}

}  // namespace wbary::data
