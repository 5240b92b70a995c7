#include "wbary/training/training.h"

#include <ATen/Dispatch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include "wbary/error.h"

namespace wbary::training {
namespace {

std::atomic<bool> g_cancel_requested{false};

extern "C" void on_cancel_signal(int) { g_cancel_requested.store(true); }

}  // namespace

double StepInfo::loss(const std::string& name) const {
  for (const auto& [n, v] : losses) {
    if (n == name) return v;
  }
  throw std::out_of_range("StepInfo: no loss called " + name);
}

void require_finite_losses(const StepInfo& info, const std::string& what, const std::string& advice) {
  for (const auto& [name, value] : info.losses) {
    if (!std::isfinite(value)) {
      std::ostringstream msg;
      msg << what << " diverged at step " << info.step << ": " << name << " is " << value
          << " (expected a finite value); " << advice;
      throw DivergenceError(msg.str());
    }
  }
}

std::string format_duration(double seconds) {
  char buf[32];
  if (seconds >= 3600) {
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(seconds / 3600),
                  static_cast<int>(seconds / 60) % 60);
  } else if (seconds >= 60) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(seconds / 60), static_cast<int>(seconds) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  }
  return buf;
}

TrainingSummary run_training_loop(const std::function<StepInfo()>& step, const int64_t& steps_done,
                                  int64_t total_steps, int64_t log_every, double& elapsed_before,
                                  nlohmann::json& history, const std::vector<TrainingCallback*>& callbacks) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const int64_t start_step = steps_done;
  TrainingSummary summary;
  while (steps_done < total_steps) {
    StepInfo info = step();
    const double run_seconds = std::chrono::duration<double>(clock::now() - start).count();
    info.elapsed_seconds = elapsed_before + run_seconds;
    info.steps_per_second = static_cast<double>(steps_done - start_step) / std::max(run_seconds, 1e-9);
    info.seconds_left = static_cast<double>(total_steps - steps_done) / std::max(info.steps_per_second, 1e-9);
    if (log_every > 0 && (steps_done % log_every == 0 || steps_done == total_steps)) {
      nlohmann::json record = {{"step", info.step}};
      for (const auto& [name, value] : info.losses) record[name] = value;
      record["elapsed_seconds"] = info.elapsed_seconds;
      history.push_back(std::move(record));
    }
    summary.last = info;
    bool stop = false;
    for (TrainingCallback* cb : callbacks) stop = cb->on_step(summary.last) || stop;
    if (stop) break;
  }
  elapsed_before += std::chrono::duration<double>(clock::now() - start).count();
  summary.steps = steps_done;
  summary.finished = steps_done >= total_steps;
  summary.elapsed_seconds = elapsed_before;
  return summary;
}

namespace {

// Seconds this process has trained (a resumed run's elapsed_seconds counts
// the earlier runs too): it began one step before the first report seen,
// whose time `start` keeps (negative until then).
double seconds_in_this_process(const StepInfo& info, double& start) {
  if (start < 0) start = info.elapsed_seconds - 1.0 / std::max(info.steps_per_second, 1e-9);
  return info.elapsed_seconds - start;
}

}  // namespace

bool ProgressPrinter::on_step(const StepInfo& info) {
  const double trained = seconds_in_this_process(info, start_elapsed_);  // on every step, as TimeLimit
  if (every_ <= 0 || (info.step % every_ != 0 && info.step != info.total_steps)) return false;
  const double limit_left = std::max(0.0, time_limit_ - trained);
  const bool limited = time_limit_ > 0 && limit_left < info.seconds_left;
  const double left = limited ? limit_left : info.seconds_left;
  std::ostringstream line;
  line << "step " << info.step << "/" << info.total_steps << std::setprecision(4);
  for (const auto& [name, value] : info.losses) line << "  " << name << " " << value;
  line << std::fixed << std::setprecision(1) << "  "
       << info.steps_per_second << " it/s  elapsed " << format_duration(info.elapsed_seconds)
       << "  left " << format_duration(left) << (limited ? " (time limit)" : "") << "\n";
  out_ << line.str() << std::flush;
  return false;
}

TimeLimit::TimeLimit(double seconds) : seconds_(seconds) {
  if (!(seconds > 0)) throw InvalidArgument("--time-limit: must be > 0 seconds");
}

bool TimeLimit::on_step(const StepInfo& info) {
  return seconds_in_this_process(info, start_elapsed_) >= seconds_;
}

CancelOnSignal::CancelOnSignal() {
  g_cancel_requested.store(false);
  previous_int_ = std::signal(SIGINT, on_cancel_signal);
  previous_term_ = std::signal(SIGTERM, on_cancel_signal);
}

CancelOnSignal::~CancelOnSignal() {
  std::signal(SIGINT, previous_int_);
  std::signal(SIGTERM, previous_term_);
}

bool CancelOnSignal::on_step(const StepInfo&) { return g_cancel_requested.load(); }

bool CancelOnSignal::requested() { return g_cancel_requested.load(); }

bool EveryKSteps::on_step(const StepInfo& info) {
  if (every_ <= 0 || info.step % every_ != 0) return false;
  return action_(info);
}

void update_moving_average(const std::vector<at::Tensor>& averaged, const std::vector<at::Tensor>& current,
                           double decay, int64_t step) {
  if (averaged.size() != current.size()) throw InvalidArgument("update_moving_average: lists of different lengths");
  at::NoGradGuard no_grad;
  const double t = static_cast<double>(step);
  const double d = std::min(decay, (1 + t) / (10 + t));
  for (size_t k = 0; k < averaged.size(); ++k) {
    at::Tensor a = averaged[k];
    const at::Tensor& c = current[k];
    if (!at::isFloatingType(a.scalar_type())) {
      a.copy_(c);
    } else if (a.is_cpu() && c.is_cpu() && a.is_contiguous() && c.is_contiguous() &&
               a.scalar_type() == c.scalar_type() && a.numel() == c.numel()) {
      // a <- d a + (1 - d) c in one loop: dispatching mul_ and add_ for each
      // of a generator's ~25 small tensors cost more than the arithmetic.
      AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "update_moving_average", [&] {
        scalar_t* pa = a.data_ptr<scalar_t>();
        const scalar_t* pc = c.data_ptr<scalar_t>();
        const auto keep = static_cast<scalar_t>(d), take = static_cast<scalar_t>(1 - d);
        for (int64_t i = 0, n = a.numel(); i < n; ++i) pa[i] = pa[i] * keep + take * pc[i];
      });
    } else {
      a.mul_(d).add_(c, 1 - d);
    }
  }
}

}  // namespace wbary::training
