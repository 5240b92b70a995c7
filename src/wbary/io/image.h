// File: wbary/io/image.h
//
// PNG/JPEG/BMP images in and PNG/JPEG images out, through stb_image
// (Debian's libstb). Greyscale images are what grid methods and image-mask
// samplers consume; RGB images are what plots produce and what colour
// transfer reads and writes.
//
// Example:
//   io::GreyImage mask = io::read_grey_image("shape.png");   // values in [0, 1]
//   io::write_png("plot.png", rgb);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wbary::io {

/// Row-major greyscale image, values in [0, 1] (0 = black).
struct GreyImage {
  int width = 0;   ///< pixels
  int height = 0;  ///< pixels
  std::vector<float> pixels;  ///< row-major, width x height
  /// The pixel at (row, col).
  float at(int row, int col) const { return pixels[static_cast<size_t>(row) * width + col]; }
};

/// Row-major 8-bit RGB image.
struct RgbImage {
  int width = 0;   ///< pixels
  int height = 0;  ///< pixels
  std::vector<uint8_t> pixels;  ///< 3 bytes a pixel
  /// A w x h image filled with one grey level.
  RgbImage(int w, int h, uint8_t fill = 255)
      : width(w), height(h), pixels(static_cast<size_t>(w) * h * 3, fill) {}
};

/// Reads any image stb understands and converts it to greyscale. Throws
/// IoError naming the file if it is missing or not an image.
GreyImage read_grey_image(const std::string& path);

/// Reads any image stb understands as 8-bit RGB (greyscale is replicated,
/// alpha dropped). Throws IoError naming the file if it is missing or not an
/// image.
RgbImage read_rgb_image(const std::string& path);

/// Writes a PNG atomically.
void write_png(const std::string& path, const RgbImage& image);
void write_png(const std::string& path, const GreyImage& image);

/// Writes a PNG or a JPEG (quality 95) by the extension of `path` (.png,
/// .jpg, .jpeg), atomically. Throws InvalidArgument on another extension.
void write_image(const std::string& path, const RgbImage& image);

}  // namespace wbary::io
