#pragma once

/// Stopping poor trials early from their per-epoch validation accuracy. Decisions depend only
/// on the trial's own curve and on the stored curves of earlier trials, so a resumed study
/// makes the same decisions.

#include <cstdint>
#include <string>
#include <vector>

namespace nascent {

/// Settings of the pruning rules; `rule` "none" turns pruning off.
struct PruningOptions {
  /// "none", "median" (median stopping, Golovin et al. 2017) or "asha" (the stopping rule of
  /// asynchronous successive halving, Li et al. 2020).
  std::string rule = "none";
  /// Earlier trials that must have reached an epoch before any trial is pruned at that epoch.
  int64_t min_trials = 5;
  /// median: no trial is pruned at epochs 1..warmup_epochs.
  int64_t warmup_epochs = 0;
  /// asha: the first rung, in epochs (the minimum resource r).
  int64_t min_epochs = 1;
  /// asha: rungs at min_epochs * reduction_factor^k; the top 1/reduction_factor go on.
  int64_t reduction_factor = 3;

  bool enabled() const { return rule != "none"; }

  /// Throws nascent::Error naming the bad field ("pruning.<field>: expected ..., found ...").
  void validate() const;
};

/// Whether to stop a trial, and why.
struct PruningDecision {
  bool prune = false;
  /// Empty when the trial goes on.
  std::string reason;
};

/// Decides whether a trial whose validation accuracies so far are `curve` (epoch e at index
/// e - 1, so the decision is for epoch curve.size()) stops, given the curves of the earlier
/// finished trials in `history` (each as long as that trial ran).
///
/// median: after the warm-up, prune when the trial's best accuracy so far is strictly below
/// the median, over earlier trials that reached this epoch, of their mean accuracy over
/// epochs 1..this epoch.
/// asha: at a rung, prune when the trial's accuracy is not among the top
/// max(1, floor(n / reduction_factor)) of the n accuracies at that rung (this trial's and the
/// earlier trials'); ties with the last place go on.
/// Both rules never prune at an epoch that fewer than `min_trials` earlier trials reached.
PruningDecision decide_pruning(const PruningOptions& options, const std::vector<double>& curve,
                               const std::vector<std::vector<double>>& history);

}  // namespace nascent
