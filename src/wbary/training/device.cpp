#include "wbary/training/device.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <thread>

#include "wbary/error.h"

namespace wbary::training {

void validate_device(const std::string& device) {
  if (device == "cpu") return;
  const bool cuda = device == "cuda" ||
                    (device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
                     device.find_first_not_of("0123456789", 5) == std::string::npos);
  if (!cuda) throw InvalidArgument("--device: got '" + device + "', expected cpu, cuda or cuda:N");
  if (!at::hasCUDA()) {
    throw InvalidArgument("--device " + device +
                          ": no CUDA device available (this LibTorch has no CUDA support or no GPU is visible)");
  }
}

at::Device parse_device(const std::string& device) {
  validate_device(device);
  return at::Device(device);
}

int available_cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

void set_threads(int threads, const std::string& flag) {
  if (threads < 0) throw InvalidArgument(flag + ": got " + std::to_string(threads) + ", expected >= 0");
  at::set_num_threads(threads == 0 ? available_cores() : threads);
}

}  // namespace wbary::training
