#include "nascent/eval/tabular_evaluator.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "nascent/core/error.h"
#include "nascent/core/interrupt.h"

namespace nascent {

namespace {

/// How often the wait looks at the stop flag: short enough that Ctrl-C feels immediate.
constexpr std::chrono::milliseconds kStopCheckInterval{10};

}  // namespace

TabularEvaluator::TabularEvaluator(std::shared_ptr<const Nasbench201Table> table,
                                   double seconds_per_trial)
    : table_(std::move(table)), seconds_per_trial_(seconds_per_trial) {
  if (!(seconds_per_trial_ >= 0.0) || !std::isfinite(seconds_per_trial_)) {
    throw Error(fmt::format("table evaluator: expected seconds per trial >= 0, found {}",
                            seconds_per_trial_));
  }
}

ArchitectureCheck TabularEvaluator::check(const Architecture& architecture) const {
  ArchitectureCheck check;
  const std::string arch_str = table_->space().format(architecture);
  const auto row = table_->find(arch_str);
  if (!row) {
    check.reason = fmt::format("expected an architecture of table {}, found '{}', which it lacks",
                               table_->source(), arch_str);
    check.decision = "table";
    return check;
  }
  const Nasbench201Record& record = table_->records()[static_cast<size_t>(*row)];
  check.valid = true;
  check.params = static_cast<int64_t>(std::llround(record.params_m * 1e6));
  check.flops = static_cast<int64_t>(std::llround(record.flops_m * 1e6));
  check.short_description = arch_str;
  return check;
}

Evaluation TabularEvaluator::evaluate(const Architecture& architecture, const TrialContext&) {
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(seconds_per_trial_));
  Evaluation evaluation;
  for (auto now = start; now < end; now = std::chrono::steady_clock::now()) {
    if (stop_requested()) {
      evaluation.state = TrialState::kInterrupted;
      evaluation.validation_accuracy = std::nan("");
      evaluation.error = "interrupted: the worker was stopped during the trial";
      return evaluation;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(kStopCheckInterval, end - now));
  }

  const int64_t row = table_->row_of(architecture);
  const Nasbench201Record& record = table_->records()[static_cast<size_t>(row)];
  evaluation.state = TrialState::kComplete;
  evaluation.validation_accuracy = tabular_answer(record, TabularFidelity::kEpochs12).objective;
  evaluation.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return evaluation;
}

}  // namespace nascent
