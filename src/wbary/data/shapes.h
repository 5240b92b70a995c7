// File: wbary/data/shapes.h
//
// Uniform laws on 2-D shapes — disc, ring (annulus), square, and the dark
// region of an image mask — the inputs of the NWB paper's 2-D experiments
// (Fan et al. 2021, §4.1, Fig. 4).
//
// Example:
//   data::ShapeSampler ring = data::ShapeSampler::ring(/*inner=*/0.6, /*outer=*/1.0, 0, 0);
//   data::ShapeSampler mask = data::ShapeSampler::image("heart.png", /*scale=*/1.0);
#pragma once

#include <vector>

#include "wbary/data/sampler.h"

namespace wbary::data {

/// Uniform samples of a 2-D / 3-D shape (ring, square, disc, cross, box...) for the paper's §4.1.
class ShapeSampler : public Sampler {
 public:
  /// Uniform on the disc of this radius centred at (cx, cy).
  static ShapeSampler disc(double radius, double cx, double cy);
  /// Uniform on the annulus inner <= r <= outer centred at (cx, cy).
  static ShapeSampler ring(double inner, double outer, double cx, double cy);
  /// Uniform on the axis-aligned square of this side centred at (cx, cy).
  static ShapeSampler square(double side, double cx, double cy);
  /// Density proportional to the darkness (1 - grey value) of each pixel,
  /// uniform inside a pixel; the image's longer side maps to [-scale, scale].
  /// `invert` takes brightness instead of darkness.
  static ShapeSampler image(const std::string& path, double scale, bool invert = false);

  int64_t dim() const override { return 2; }
  at::Tensor sample(int64_t n, at::Generator& gen) const override;
  std::string describe() const override { return description_; }

 private:
  enum class Kind { kDisc, kRing, kSquare, kImage };
  ShapeSampler(Kind kind, std::string description) : kind_(kind), description_(std::move(description)) {}

  Kind kind_;
  std::string description_;
  double cx_ = 0, cy_ = 0, a_ = 0, b_ = 0;  ///< disc: a=r; ring: a=inner, b=outer; square: a=side
  /// image: pixel probabilities and geometry
  at::Tensor pixel_weights_;
  int width_ = 0, height_ = 0;
  double scale_ = 1;
};

}  // namespace wbary::data
