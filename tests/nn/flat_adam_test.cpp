#include <gtest/gtest.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include "support/test_support.h"
#include "wbary/error.h"
#include "wbary/nn/flat_adam.h"

namespace wbary::nn {
namespace {

// FlatAdam against LibTorch's own Adam on the same parameters and gradients:
// 25 steps with a learning-rate change half-way. Only rounding may differ
// (the compiler may fuse a multiply-add that ATen rounds twice): float64
// agrees to ~1e-15 relative, float32 to ~1e-6.
void expect_same_as_torch_adam(at::ScalarType dtype, int64_t n, double tolerance) {
  at::manual_seed(7);
  const at::Tensor start = at::randn({n}, at::TensorOptions().dtype(dtype));
  at::Tensor flat = start.clone();
  torch::Tensor reference = start.clone().set_requires_grad(true);
  const FlatAdamOptions options{.lr = 3e-3, .beta1 = 0.8, .beta2 = 0.95, .eps = 1e-7};
  FlatAdam mine(flat, options);
  torch::optim::Adam theirs({reference},
                            torch::optim::AdamOptions(options.lr).betas({options.beta1, options.beta2}).eps(options.eps));
  for (int step = 0; step < 25; ++step) {
    if (step == 12) {
      mine.set_lr(1e-3);
      static_cast<torch::optim::AdamOptions&>(theirs.param_groups()[0].options()).lr(1e-3);
    }
    const at::Tensor g = at::randn({n}, at::TensorOptions().dtype(dtype)) * (step + 1);
    mine.step(g);
    reference.mutable_grad() = g.clone();
    theirs.step();
  }
  EXPECT_EQ(mine.steps(), 25);
  const double scale = reference.detach().abs().max().item<double>();
  EXPECT_LT((flat - reference.detach()).abs().max().item<double>(), tolerance * scale) << n;
  EXPECT_GT((flat - start).abs().max().item<double>(), 1e-3);  // it moved
}

TEST(FlatAdam, SameUpdatesAsTorchAdamInFloat64) {
  expect_same_as_torch_adam(at::kDouble, 257, 1e-13);
  expect_same_as_torch_adam(at::kDouble, 200000, 1e-13);  // split over threads
}

TEST(FlatAdam, SameUpdatesAsTorchAdamInFloat32) {
  // Sizes around the vector widths (4, 8, 16 floats) and the d = 2 networks' ~60 parameters.
  for (int64_t n : {1, 3, 7, 8, 15, 16, 17, 33, 60, 64, 200, 257}) expect_same_as_torch_adam(at::kFloat, n, 1e-5);
}

TEST(FlatAdam, CheckpointResumesTheSameTrajectory) {
  at::manual_seed(3);
  const at::Tensor start = at::randn({64}, at::kDouble);
  std::vector<at::Tensor> grads;
  for (int k = 0; k < 10; ++k) grads.push_back(at::randn({64}, at::kDouble));
  at::Tensor straight = start.clone();
  FlatAdam a(straight, {});
  for (const auto& g : grads) a.step(g);

  at::Tensor resumed = start.clone();
  FlatAdam b(resumed, {});
  for (int k = 0; k < 5; ++k) b.step(grads[k]);
  torch::serialize::OutputArchive out;
  b.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  at::Tensor copy = resumed.clone();
  FlatAdam c(copy, {});
  torch::serialize::InputArchive in;
  std::istringstream read(bytes.str());
  in.load_from(read);
  c.load(in);
  for (int k = 5; k < 10; ++k) c.step(grads[k]);
  EXPECT_EQ(c.steps(), 10);
  EXPECT_TRUE(at::equal(copy, straight));
}

TEST(FlatAdam, RefusesWhatItCannotUpdate) {
  EXPECT_THROW(FlatAdam(at::zeros({3, 3}, at::kDouble), {}), InvalidArgument);
  EXPECT_THROW(FlatAdam(at::zeros({3}, at::kDouble), {.lr = 0}), InvalidArgument);
}

}  // namespace
}  // namespace wbary::nn
