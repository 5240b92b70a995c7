#include "wbary/data/shapes.h"

#include <cmath>
#include <sstream>

#include "wbary/error.h"
#include "wbary/io/image.h"

namespace wbary::data {
namespace {

std::string fmt(const char* name, std::initializer_list<std::pair<const char*, double>> kv) {
  std::ostringstream s;
  s << name << "(";
  bool first = true;
  for (const auto& [k, v] : kv) {
    s << (first ? "" : ", ") << k << "=" << v;
    first = false;
  }
  s << ")";
  return s.str();
}

}  // namespace

ShapeSampler ShapeSampler::disc(double radius, double cx, double cy) {
  if (!(radius > 0)) throw InvalidArgument("disc: r=" + std::to_string(radius) + ", expected > 0");
  ShapeSampler s(Kind::kDisc, fmt("disc", {{"r", radius}, {"cx", cx}, {"cy", cy}}));
  s.a_ = radius;
  s.cx_ = cx;
  s.cy_ = cy;
  return s;
}

ShapeSampler ShapeSampler::ring(double inner, double outer, double cx, double cy) {
  if (!(inner >= 0) || !(outer > inner)) {
    throw InvalidArgument("ring: inner=" + std::to_string(inner) + ", outer=" + std::to_string(outer) +
                          ", expected 0 <= inner < outer");
  }
  ShapeSampler s(Kind::kRing,
                 fmt("ring", {{"inner", inner}, {"outer", outer}, {"cx", cx}, {"cy", cy}}));
  s.a_ = inner;
  s.b_ = outer;
  s.cx_ = cx;
  s.cy_ = cy;
  return s;
}

ShapeSampler ShapeSampler::square(double side, double cx, double cy) {
  if (!(side > 0)) throw InvalidArgument("square: side=" + std::to_string(side) + ", expected > 0");
  ShapeSampler s(Kind::kSquare, fmt("square", {{"side", side}, {"cx", cx}, {"cy", cy}}));
  s.a_ = side;
  s.cx_ = cx;
  s.cy_ = cy;
  return s;
}

ShapeSampler ShapeSampler::image(const std::string& path, double scale, bool invert) {
  if (!(scale > 0)) throw InvalidArgument("image: scale must be > 0");
  io::GreyImage img = io::read_grey_image(path);
  std::vector<double> w(img.pixels.size());
  double total = 0;
  for (size_t k = 0; k < w.size(); ++k) {
    w[k] = invert ? img.pixels[k] : 1.0 - img.pixels[k];
    total += w[k];
  }
  if (!(total > 0)) {
    throw InvalidArgument(path + ": image mask is empty (no " +
                          std::string(invert ? "bright" : "dark") + " pixels), expected a shape");
  }
  ShapeSampler s(Kind::kImage, "image(" + path + ")");
  s.pixel_weights_ = at::tensor(w, at::TensorOptions().dtype(at::kDouble));
  s.width_ = img.width;
  s.height_ = img.height;
  s.scale_ = scale;
  return s;
}

at::Tensor ShapeSampler::sample(int64_t n, at::Generator& gen) const {
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  switch (kind_) {
    case Kind::kDisc:
    case Kind::kRing: {
      // Uniform on an annulus: radius^2 uniform in [inner^2, outer^2].
      const double inner = kind_ == Kind::kDisc ? 0.0 : a_;
      const double outer = kind_ == Kind::kDisc ? a_ : b_;
      at::Tensor u = at::rand({n}, gen, opts);
      at::Tensor r = at::sqrt(inner * inner + (outer * outer - inner * inner) * u);
      at::Tensor t = at::rand({n}, gen, opts) * (2 * M_PI);
      return at::stack({cx_ + r * at::cos(t), cy_ + r * at::sin(t)}, 1);
    }
    case Kind::kSquare: {
      at::Tensor u = (at::rand({n, 2}, gen, opts) - 0.5) * a_;
      return u + at::tensor({cx_, cy_}, opts).unsqueeze(0);
    }
    case Kind::kImage: {
      at::Tensor idx = at::multinomial(pixel_weights_, n, /*replacement=*/true, gen);
      at::Tensor row = at::floor_divide(idx, width_).to(at::kDouble);
      at::Tensor col = at::remainder(idx, width_).to(at::kDouble);
      at::Tensor jitter = at::rand({n, 2}, gen, opts);
      const double side = std::max(width_, height_);
      at::Tensor x = ((col + jitter.select(1, 0)) / side * 2 - width_ / side) * scale_;
      at::Tensor y = (height_ / side - (row + jitter.select(1, 1)) / side * 2) * scale_;
      return at::stack({x, y}, 1);
    }
  }
  throw InvalidArgument("unknown shape");
}

}  // namespace wbary::data
