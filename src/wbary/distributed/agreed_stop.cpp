#include "wbary/distributed/agreed_stop.h"

namespace wbary::distributed {

AgreedStop::AgreedStop(ProcessGroup& group, std::vector<training::TrainingCallback*> limits,
                       std::vector<training::TrainingCallback*> interrupts)
    : group_(group), limits_(std::move(limits)), interrupts_(std::move(interrupts)) {}

bool AgreedStop::on_step(const training::StepInfo& info) {
  float flags[2] = {0, 0};
  for (auto* cb : limits_) flags[0] = cb->on_step(info) ? 1.f : flags[0];
  for (auto* cb : interrupts_) flags[1] = cb->on_step(info) ? 1.f : flags[1];
  at::Tensor t = at::tensor({flags[0], flags[1]}, at::kFloat);
  group_.all_reduce_max(t);
  interrupted_ = interrupted_ || t[1].item<float>() > 0;
  return t[0].item<float>() > 0 || t[1].item<float>() > 0;
}

}  // namespace wbary::distributed
