#include "wbary/maps/lbfgs_two_loop.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

namespace wbary::maps {

at::Tensor lbfgs_two_loop_tensor(const at::Tensor& g, const at::Tensor& S, const at::Tensor& Y,
                                 const at::Tensor& rho, const at::Tensor& idx, int64_t iteration, int64_t history) {
  const int64_t A = g.size(0), m = history;
  const at::Tensor Sa = S.index_select(1, idx), Ya = Y.index_select(1, idx), ra = rho.index_select(1, idx);
  // Newest pair first.
  const int64_t stored = std::min(iteration, m);
  at::Tensor q = g.clone();
  std::vector<at::Tensor> alpha(stored);
  for (int64_t j = 0; j < stored; ++j) {
    const int64_t slot = (iteration - 1 - j) % m;
    alpha[j] = ra[slot] * (Sa[slot] * q).sum(1);
    q -= alpha[j].unsqueeze(1) * Ya[slot];
  }
  at::Tensor gamma = at::ones({A}, g.options());
  if (stored > 0) {
    const int64_t newest = (iteration - 1) % m;
    const at::Tensor yy = (Ya[newest] * Ya[newest]).sum(1);
    const at::Tensor sy = (Sa[newest] * Ya[newest]).sum(1);
    gamma = at::where(ra[newest] > 0, sy / yy.clamp_min(1e-300), gamma);
  }
  at::Tensor r = gamma.unsqueeze(1) * q;
  for (int64_t j = stored - 1; j >= 0; --j) {
    const int64_t slot = (iteration - 1 - j) % m;
    const at::Tensor beta = ra[slot] * (Ya[slot] * r).sum(1);
    r += (alpha[j] - beta).unsqueeze(1) * Sa[slot];
  }
  return r;
}

at::Tensor lbfgs_two_loop(const at::Tensor& g, const at::Tensor& S, const at::Tensor& Y, const at::Tensor& rho,
                          const at::Tensor& idx, int64_t iteration, int64_t history) {
  const bool raw = g.device().is_cpu() && g.is_contiguous() && S.is_contiguous() && Y.is_contiguous() &&
                   rho.is_contiguous() && idx.is_contiguous() && idx.scalar_type() == at::kLong &&
                   (g.scalar_type() == at::kFloat || g.scalar_type() == at::kDouble) &&
                   S.scalar_type() == g.scalar_type() && Y.scalar_type() == g.scalar_type() &&
                   rho.scalar_type() == g.scalar_type();
  if (!raw) return lbfgs_two_loop_tensor(g, S, Y, rho, idx, iteration, history);
  const int64_t A = g.size(0), d = g.size(1), B = S.size(1), m = history;
  const int64_t stored = std::min(iteration, m);
  at::Tensor r = at::empty_like(g);
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "lbfgs_two_loop", [&] {
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const scalar_t* sp = S.data_ptr<scalar_t>();
    const scalar_t* yp = Y.data_ptr<scalar_t>();
    const scalar_t* rp = rho.data_ptr<scalar_t>();
    const int64_t* ip = idx.data_ptr<int64_t>();
    scalar_t* out = r.data_ptr<scalar_t>();
    auto dot = [d](const scalar_t* a, const scalar_t* b) {
      scalar_t acc = 0;
      for (int64_t k = 0; k < d; ++k) acc += a[k] * b[k];
      return acc;
    };
    at::parallel_for(0, A, 64, [&](int64_t begin, int64_t end) {
      std::vector<scalar_t> alpha(static_cast<size_t>(stored));
      for (int64_t a = begin; a < end; ++a) {
        const int64_t b = ip[a];
        scalar_t* q = out + a * d;  // q, then r, in place
        std::copy(gp + a * d, gp + (a + 1) * d, q);
        for (int64_t j = 0; j < stored; ++j) {
          const int64_t slot = (iteration - 1 - j) % m;
          const scalar_t* s = sp + (slot * B + b) * d;
          const scalar_t* y = yp + (slot * B + b) * d;
          alpha[j] = rp[slot * B + b] * dot(s, q);
          for (int64_t k = 0; k < d; ++k) q[k] -= alpha[j] * y[k];
        }
        scalar_t gamma = 1;
        if (stored > 0) {
          const int64_t newest = (iteration - 1) % m;
          const scalar_t* s = sp + (newest * B + b) * d;
          const scalar_t* y = yp + (newest * B + b) * d;
          if (rp[newest * B + b] > 0) gamma = dot(s, y) / std::max<scalar_t>(dot(y, y), scalar_t(1e-300));
        }
        for (int64_t k = 0; k < d; ++k) q[k] *= gamma;
        for (int64_t j = stored - 1; j >= 0; --j) {
          const int64_t slot = (iteration - 1 - j) % m;
          const scalar_t* s = sp + (slot * B + b) * d;
          const scalar_t* y = yp + (slot * B + b) * d;
          const scalar_t beta = rp[slot * B + b] * dot(y, q);
          for (int64_t k = 0; k < d; ++k) q[k] += (alpha[j] - beta) * s[k];
        }
      }
    });
  });
  return r;
}

}  // namespace wbary::maps
