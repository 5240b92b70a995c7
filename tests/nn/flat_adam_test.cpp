#include <gtest/gtest.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
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

TEST(FlatAdam, AStridedGradientTakesTheAtenPathWithTheSameUpdates) {
  // A non-contiguous gradient (and any non-CPU tensor) goes through the ATen
  // operations instead of the one-pass loop: same updates as torch's Adam.
  at::manual_seed(9);
  const at::Tensor start = at::randn({33}, at::kDouble);
  at::Tensor flat = start.clone();
  torch::Tensor reference = start.clone().set_requires_grad(true);
  FlatAdam mine(flat, {.lr = 2e-3});
  torch::optim::Adam theirs({reference}, torch::optim::AdamOptions(2e-3));
  for (int step = 0; step < 10; ++step) {
    const at::Tensor g = at::randn({33, 2}, at::kDouble).select(1, 1);  // stride 2
    ASSERT_FALSE(g.is_contiguous());
    mine.step(g);
    reference.mutable_grad() = g.clone();
    theirs.step();
  }
  EXPECT_LT((flat - reference.detach()).abs().max().item<double>(), 1e-13);
  EXPECT_GT((flat - start).abs().max().item<double>(), 1e-3);
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

// ModuleAdam against torch::optim::Adam on a module's tensors (a generator's
// shapes), gradients filled by autograd as in training, with zero_grad in
// between and one tensor without a gradient for a while (both leave it).
void expect_module_adam_as_torch(at::ScalarType dtype, double tolerance) {
  at::manual_seed(11);
  const auto opts = at::TensorOptions().dtype(dtype);
  const std::vector<at::Tensor> start = {at::randn({10, 2}, opts), at::randn({10}, opts), at::full({1}, 0.25, opts),
                                         at::randn({2, 10}, opts), at::randn({3}, opts)};
  std::vector<torch::Tensor> mine, theirs;
  for (const auto& t : start) {
    mine.push_back(t.clone().set_requires_grad(true));
    theirs.push_back(t.clone().set_requires_grad(true));
  }
  const FlatAdamOptions options{.lr = 2e-3, .beta1 = 0.5, .beta2 = 0.9};
  ModuleAdam a(mine, options);
  torch::optim::Adam b(theirs, torch::optim::AdamOptions(options.lr).betas({options.beta1, options.beta2}));
  // A small network's loss; the last tensor only takes part from step 5 on.
  auto loss = [](const std::vector<torch::Tensor>& p, const at::Tensor& z, int step) {
    at::Tensor h = at::prelu(at::linear(z, p[0], p[1]), p[2]);
    at::Tensor out = at::linear(h, p[3]).square().sum();
    return step >= 5 ? out + (p[4] * p[4]).sum() : out;
  };
  for (int step = 0; step < 20; ++step) {
    const at::Tensor z = at::randn({16, 2}, opts);
    if (step == 10) {
      a.set_lr(5e-4);
      static_cast<torch::optim::AdamOptions&>(b.param_groups()[0].options()).lr(5e-4);
    }
    a.zero_grad();
    loss(mine, z, step).backward();
    a.step();
    b.zero_grad();
    loss(theirs, z, step).backward();
    b.step();
  }
  EXPECT_EQ(a.steps(), 20);
  for (size_t k = 0; k < start.size(); ++k) {
    const double scale = theirs[k].detach().abs().max().item<double>();
    EXPECT_LT((mine[k] - theirs[k]).detach().abs().max().item<double>(), tolerance * scale) << "tensor " << k;
  }
}

TEST(ModuleAdam, SameUpdatesAsTorchAdam) {
  // float64: rounding only (1e-13); float32: ~20 steps of ~1e-7 relative rounding through a network (1e-5).
  expect_module_adam_as_torch(at::kDouble, 1e-13);
  expect_module_adam_as_torch(at::kFloat, 1e-5);
}

TEST(ModuleAdam, DecoupledWeightDecayIsTorchAdamW) {
  // weight_decay > 0 is AdamW (W2 maps' optimiser): against torch::optim::AdamW
  // with Amos's betas, 20 steps, a learning-rate change; the raw CPU pass and
  // the ATen fallback (a strided gradient) both. float64: rounding only.
  for (const bool strided : {false, true}) {
    at::manual_seed(5);
    const auto opts = at::TensorOptions().dtype(at::kDouble);
    const std::vector<at::Tensor> start = {at::randn({6, 3}, opts), at::randn({6}, opts)};
    std::vector<torch::Tensor> mine, theirs;
    for (const auto& t : start) {
      mine.push_back(t.clone());
      theirs.push_back(t.clone().set_requires_grad(true));
    }
    FlatAdamOptions options{.lr = 5e-3, .beta1 = 0.5, .beta2 = 0.5};
    options.weight_decay = 0.1;  // large, so that a missing or misplaced decay shows
    ModuleAdam a(mine, options);
    torch::optim::AdamW b(theirs, torch::optim::AdamWOptions(options.lr)
                                      .betas({options.beta1, options.beta2})
                                      .weight_decay(options.weight_decay));
    for (int step = 0; step < 20; ++step) {
      if (step == 10) {
        a.set_lr(1e-3);
        static_cast<torch::optim::AdamWOptions&>(b.param_groups()[0].options()).lr(1e-3);
      }
      for (size_t k = 0; k < start.size(); ++k) {
        const at::Tensor g = at::randn(start[k].sizes(), opts);
        mine[k].mutable_grad() = strided ? at::randn({start[k].numel() * 2}, opts).slice(0, 0, at::nullopt, 2).view_as(g).copy_(g)
                                         : g.clone();
        theirs[k].mutable_grad() = g.clone();
      }
      a.step();
      b.step();
    }
    for (size_t k = 0; k < start.size(); ++k) {
      const double scale = theirs[k].detach().abs().max().item<double>();
      EXPECT_LT((mine[k] - theirs[k].detach()).abs().max().item<double>(), 1e-13 * scale)
          << "tensor " << k << (strided ? " (ATen path)" : "");
    }
  }
}

TEST(ModuleAdam, ZeroGradClearsAndCheckpointsAsFlatAdam) {
  at::manual_seed(5);
  std::vector<torch::Tensor> p = {at::randn({4, 3}, at::kDouble).set_requires_grad(true),
                                  at::randn({3}, at::kDouble).set_requires_grad(true)};
  ModuleAdam a(p, {});
  (p[0].sum() * 2 + p[1].square().sum()).backward();
  a.step();
  a.zero_grad();
  EXPECT_EQ(p[0].grad().abs().max().item<double>(), 0.0);
  EXPECT_EQ(p[1].grad().abs().max().item<double>(), 0.0);
  // What an optimiser saves, read back as a checkpoint would be.
  auto round_trip = [](const auto& optimizer) {
    torch::serialize::OutputArchive out;
    optimizer.save(out);
    std::ostringstream bytes;
    out.save_to(bytes);
    auto in = std::make_unique<torch::serialize::InputArchive>();
    std::istringstream read(bytes.str());
    in->load_from(read);
    return in;
  };
  ModuleAdam b(p, {});
  b.load(*round_trip(a));
  EXPECT_EQ(b.steps(), 1);
  // Another optimiser's state (torch's Adam, as older checkpoints hold) is refused by name.
  const torch::optim::Adam torch_adam(p, torch::optim::AdamOptions(1e-3));
  try {
    b.load(*round_trip(torch_adam));
    ADD_FAILURE() << "torch::optim::Adam's state was accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("torch::optim::Adam"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ModuleAdam({}, {}), InvalidArgument);
}

TEST(FlatAdam, RefusesWhatItCannotUpdate) {
  EXPECT_THROW(FlatAdam(at::zeros({3, 3}, at::kDouble), {}), InvalidArgument);
  EXPECT_THROW(FlatAdam(at::zeros({3}, at::kDouble), {.lr = 0}), InvalidArgument);
}

}  // namespace
}  // namespace wbary::nn
