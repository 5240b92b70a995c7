#include "wbary/maps/known_map_pair.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

#include "wbary/error.h"

namespace wbary::maps {
namespace {

constexpr int64_t kMomentSamples = 1 << 14;
constexpr double kComponentStd = 0.4;

const at::TensorOptions kDouble = at::TensorOptions().dtype(at::kDouble);

// Samples of P pushed through grad psi.
class PushforwardSampler : public data::Sampler {
 public:
  PushforwardSampler(std::shared_ptr<const data::Sampler> source, std::shared_ptr<const RidgePotential> psi)
      : source_(std::move(source)), psi_(std::move(psi)) {}
  int64_t dim() const override { return source_->dim(); }
  at::Tensor sample(int64_t n, at::Generator& gen) const override { return psi_->gradient(source_->sample(n, gen)); }
  at::Tensor batch(uint64_t seed, uint64_t stream, int64_t step, int64_t n) const override {
    return psi_->gradient(source_->batch(seed, stream, step, n));
  }
  std::string describe() const override { return "grad psi # " + source_->describe(); }

 private:
  std::shared_ptr<const data::Sampler> source_;
  std::shared_ptr<const RidgePotential> psi_;
};

}  // namespace

RidgePotential::RidgePotential(at::Tensor directions, at::Tensor offsets, at::Tensor scales, double tau,
                               double strong_convexity)
    : a_(directions.to(at::kDouble)),
      b_(offsets.to(at::kDouble)),
      c_(scales.to(at::kDouble)),
      tau_(tau),
      s_(strong_convexity),
      m_(at::zeros({directions.size(1)}, kDouble)) {
  if ((c_ < 0).any().item<bool>() || !(tau > 0) || s_ < 0) {
    throw InvalidArgument("RidgePotential: need c_k >= 0, tau > 0 and s >= 0 (else psi is not convex)");
  }
}

at::Tensor RidgePotential::value(const at::Tensor& x) const {
  const at::Tensor xd = x.to(at::kDouble);
  const at::Tensor u = (at::addmm(b_, xd, a_.t())) / tau_;  // [n, K]
  // log(1 + e^u) without at::softplus's linear cut-off above u = 20, which
  // would make the value disagree with the closed-form gradient sigmoid(u).
  const at::Tensor softplus = at::log1p(at::exp(-u.abs())) + u.clamp_min(0);
  const at::Tensor psi = tau_ * at::mv(softplus, c_) + 0.5 * s_ * (xd * xd).sum(1);
  return scale_ * (psi - at::mv(xd, m_));
}

at::Tensor RidgePotential::gradient(const at::Tensor& x) const {
  const at::Tensor xd = x.to(at::kDouble).contiguous();
  if (!xd.device().is_cpu()) {
    const at::Tensor u = (at::addmm(b_, xd, a_.t())) / tau_;
    const at::Tensor g = at::mm(at::sigmoid(u) * c_, a_) + s_ * xd;
    return scale_ * (g - m_);
  }
  // grad psi(x) = scale (sum_k c_k sigmoid(u_k) a_k + s x - m), u = (A x + b)/tau,
  // in row blocks with the sigmoid in one Eigen pass: it is the target
  // sampler of every W2-map benchmark step, where LibTorch's separate
  // addmm / div / sigmoid / mul / mm passes over the [n, K] block cost
  // ~1.2 ms of a ~10 ms step at d = 8 (perf).
  using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using RowArray = Eigen::Array<double, 1, Eigen::Dynamic>;
  const int64_t n = xd.size(0), d = dim(), K = a_.size(0);
  const Eigen::Map<const RowMatrix> X(xd.data_ptr<double>(), n, d), A(a_.data_ptr<double>(), K, d);
  const Eigen::Map<const RowArray> b(b_.data_ptr<double>(), K), c(c_.data_ptr<double>(), K);
  const Eigen::Map<const RowArray> m(m_.data_ptr<double>(), d);
  at::Tensor out = at::empty({n, d}, kDouble);
  Eigen::Map<RowMatrix> G(out.data_ptr<double>(), n, d);
  constexpr int64_t kRows = 128;  // a block of u stays in L2 (128 x K doubles)
  RowMatrix u(std::min(kRows, n), K);
  for (int64_t start = 0; start < n; start += kRows) {
    const int64_t r = std::min(kRows, n - start);
    auto U = u.topRows(r);
    U.noalias() = X.middleRows(start, r) * A.transpose();
    // Row by row on contiguous maps: the same expression over the block with
    // rowwise() broadcasts was not vectorised (7x slower).
    for (int64_t i = 0; i < r; ++i) {
      Eigen::Map<RowArray> ui(U.row(i).data(), K);
      ui = ((-(ui + b) / tau_).exp() + 1).inverse() * c;
    }
    auto Gr = G.middleRows(start, r);
    Gr.noalias() = U * A;
    for (int64_t i = 0; i < r; ++i) {
      Eigen::Map<RowArray> gi(Gr.row(i).data(), d);
      gi = scale_ * (gi + s_ * Eigen::Map<const RowArray>(X.row(start + i).data(), d) - m);
    }
  }
  return out;
}

void RidgePotential::standardize(const at::Tensor& m, double v) {
  m_ = m.to(at::kDouble);
  scale_ = 1.0 / std::sqrt(v);
}

BenchmarkMixtureSampler::BenchmarkMixtureSampler(int64_t dim, uint64_t seed, int64_t components) : seed_(seed) {
  if (dim < 1 || components < 1) throw InvalidArgument("benchmark mixture: dim and components must be >= 1");
  at::Generator gen = data::make_generator(data::derive_seed(seed, 0x4d6978, 0));
  // Per coordinate, a random permutation of {0..k-1}, shifted to be centred.
  at::Tensor centers = at::empty({components, dim}, kDouble);
  for (int64_t j = 0; j < dim; ++j) {
    centers.select(1, j).copy_(at::randperm(components, gen, kDouble) - 0.5 * static_cast<double>(components - 1));
  }
  at::Tensor maps = at::randn({components, dim, dim}, gen, kDouble);
  maps = maps / maps.norm(2, {2}, /*keepdim=*/true);  // unit rows
  // Total variance ~ d: divide by sqrt(mean |c|^2 + d std^2) / sqrt(d).
  const double mult = std::sqrt(((centers * centers).sum(1).mean().item<double>() +
                                 static_cast<double>(dim) * kComponentStd * kComponentStd) /
                                static_cast<double>(dim));
  centers_ = centers / mult;
  maps_ = maps / mult;
}

at::Tensor BenchmarkMixtureSampler::sample(int64_t n, at::Generator& gen) const {
  const int64_t k = centers_.size(0), d = dim();
  const at::Tensor idx = at::randint(k, {n}, gen, at::TensorOptions().dtype(at::kLong));
  const at::Tensor z = at::randn({n, d}, gen, kDouble);
  // One product per component over its rows (a batched product of n d x d
  // matrices ran n tiny GEMMs: most of a W2-map training step at d = 8).
  at::Tensor out = at::empty({n, d}, kDouble);
  for (int64_t c = 0; c < k; ++c) {
    const at::Tensor rows = (idx == c).nonzero().squeeze(1);
    if (rows.numel() == 0) continue;
    out.index_copy_(0, rows, at::addmm(centers_[c], z.index_select(0, rows), maps_[c].t(), 1.0, kComponentStd));
  }
  return out;
}

std::string BenchmarkMixtureSampler::describe() const {
  return "benchmark-mix3(dim=" + std::to_string(dim()) + ", seed=" + std::to_string(seed_) + ")";
}

KnownMapPair KnownMapPair::make(int64_t dim, uint64_t seed) {
  if (dim < 1) throw InvalidArgument("KnownMapPair: dim must be >= 1");
  KnownMapPair pair;
  auto source = std::make_shared<BenchmarkMixtureSampler>(dim, seed);
  at::Generator gen = data::make_generator(data::derive_seed(seed, 0x7073, 0));
  const int64_t K = 2 * std::max<int64_t>(2 * dim, 64);
  const at::Tensor a = at::randn({K, dim}, gen, kDouble) * (3.0 / std::sqrt(static_cast<double>(dim)));
  const at::Tensor b = at::randn({K}, gen, kDouble);
  const at::Tensor c = at::rand({K}, gen, kDouble);
  auto psi = std::make_shared<RidgePotential>(a, b, c, /*tau=*/0.1, /*strong_convexity=*/0.01);
  const at::Tensor x = source->sample(kMomentSamples, gen);
  const at::Tensor t = psi->gradient(x);
  // Mean of grad psi and its mean per-coordinate variance (Korotin's standardize_potential).
  psi->standardize(t.mean(0), t.var(0, /*unbiased=*/true).mean().item<double>());
  pair.psi_ = psi;
  pair.source_ = source;
  pair.target_ = std::make_shared<PushforwardSampler>(source, psi);
  const at::Tensor x2 = source->sample(kMomentSamples, gen);
  const at::Tensor y2 = psi->gradient(x2);
  pair.target_variance_ = metrics::total_variance(y2);
  pair.linear_ = metrics::fit_linear_map(x2, pair.target_->sample(kMomentSamples, gen));
  return pair;
}

}  // namespace wbary::maps
