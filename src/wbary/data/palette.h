// File: wbary/data/palette.h
//
// An image's palette: the colours of its pixels as an empirical measure on
// the RGB cube [0, 1]^3, one atom per pixel (Fan et al. 2021, §4.4: the
// barycenter of several photos' palettes, then each photo recoloured by the
// map of its palette onto the barycenter). The spec `palette:path=photo.jpg`
// makes such a marginal; `recolour` applies a map of the cube to every pixel.
//
// Example:
//   io::RgbImage photo = io::read_rgb_image("autumn.jpg");
//   at::Tensor colours = data::colours_of(photo);                 // [h*w, 3], in [0, 1]
//   io::RgbImage out = data::recolour(photo, [&](const at::Tensor& c) { return model.push(0, c); });
#pragma once

#include <functional>

#include <ATen/ATen.h>

#include "wbary/io/image.h"

namespace wbary::data {

/// The pixels' colours, row-major, as a float64 tensor [width * height, 3]
/// with values c / 255.
at::Tensor colours_of(const io::RgbImage& image);

/// The image whose pixels are `colours` ([width * height, 3], row-major),
/// clamped to [0, 1] and rounded to 8 bits. Throws InvalidArgument on a
/// wrong shape or a non-finite colour (naming the pixel).
io::RgbImage image_of(const at::Tensor& colours, int width, int height);

/// The image with every pixel's colour c replaced by map(c), clamped to the
/// cube. Each distinct colour is mapped once (a photo has 10-30x fewer than
/// pixels). `map` takes and returns [n, 3] float64 tensors and is called on
/// consecutive blocks of at most `block` colours (bounding the memory a
/// network's activations take).
io::RgbImage recolour(const io::RgbImage& image, const std::function<at::Tensor(const at::Tensor&)>& map,
                      int64_t block = 1 << 16);

}  // namespace wbary::data
