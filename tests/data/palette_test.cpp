// An image's palette and recolouring (data/palette.h), and the RGB image I/O
// it rests on (io/image.h).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "support/test_support.h"
#include "wbary/data/palette.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"
#include "wbary/io/image.h"

namespace wbary::data {
namespace {

using wbary::testing::TempDir;

// A w x h image with colours from a fixed pseudo-random sequence over a
// small set of levels, so that colours repeat (as in photos) and the
// distinct-colour path is exercised.
io::RgbImage test_image(int w, int h, int levels) {
  io::RgbImage img(w, h);
  uint32_t state = 12345;
  for (auto& p : img.pixels) {
    state = state * 1664525u + 1013904223u;
    p = static_cast<uint8_t>((state >> 24) % levels * (255 / (levels - 1)));
  }
  return img;
}

TEST(Palette, ColoursAreThePixelsOver255InRasterOrder) {
  const io::RgbImage img = test_image(5, 3, 7);
  const at::Tensor c = colours_of(img);
  ASSERT_EQ(c.sizes(), (at::IntArrayRef{15, 3}));
  ASSERT_EQ(c.scalar_type(), at::kDouble);
  for (int64_t k = 0; k < 45; ++k) EXPECT_EQ(c.view(-1)[k].item<double>(), img.pixels[k] / 255.0);
}

TEST(Palette, ImageOfClampsRoundsAndRejectsBadInput) {
  const at::Tensor c = at::tensor({-0.5, 0.5, 1.7, 0.2, 1.0 / 255 * 7.4, 0.0}, at::kDouble).view({2, 3});
  const io::RgbImage img = image_of(c, 2, 1);
  EXPECT_EQ(std::vector<int>(img.pixels.begin(), img.pixels.end()), (std::vector<int>{0, 128, 255, 51, 7, 0}));
  EXPECT_THROW(image_of(c, 3, 1), InvalidArgument);  // 2 colours for 3 pixels
  at::Tensor bad = c.clone();
  bad[1][2] = std::numeric_limits<double>::quiet_NaN();
  try {
    image_of(bad, 2, 1);
    FAIL() << "a NaN colour was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("pixel 1"), std::string::npos) << e.what();
  }
}

// The distinct-colour shortcut must give exactly the pixel-by-pixel answer,
// whatever the block size (1, 7: blocks that split the colour list; 1 << 16:
// one block).
TEST(Palette, RecolourEqualsMappingEveryPixel) {
  const io::RgbImage img = test_image(23, 17, 5);
  const auto map = [](const at::Tensor& c) {
    // A non-trivial map that leaves the cube in places (clamping is tested too).
    return at::stack({c.select(1, 1) * 1.3 - 0.1, c.select(1, 2).pow(2), 1.0 - c.select(1, 0)}, 1);
  };
  const io::RgbImage direct = image_of(map(colours_of(img)), img.width, img.height);
  int calls = 0;
  for (const int64_t block : {int64_t{1}, int64_t{7}, int64_t{1} << 16}) {
    const io::RgbImage out = recolour(img, [&](const at::Tensor& c) { ++calls; return map(c); }, block);
    EXPECT_EQ(out.pixels, direct.pixels) << "block " << block;
  }
  // 5 levels per channel: at most 125 distinct colours among 391 pixels, so
  // the block-1 run maps each distinct colour once, not each pixel.
  EXPECT_LE(calls, 125 + 125 / 7 + 1 + 1);
  EXPECT_THROW(recolour(img, map, 0), InvalidArgument);
  EXPECT_THROW(recolour(img, [](const at::Tensor& c) { return c.narrow(1, 0, 2); }), InvalidArgument);
}

TEST(Palette, RgbImagesRoundTripThroughPngAndJpeg) {
  TempDir dir;
  const io::RgbImage img = test_image(16, 9, 4);
  io::write_image(dir.file("a.png"), img);
  const io::RgbImage png = io::read_rgb_image(dir.file("a.png"));
  EXPECT_EQ(png.width, 16);
  EXPECT_EQ(png.height, 9);
  EXPECT_EQ(png.pixels, img.pixels);  // PNG is lossless
  // A flat JPEG decodes to within a few levels of its colour (quality 95).
  io::RgbImage flat(16, 16);
  for (size_t k = 0; k < flat.pixels.size(); k += 3) flat.pixels[k] = 200, flat.pixels[k + 1] = 40, flat.pixels[k + 2] = 90;
  io::write_image(dir.file("b.JPG"), flat);
  const io::RgbImage jpg = io::read_rgb_image(dir.file("b.JPG"));
  for (size_t k = 0; k < jpg.pixels.size(); ++k) EXPECT_NEAR(jpg.pixels[k], flat.pixels[k], 4);
  EXPECT_THROW(io::write_image(dir.file("c.tiff"), img), InvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.file("c.tiff")));
  try {
    io::read_rgb_image(dir.file("missing.jpg"));
    FAIL() << "a missing file was read";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.jpg"), std::string::npos) << e.what();
  }
}

TEST(Palette, SpecIsTheEmpiricalMeasureOfThePixels) {
  TempDir dir;
  const io::RgbImage img = test_image(8, 4, 3);
  io::write_image(dir.file("p.png"), img);
  const auto sampler = make_sampler("palette:path=" + dir.file("p.png"));
  EXPECT_EQ(sampler->dim(), 3);
  at::Generator gen = make_generator(7);
  const at::Tensor x = sampler->sample(400, gen);
  // Every draw is one of the pixels' colours (levels 0, 127, 254 over 255).
  const at::Tensor levels = (x * 255.0 / 127.0);
  EXPECT_TRUE(at::allclose(levels, levels.round(), 0, 1e-12));
  EXPECT_THROW(make_sampler("palette:file=x.png"), InvalidArgument);
  EXPECT_THROW(make_sampler("palette:path=" + dir.file("none.png")), IoError);
}

}  // namespace
}  // namespace wbary::data
