#include "nascent/eval/pruner.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <numeric>

#include "nascent/core/error.h"

namespace nascent {

namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2.0;
}

std::string percent(double accuracy) { return fmt::format("{:.2f}%", accuracy * 100.0); }

/// Whether `epoch` is a rung min_epochs * reduction_factor^k.
bool is_rung(int64_t epoch, int64_t min_epochs, int64_t reduction_factor) {
  for (int64_t rung = min_epochs; rung <= epoch; rung *= reduction_factor) {
    if (rung == epoch) return true;
  }
  return false;
}

PruningDecision median_rule(const std::vector<double>& curve,
                            const std::vector<const std::vector<double>*>& reached) {
  const size_t epoch = curve.size();
  std::vector<double> running_means;
  for (const auto* other : reached) {
    running_means.push_back(std::accumulate(other->begin(), other->begin() + epoch, 0.0) /
                            static_cast<double>(epoch));
  }
  const double best = *std::max_element(curve.begin(), curve.end());
  const double middle = median(running_means);
  if (best >= middle) return {};
  return {true, fmt::format("pruned at epoch {} by the median rule: best accuracy {} is below "
                            "the median {} of the running means of {} earlier trials",
                            epoch, percent(best), percent(middle), reached.size())};
}

PruningDecision asha_rule(const PruningOptions& options, const std::vector<double>& curve,
                          const std::vector<const std::vector<double>*>& reached) {
  const size_t epoch = curve.size();
  std::vector<double> at_rung = {curve.back()};
  for (const auto* other : reached) at_rung.push_back((*other)[epoch - 1]);
  std::sort(at_rung.begin(), at_rung.end(), std::greater<>());
  const int64_t kept =
      std::max<int64_t>(1, static_cast<int64_t>(at_rung.size()) / options.reduction_factor);
  const double threshold = at_rung[static_cast<size_t>(kept - 1)];
  if (curve.back() >= threshold) return {};
  return {true,
          fmt::format("pruned at epoch {} by ASHA: accuracy {} is not in the top {} of "
                      "{} at this rung (threshold {})",
                      epoch, percent(curve.back()), kept, at_rung.size(), percent(threshold))};
}

}  // namespace

void PruningOptions::validate() const {
  if (rule != "none" && rule != "median" && rule != "asha") {
    throw Error(fmt::format("pruning.rule: expected none, median or asha, found '{}'", rule));
  }
  if (min_trials < 1) {
    throw Error(fmt::format("pruning.min_trials: expected an integer >= 1, found {}", min_trials));
  }
  if (warmup_epochs < 0) {
    throw Error(
        fmt::format("pruning.warmup_epochs: expected an integer >= 0, found {}", warmup_epochs));
  }
  if (min_epochs < 1) {
    throw Error(fmt::format("pruning.min_epochs: expected an integer >= 1, found {}", min_epochs));
  }
  if (reduction_factor < 2) {
    throw Error(fmt::format("pruning.reduction_factor: expected an integer >= 2, found {}",
                            reduction_factor));
  }
}

PruningDecision decide_pruning(const PruningOptions& options, const std::vector<double>& curve,
                               const std::vector<std::vector<double>>& history) {
  if (!options.enabled() || curve.empty()) return {};
  const int64_t epoch = static_cast<int64_t>(curve.size());
  if (options.rule == "median" && epoch <= options.warmup_epochs) return {};
  if (options.rule == "asha" && !is_rung(epoch, options.min_epochs, options.reduction_factor)) {
    return {};
  }

  std::vector<const std::vector<double>*> reached;
  for (const auto& other : history) {
    if (static_cast<int64_t>(other.size()) >= epoch) reached.push_back(&other);
  }
  if (static_cast<int64_t>(reached.size()) < options.min_trials) return {};

  return options.rule == "median" ? median_rule(curve, reached)
                                  : asha_rule(options, curve, reached);
}

}  // namespace nascent
