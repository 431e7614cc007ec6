#pragma once

/// DARTS: differentiable architecture search on the NAS-Bench-201 cell (Liu, Simonyan and Yang,
/// "DARTS: Differentiable Architecture Search", ICLR 2019). Torch-free header.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nascent/data/dataset.h"
#include "nascent/nn/cell_network.h"
#include "nascent/strategy/weight_ranking.h"
#include "nascent/train/train_options.h"

namespace nascent {

/// Settings of one supernet search.
struct DartsOptions {
  /// Epochs over the weight half of the data.
  int64_t epochs = 10;
  /// Adam's step size and weight decay for the architecture weights (the paper's 3e-4, 1e-3).
  double architecture_learning_rate = 3e-4;
  double architecture_weight_decay = 1e-3;
  /// Optimiser, learning rate and its cosine schedule, momentum, weight decay and batch size of
  /// the supernet's weights (its `epochs` is not used: `epochs` above is).
  TrainOptions weights;
  /// Cells per stage and channels of the supernet, as of the networks it stands for.
  CellNetworkOptions network;
  /// The operations an edge may take, in the space's order of choices.
  std::vector<std::string> operations = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                         "avg_pool_3x3"};
  uint64_t seed = 0;
  /// Written after every epoch and resumed from when present; empty for none.
  std::string checkpoint_path;

  /// Throws nascent::Error naming the first bad field.
  void validate() const;
};

/// What one supernet epoch did.
struct DartsEpoch {
  /// 1-based, of `epochs`.
  int64_t epoch = 0;
  int64_t epochs = 0;
  /// Means over the epoch's steps: the weights' training loss and accuracy on their batches,
  /// and the architecture weights' loss on theirs.
  double weight_loss = 0.0;
  double weight_accuracy = 0.0;
  double architecture_loss = 0.0;
  /// The softmaxed architecture weights after the epoch, per edge decision.
  DecisionProbabilities probabilities;
  double seconds = 0.0;
};

/// Trains the supernet (Nasbench201Supernet) and its architecture weights alternately, as DARTS
/// does with its first-order approximation: per step, one Adam step of the architecture weights
/// on a batch of `architecture_data`, then one step of the network's weights on a batch of
/// `weight_data` (gradient norm clipped at 5, as in DARTS). Every cell shares one [6, operations]
/// matrix of architecture weights, started at 1e-3 times standard normal draws. Returns the
/// softmaxed architecture weights per edge decision ("edge_0_1", ...), in `operations` order.
///
/// With a checkpoint path, the supernet, both optimisers and the architecture weights are saved
/// after every epoch, and a later call with the same data and options continues after the last
/// saved epoch: each epoch draws its batches from a generator seeded by (seed, epoch), so a
/// resumed run gives the same weights as one that was never stopped. A stop request
/// (nascent::request_stop()) ends it between steps with nascent::Error; the epoch under way is
/// lost. Images are normalised with the statistics of `weight_data`; nothing is augmented.
DecisionProbabilities train_darts_supernet(const ImageDataset& weight_data,
                                           const ImageDataset& architecture_data,
                                           int64_t num_classes, const DartsOptions& options,
                                           const std::function<void(const DartsEpoch&)>& on_epoch);

}  // namespace nascent
