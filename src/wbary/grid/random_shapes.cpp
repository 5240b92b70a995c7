#include "wbary/grid/random_shapes.h"

#include <cmath>

#include "wbary/data/sampler.h"
#include "wbary/error.h"

namespace wbary::grid {
namespace {

const at::TensorOptions kF64 = at::TensorOptions().dtype(at::kDouble);

struct Rng {
  at::Generator gen;
  double uniform(double lo, double hi) { return at::empty({1}, kF64).uniform_(lo, hi, gen).item<double>(); }
  int64_t integer(int64_t n) { return at::randint(n, {1}, gen, at::TensorOptions().dtype(at::kLong)).item<int64_t>(); }
};

// One primitive as a boolean mask on pixel-centre coordinates in [0, 1]^2.
at::Tensor primitive(Rng& r, const at::Tensor& X, const at::Tensor& Y) {
  const double cx = r.uniform(0.25, 0.75), cy = r.uniform(0.25, 0.75), angle = r.uniform(0, M_PI);
  const double c = std::cos(angle), s = std::sin(angle);
  const at::Tensor u = (X - cx) * c + (Y - cy) * s, v = -(X - cx) * s + (Y - cy) * c;  // rotated frame
  switch (r.integer(4)) {
    case 0: {  // rectangle
      const double a = r.uniform(0.08, 0.3), b = r.uniform(0.08, 0.3);
      return (u.abs() <= a).logical_and(v.abs() <= b);
    }
    case 1: {  // ellipse
      const double a = r.uniform(0.08, 0.3), b = r.uniform(0.08, 0.3);
      return (u / a).pow(2) + (v / b).pow(2) <= 1;
    }
    case 2: {  // triangle: intersection of three half-planes through random vertices
      double px[3], py[3];
      for (int k = 0; k < 3; ++k) {
        const double t = angle + 2 * M_PI * k / 3 + r.uniform(-0.5, 0.5), rad = r.uniform(0.12, 0.35);
        px[k] = cx + rad * std::cos(t);
        py[k] = cy + rad * std::sin(t);
      }
      at::Tensor inside = at::ones_like(X, at::kBool);
      const double orient = (px[1] - px[0]) * (py[2] - py[0]) - (py[1] - py[0]) * (px[2] - px[0]);
      for (int k = 0; k < 3; ++k) {
        const int j = (k + 1) % 3;
        const at::Tensor cross = (px[j] - px[k]) * (Y - py[k]) - (py[j] - py[k]) * (X - px[k]);
        inside = inside.logical_and(orient >= 0 ? cross >= 0 : cross <= 0);
      }
      return inside;
    }
    default: {  // thick line segment
      const double half = r.uniform(0.15, 0.4), width = r.uniform(0.02, 0.06);
      return (u.abs() <= half).logical_and(v.abs() <= width);
    }
  }
}

// Boundary of a mask: the pixels not in its erosion by a (2t+1)^2 square.
at::Tensor contour(const at::Tensor& mask, int64_t thickness) {
  const at::Tensor m = mask.to(at::kDouble).unsqueeze(0).unsqueeze(0);
  const at::Tensor eroded = -at::max_pool2d(-m, {2 * thickness + 1, 2 * thickness + 1}, {1, 1},
                                            {thickness, thickness});
  return mask.logical_and(eroded.squeeze(0).squeeze(0) < 0.5);
}

}  // namespace

at::Tensor random_shape(int64_t n, uint64_t seed, uint64_t index) {
  if (n < 8) throw InvalidArgument("random_shape: grid size " + std::to_string(n) + " is too small (>= 8)");
  const at::Tensor t = (at::arange(n, kF64) + 0.5) / static_cast<double>(n);
  const at::Tensor Y = t.view({n, 1}).expand({n, n}), X = t.view({1, n}).expand({n, n});
  for (uint64_t attempt = 0;; ++attempt) {
    Rng r{data::make_generator(data::derive_seed(seed, index, attempt))};
    at::Tensor shape = primitive(r, X, Y);
    const int64_t extra = r.integer(3);  // 0..2 more primitives
    for (int64_t j = 0; j < extra; ++j) {
      const at::Tensor p = primitive(r, X, Y);
      switch (r.integer(4)) {
        case 0: shape = shape.logical_or(p); break;
        case 1: shape = shape.logical_and(p); break;
        case 2: shape = shape.logical_xor(p); break;
        default: shape = shape.logical_and(p.logical_not()); break;
      }
    }
    if (r.integer(2) == 0) shape = contour(shape, std::max<int64_t>(1, n / 64));
    const double area = shape.to(at::kDouble).mean().item<double>();
    if (area >= 0.01 || attempt >= 100) {  // at least 1 % of the grid, else draw again
      at::Tensor img = shape.to(at::kDouble);
      if (area == 0) img.fill_(1.0);
      return img / img.sum();
    }
  }
}

}  // namespace wbary::grid
