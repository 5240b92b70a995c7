// File: wbary/grid/learned_barycenter.h
//
// Learned grid barycenters (Lacombe et al.; reference/learned-grid.md): the
// data pipeline (random CSG shape pairs and their convolutional barycenters
// as ground truth, in .npy shards with a manifest), the training of a
// BarycentricUNet by KL(truth || prediction), and the trained model that
// predicts barycenters of 2..N weighted images in milliseconds.
//
// Example:
//   auto model = grid::LearnedGridBarycenter::load("models/grid64");
//   at::Tensor bary = model.predict({a, b, c}, {0.2, 0.3, 0.5});   // [n, n], sums to 1
#pragma once

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wbary/grid/barycentric_unet.h"
#include "wbary/training/training.h"

namespace torch::optim {
class Optimizer;
}

namespace wbary::grid {

// ---- data --------------------------------------------------------------

/// The generated training set of the learned grid barycenter: shapes, sizes, blur, count.
struct GridDatasetConfig {
  int64_t n = 64;            ///< grid side (a power of two up to 512)
  int64_t count = 20000;     ///< examples
  int64_t shard_size = 500;  ///< examples per shard
  int64_t inputs = 2;        ///< shapes per example (pairs, as the authors train)
  /// Entropic regularisation of the ground truth (POT's grid convention):
  /// kernel std sqrt(eps/2) (n - 1) pixels, i.e. 2 px at n = 64.
  double epsilon = 2e-3;
  uint64_t seed = 0;  ///< seed of the generated shapes and weights: the same seed gives the same dataset

  /// Throws InvalidArgument naming the field when a value is out of range.
  void validate() const;
};

/// One example: `inputs` random shapes, weights from N(0.5, 0.32) truncated
/// to [0, 1] (authors; for K > 2, normalised uniform draws), and their
/// convolutional barycenter. A pure function of (config, index).
struct GridExample {
  at::Tensor images;   ///< [K, n, n] float64 probability images
  at::Tensor weights;  ///< [K] float64, sums to 1
  at::Tensor target;   ///< [n, n] float64 convolutional barycenter
};
GridExample make_grid_example(const GridDatasetConfig& config, int64_t index);

/// Writes DIR/shard_NNNNN_{images,weights,targets}.npy and DIR/manifest.json.
/// Shards already listed in the manifest (same config) are kept, so an
/// interrupted run resumes; `progress(done, total)` is called per example;
/// `cancelled()` stops between shards.
void generate_grid_dataset(const GridDatasetConfig& config, const std::string& dir,
                           const std::function<void(int64_t, int64_t)>& progress,
                           const std::function<bool()>& cancelled = {});

/// A dataset in memory, float32: images [S, K, n, n], weights [S, K], targets [S, n, n].
struct GridDataset {
  at::Tensor images;   ///< [n, k, H, W] input densities
  at::Tensor weights;  ///< [n, k] barycentric weights
  at::Tensor targets;  ///< [n, H, W] convolutional barycenters
  GridDatasetConfig config;  ///< The configuration it was trained with.
  /// Number of examples.
  int64_t size() const { return images.size(0); }
  /// Reads every shard the manifest lists; throws IoError naming the file.
  static GridDataset load(const std::string& dir);
};

/// KL(truth || prediction) per image, from log-predictions; truth clamped
/// at 1e-10 as the authors' loss. [B, n, n] x [B, n, n] -> [B].
at::Tensor kl_divergence(const at::Tensor& truth, const at::Tensor& log_prediction);

// ---- model -------------------------------------------------------------

inline constexpr int kGridModelFormatVersion = 1;

/// A trained U-Net that predicts convolutional barycenters in milliseconds.
class LearnedGridBarycenter {
 public:
  /// An untrained model with this architecture.
  explicit LearnedGridBarycenter(UNetConfig config, uint64_t seed = 0);

  /// Barycenter of K images of one shape [n, n] (each normalised here) with
  /// weights (>= 0, normalised); float64 [n, n] summing to 1.
  at::Tensor predict(const std::vector<at::Tensor>& images, const std::vector<double>& weights) const;

