#include "wbary/distributed/process_group.h"

// LibTorch compiles its Gloo backend in (Debian: libtorch-cpu links
// libgloo); its header declares it only under this macro. The headers it
// includes come from Debian's libgloo-dev.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "wbary/error.h"

namespace wbary::distributed {
namespace {

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

int integer_variable(const char* name, const std::string& text, int lowest) {
  size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < lowest) {
    throw InvalidArgument("environment variable " + std::string(name) + "=" + text + ": expected an integer >= " +
                          std::to_string(lowest));
  }
  return value;
}

// c10d reports failures as c10::Error with a long backtrace; the first line
// is the message a user needs.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

std::optional<ProcessGroupOptions> ProcessGroupOptions::from_environment() {
  const auto world = environment("WORLD_SIZE");
  if (!world) {
    if (environment("RANK")) throw InvalidArgument("environment variable RANK is set but WORLD_SIZE is not");
    return std::nullopt;
  }
  ProcessGroupOptions o;
  o.world_size = integer_variable("WORLD_SIZE", *world, 1);
  const auto rank = environment("RANK");
  if (!rank && o.world_size > 1) throw InvalidArgument("environment variable WORLD_SIZE is set but RANK is not");
  if (rank) o.rank = integer_variable("RANK", *rank, 0);
  if (o.rank >= o.world_size) {
    throw InvalidArgument("environment variable RANK=" + std::to_string(o.rank) + ": expected < WORLD_SIZE=" +
                          std::to_string(o.world_size));
  }
  if (const auto addr = environment("MASTER_ADDR")) o.master_addr = *addr;
  if (const auto port = environment("MASTER_PORT")) {
    o.master_port = integer_variable("MASTER_PORT", *port, 1);
    if (o.master_port > 65535) throw InvalidArgument("environment variable MASTER_PORT=" + *port + ": expected <= 65535");
  }
  if (const auto local = environment("LOCAL_RANK")) o.local_rank = integer_variable("LOCAL_RANK", *local, 0);
  if (const auto local = environment("LOCAL_WORLD_SIZE")) {
    o.local_world_size = integer_variable("LOCAL_WORLD_SIZE", *local, 1);
  }
  o.agent_store = environment("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
  if (const auto restarts = environment("TORCHELASTIC_RESTART_COUNT")) {
    o.restart_count = integer_variable("TORCHELASTIC_RESTART_COUNT", *restarts, 0);
  }
  return o;
}

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

ProcessGroup::ProcessGroup(ProcessGroupOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}

ProcessGroup::~ProcessGroup() = default;

std::unique_ptr<ProcessGroup> ProcessGroup::connect(const ProcessGroupOptions& o) {
  const std::string where = o.master_addr + ":" + std::to_string(o.master_port);
  auto impl = std::make_unique<Impl>();
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(o.timeout);
  try {
    c10d::TCPStoreOptions store;
    store.port = static_cast<std::uint16_t>(o.master_port);
    store.isServer = o.rank == 0 && !o.agent_store;
    store.numWorkers = o.world_size;
    store.waitWorkers = false;  // the group's own rendezvous below waits for everyone
    store.timeout = timeout;
    store.multiTenant = true;
    impl->store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, store);
    if (o.agent_store) {
      // torch.distributed's key space under torchrun's agent (distributed_c10d.py, _env_rendezvous_handler).
      impl->store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(o.restart_count),
                                                           impl->store);
    }
    impl->store = c10::make_intrusive<c10d::PrefixStore>("wbary/", impl->store);
    auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    gloo->threads = 2;
    impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, o.rank, o.world_size, gloo);
  } catch (const c10::Error& e) {
    throw Error("distributed rendezvous of rank " + std::to_string(o.rank) + " of " + std::to_string(o.world_size) +
                " at MASTER_ADDR:MASTER_PORT = " + where + " failed: " + first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Error("distributed rendezvous of rank " + std::to_string(o.rank) + " of " + std::to_string(o.world_size) +
                " at MASTER_ADDR:MASTER_PORT = " + where + " failed: " + first_line(e.what()));
  }
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(o, std::move(impl)));
}

namespace {

// Runs one collective on a contiguous CPU copy of `t` (Gloo here has no CUDA
// transport) and writes the result back, turning c10d's errors into ours.
template <typename Collective>
void on_host(at::Tensor& t, const ProcessGroupOptions& o, const char* what, Collective&& collective) {
  const bool staged = !t.device().is_cpu() || !t.is_contiguous();
  std::vector<at::Tensor> buffer = {staged ? t.to(at::kCPU).contiguous() : t};
  try {
    collective(buffer)->wait();
  } catch (const c10::Error& e) {
    throw Error(std::string("distributed ") + what + " on rank " + std::to_string(o.rank) + " of " +
                std::to_string(o.world_size) + " failed (did another rank stop?): " +
                first_line(e.what_without_backtrace()));
  }
  if (staged) t.copy_(buffer[0]);
}

}  // namespace

void ProcessGroup::all_reduce(at::Tensor& t, int op) {
  on_host(t, options_, "all-reduce", [&](std::vector<at::Tensor>& b) {
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp(static_cast<c10d::ReduceOp::RedOpType>(op));
    return impl_->group->allreduce(b, options);
  });
}

void ProcessGroup::all_reduce_sum(at::Tensor& t) { all_reduce(t, c10d::ReduceOp::SUM); }
void ProcessGroup::all_reduce_max(at::Tensor& t) { all_reduce(t, c10d::ReduceOp::MAX); }

void ProcessGroup::broadcast(at::Tensor& t, int root) {
  on_host(t, options_, "broadcast", [&](std::vector<at::Tensor>& b) {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    return impl_->group->broadcast(b, options);
  });
}

void ProcessGroup::barrier() {
  at::Tensor token = at::zeros({1}, at::kFloat);
  all_reduce_sum(token);
}

}  // namespace wbary::distributed
