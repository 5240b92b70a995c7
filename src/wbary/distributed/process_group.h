// File: wbary/distributed/process_group.h
//
// The processes of one multi-machine training run, joined through PyTorch's
// c10d (the library under torch.distributed): a TCPStore for rendezvous and
// a Gloo process group for the collectives. Membership comes from the
// environment that torchrun, Slurm scripts and hand launches all set:
//
//   RANK, WORLD_SIZE            this process and the number of processes
//   MASTER_ADDR, MASTER_PORT    where rank 0 serves the TCPStore
//   LOCAL_RANK                  the GPU this process uses with --device cuda
//   LOCAL_WORLD_SIZE            ranks on this machine (automatic --threads divides the cores)
//   TORCHELASTIC_USE_AGENT_STORE, TORCHELASTIC_RESTART_COUNT
//                               set by torchrun: its agent already serves
//                               the store, so every rank joins as a client
//                               under the prefix torch.distributed uses
//
// Collectives run on the CPU through Gloo (Debian's LibTorch has no NCCL);
// CUDA tensors are staged through host memory. What wbary exchanges per
// outer iteration is a few kilobytes (README, "Training on several machines"), so the staging copy is
// not what limits a run.
//
// Every call is collective: all ranks make the same calls in the same order.
//
// Example:
//   auto group = distributed::ProcessGroup::connect(distributed::ProcessGroupOptions::from_environment());
//   at::Tensor t = at::ones({3}, at::kDouble);
//   group->all_reduce_sum(t);        // every rank: t = world_size
#pragma once

#include <ATen/ATen.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace wbary::distributed {

/// Where and how to meet: rank, world size, master address and port (torchrun's variables).
struct ProcessGroupOptions {
  int rank = 0;  ///< This process's rank, 0 to world_size - 1.
  int world_size = 1;  ///< Number of processes in the run.
  std::string master_addr = "127.0.0.1";  ///< where rank 0's TCPStore listens
  int master_port = 29500;  ///< torch.distributed's default
  int local_rank = 0;  ///< rank on this machine
  int local_world_size = 1;  ///< LOCAL_WORLD_SIZE: ranks on this machine (they share its cores)
  /// Join torchrun's agent store as a client (TORCHELASTIC_USE_AGENT_STORE=True).
  bool agent_store = false;
  int restart_count = 0;  ///< TORCHELASTIC_RESTART_COUNT: the store prefix of this attempt
  /// How long a collective or the rendezvous waits for the other ranks
  /// before failing (torch.distributed's default is 30 minutes; a training
  /// step here takes milliseconds, so a rank that stops answering for
  /// minutes has died).
  std::chrono::seconds timeout{300};

  /// Reads the variables above. nullopt when WORLD_SIZE is unset; throws
  /// InvalidArgument naming the variable and its value when one is
  /// malformed or missing (RANK without WORLD_SIZE, RANK >= WORLD_SIZE, ...).
  static std::optional<ProcessGroupOptions> from_environment();
};

/// The ranks of a distributed run: c10d's TCPStore rendezvous and ProcessGroupGloo collectives.
class ProcessGroup {
 public:
  /// Rendezvous with the other ranks (rank 0 serves the TCPStore unless
  /// torchrun's agent does) and builds the Gloo group. Blocks until all
  /// WORLD_SIZE ranks have joined or `timeout` passes (then throws Error
  /// naming MASTER_ADDR:MASTER_PORT).
  static std::unique_ptr<ProcessGroup> connect(const ProcessGroupOptions& options);
  ~ProcessGroup();

  /// This process's rank, 0 to world_size - 1.
  int rank() const { return options_.rank; }
  /// Number of processes in the run.
  int world_size() const { return options_.world_size; }
  /// How this group was set up.
  const ProcessGroupOptions& options() const { return options_; }

  /// t <- sum over ranks of t, in place (any device, any floating dtype).
  void all_reduce_sum(at::Tensor& t);
  /// t <- max over ranks of t, in place.
  void all_reduce_max(at::Tensor& t);
  /// t <- rank `root`'s t, in place.
  void broadcast(at::Tensor& t, int root = 0);
  /// Waits for every rank.
  void barrier();

 private:
  struct Impl;
  ProcessGroup(ProcessGroupOptions options, std::unique_ptr<Impl> impl);
  void all_reduce(at::Tensor& t, int op);

  ProcessGroupOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wbary::distributed
