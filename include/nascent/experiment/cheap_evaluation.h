#pragma once

/// How a search evaluates candidates cheaply: a zero-cost proxy as the evaluator, as a
/// pre-filter or as a warm start of the strategy; pruning of poor trials; low-fidelity
/// training. run_search() calls these; each does nothing when its config section is unset.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "nascent/data/dataset.h"
#include "nascent/eval/evaluator.h"
#include "nascent/experiment/config.h"
#include "nascent/store/store.h"
#include "nascent/strategy/strategy.h"

namespace nascent {

/// The evaluator of candidates: the proxy when proxy.use is "evaluator", otherwise training
/// (at the fidelity of the `fidelity` section; checks and cost counts are always those of the
/// full-fidelity network, which the final model is).
std::unique_ptr<Evaluator> make_search_evaluator(const ExperimentConfig& config,
                                                 const ImageDataset& search_train,
                                                 const ImageDataset& validation);

/// `strategy` wrapped in the proxy pre-filter or warm start when proxy.use asks for one,
/// otherwise `strategy` itself.
std::unique_ptr<Strategy> guide_strategy(const ExperimentConfig& config,
                                         const ImageDataset& search_train,
                                         std::unique_ptr<Strategy> strategy);

/// The validation-accuracy curves of the finished (complete or pruned) trials stored before
/// trial `before_trial_id`, in id order: the history a pruning decision for that trial sees.
std::vector<std::vector<double>> pruning_history(const Store& store, int64_t before_trial_id);

/// The cheap-evaluation settings of a study for summary.json: proxy, pruning and the fidelity
/// of candidates against that of the final model.
nlohmann::json cheap_evaluation_json(const ExperimentConfig& config);

}  // namespace nascent
