#include "wbary/barycenter/training.h"

#include <csignal>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "wbary/error.h"

namespace wbary::barycenter {
namespace {

std::atomic<bool> g_cancel_requested{false};

extern "C" void on_cancel_signal(int) { g_cancel_requested.store(true); }

}  // namespace

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

bool ProgressPrinter::on_step(const StepInfo& info) {
  if (every_ <= 0 || (info.step % every_ != 0 && info.step != info.total_steps)) return false;
  std::ostringstream line;
  line << "step " << info.step << "/" << info.total_steps << std::setprecision(4)
       << "  loss_g " << info.loss_g << "  loss_f " << info.loss_f << "  loss_h " << info.loss_h
       << "  W2^2 " << info.barycenter_cost << std::fixed << std::setprecision(1) << "  "
       << info.steps_per_second << " it/s  elapsed " << format_duration(info.elapsed_seconds)
       << "  left " << format_duration(info.seconds_left) << "\n";
  out_ << line.str() << std::flush;
  return false;
}

TimeLimit::TimeLimit(double seconds) : seconds_(seconds) {
  if (!(seconds > 0)) throw InvalidArgument("--time-limit: must be > 0 seconds");
}

bool TimeLimit::on_step(const StepInfo& info) {
  if (start_elapsed_ < 0) start_elapsed_ = info.elapsed_seconds - 1.0 / std::max(info.steps_per_second, 1e-9);
  return info.elapsed_seconds - start_elapsed_ >= seconds_;
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

}  // namespace wbary::barycenter
