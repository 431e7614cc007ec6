#pragma once

/// An evaluator that looks architectures up in a NAS-Bench-201 table instead of training them:
/// the fast evaluator of distributed tests and benchmarks.

#include <memory>

#include "nascent/eval/evaluator.h"
#include "nascent/eval/tabular.h"

namespace nascent {

/// Answers each architecture with its 12-epoch validation accuracy from the table (as a
/// fraction), after waiting `seconds_per_trial` of real time, so that a study of many workers
/// can be given trials that take as long as wanted without any training.
class TabularEvaluator final : public Evaluator {
 public:
  /// `seconds_per_trial` >= 0; throws nascent::Error otherwise.
  TabularEvaluator(std::shared_ptr<const Nasbench201Table> table, double seconds_per_trial);

  /// Valid when the table has the architecture; params and FLOPs come from the table.
  ArchitectureCheck check(const Architecture& architecture) const override;

  /// Waits, then answers from the table. Returns kInterrupted when a stop is requested
  /// (nascent::request_stop()) during the wait.
  Evaluation evaluate(const Architecture& architecture, const TrialContext& context) override;

 private:
  std::shared_ptr<const Nasbench201Table> table_;
  double seconds_per_trial_;
};

}  // namespace nascent