  /// The network.
  BarycentricUNet& net() { return net_; }
  /// The network.
  const BarycentricUNet& net() const { return net_; }
  /// The configuration it was built with.
  const UNetConfig& config() const { return config_; }
  /// Moves the network (predict() then runs there; results come back to the CPU).
  void to(const at::Device& device);
  /// Where the computation runs: "cpu" or "cuda" (a LibTorch device string).
  at::Device device() const;
  nlohmann::json& info() { return info_; }  ///< training summary stored with the model

  /// Writes DIR/model.pt and DIR/model.json atomically.
  void save(const std::string& dir) const;
  /// Loads onto the CPU whatever device the weights were saved from.
  static LearnedGridBarycenter load(const std::string& dir);

 private:
  UNetConfig config_;
  BarycentricUNet net_{nullptr};
  nlohmann::json info_ = nlohmann::json::object();
};

/// The model shipped with wbary (64 x 64 shapes): $WBARY_MODELS_DIR/grid64,
/// else the copy installed beside the library (share/wbary/models/grid64);
/// "" if neither exists.
std::string shipped_grid_model_dir();

// ---- training ----------------------------------------------------------

/// The learned grid barycenter's training schedule and optimiser.
struct GridTrainingConfig {
  UNetConfig net;  ///< the network to train
  /// The authors' optimiser: SGD, Nesterov, momentum 0.99, lr 5e-4, cosine
  /// annealing with warm restarts. "adam" is the alternative.
  std::string optimizer = "sgd";
  double learning_rate = 5e-4;  ///< of the optimizer
  double momentum = 0.99;  ///< SGD's momentum (sgd only)
  int64_t restart_period = 2000;  ///< steps of the first cosine cycle (T0)
  int64_t restart_mult = 1;       ///< T_mult
  int64_t iterations = 20000;  ///< Iterations run.
  int64_t batch_size = 8;          ///< authors: 8
  double validation_fraction = 0.1;  ///< held out from the end of the dataset
  int64_t validate_every = 500;  ///< steps between validation losses
  uint64_t seed = 0;  ///< Seed of every random draw (initialisation, batches, latents): the same seed gives the same run.
  int64_t log_every = 100;  ///< Steps between two records of the losses (history and progress lines).
  /// Where the computation runs: "cpu" or "cuda" (a LibTorch device string).
  std::string device = "cpu";  // cpu | cuda | cuda:N; the dataset is moved there whole

  /// Throws InvalidArgument naming the field when a value is out of range.
  void validate() const;
};

nlohmann::json to_json(const GridTrainingConfig& config);
void update_from_json(GridTrainingConfig& config, const nlohmann::json& j);

/// Trains the barycenter-predicting U-Net on generated shapes (checkpoints, resume, progress).
class GridBarycenterTrainer {
 public:
  /// Trains on `data`, holding validation_fraction of it out.
  GridBarycenterTrainer(GridDataset data, GridTrainingConfig config);
  ~GridBarycenterTrainer();

  /// Reports "train_kl" every step and "val_kl" every validate_every steps.
  training::StepInfo step();
  /// Runs the remaining iterations, calling the callbacks after each (progress, checkpoints, time limit, Ctrl-C).
  training::TrainingSummary train(const std::vector<training::TrainingCallback*>& callbacks = {});
  /// Mean KL on the held-out split.
  double validation_kl() const;

  /// The model as trained so far.
  const LearnedGridBarycenter& model() const { return model_; }
  /// The model as trained so far.
  LearnedGridBarycenter& model() { return model_; }
  /// Outer iterations completed so far (a resumed run counts from its checkpoint).
  int64_t steps_done() const { return step_; }
  /// Training and evaluation records (JSON objects with a "step" field).
  nlohmann::json& history() { return history_; }

  /// Writes the full training state (networks, optimisers, step, history) atomically to DIR.
  void save_checkpoint(const std::string& path) const;
  /// Restores what save_checkpoint() wrote; InvalidArgument if it was trained on another problem or config.
  void load_checkpoint(const std::string& path);

 private:
  double learning_rate() const;

  GridDataset data_;
  GridTrainingConfig config_;
  LearnedGridBarycenter model_;
  std::unique_ptr<torch::optim::Optimizer> opt_;
  at::Device device_ = at::kCPU;
  int64_t train_size_ = 0;
  int64_t step_ = 0;
  double elapsed_before_ = 0;
  double last_val_kl_ = 0;
  nlohmann::json history_ = nlohmann::json::array();
};

}  // namespace wbary::grid
