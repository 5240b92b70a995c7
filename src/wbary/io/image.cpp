#include "wbary/io/image.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <memory>

#include "wbary/error.h"
#include "wbary/io/atomic_file.h"

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_NO_GIF
#define STBI_NO_HDR
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

namespace wbary::io {
namespace {

// stbi_load with `channels` channels a pixel, or IoError naming the file.
std::unique_ptr<unsigned char, void (*)(void*)> load_pixels(const std::string& path, int channels, int& w, int& h) {
  int file_channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &w, &h, &file_channels, channels);
  if (data == nullptr) {
    throw IoError(path + ": cannot read image (" + stbi_failure_reason() + "), expected a PNG, JPEG or BMP file");
  }
  return {data, stbi_image_free};
}

}  // namespace

GreyImage read_grey_image(const std::string& path) {
  int w = 0, h = 0;
  const auto data = load_pixels(path, 1, w, h);
  GreyImage img;
  img.width = w;
  img.height = h;
  img.pixels.resize(static_cast<size_t>(w) * h);
  for (size_t k = 0; k < img.pixels.size(); ++k) img.pixels[k] = data.get()[k] / 255.0f;
  return img;
}

RgbImage read_rgb_image(const std::string& path) {
  int w = 0, h = 0;
  const auto data = load_pixels(path, 3, w, h);
  RgbImage img(w, h);
  std::copy(data.get(), data.get() + img.pixels.size(), img.pixels.begin());
  return img;
}

void write_image(const std::string& path, const RgbImage& image) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") {
    write_png(path, image);
    return;
  }
  if (ext != ".jpg" && ext != ".jpeg") {
    throw InvalidArgument(path + ": cannot write an image with extension '" + ext + "', expected .png, .jpg or .jpeg");
  }
  write_atomically(path, [&](const std::string& tmp) {
    if (!stbi_write_jpg(tmp.c_str(), image.width, image.height, 3, image.pixels.data(), 95)) {
      throw IoError(path + ": JPEG write failed");
    }
  });
}

void write_png(const std::string& path, const RgbImage& image) {
  write_atomically(path, [&](const std::string& tmp) {
    if (!stbi_write_png(tmp.c_str(), image.width, image.height, 3, image.pixels.data(),
                        image.width * 3)) {
      throw IoError(path + ": PNG write failed");
    }
  });
}

void write_png(const std::string& path, const GreyImage& image) {
  std::vector<uint8_t> bytes(image.pixels.size());
  for (size_t k = 0; k < bytes.size(); ++k) {
    bytes[k] = static_cast<uint8_t>(std::lround(std::clamp(image.pixels[k], 0.0f, 1.0f) * 255));
  }
  write_atomically(path, [&](const std::string& tmp) {
    if (!stbi_write_png(tmp.c_str(), image.width, image.height, 1, bytes.data(), image.width)) {
      throw IoError(path + ": PNG write failed");
    }
  });
}

}  // namespace wbary::io
