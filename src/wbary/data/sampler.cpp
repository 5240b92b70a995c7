#include "wbary/data/sampler.h"

#include <ATen/CPUGeneratorImpl.h>

namespace wbary::data {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t counter) {
  return splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ counter);
}

at::Generator make_generator(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

at::Tensor Sampler::batch(uint64_t seed, uint64_t stream, int64_t step, int64_t n) const {
  at::Generator gen = make_generator(derive_seed(seed, stream, static_cast<uint64_t>(step)));
  return sample(n, gen);
}

}  // namespace wbary::data
