#include <fmt/format.h>

#include "nascent/core/error.h"
#include "nascent/eval/training_evaluator.h"

namespace nascent {

namespace {

/// A buildable architecture with these counts, made invalid if it exceeds a cost limit.
ArchitectureCheck within_limits(int64_t params, int64_t flops, std::string short_description,
                                const CostLimits& limits) {
  ArchitectureCheck check;
  check.valid = true;
  check.params = params;
  check.flops = flops;
  check.short_description = std::move(short_description);
  if (limits.max_params > 0 && params > limits.max_params) {
    check.valid = false;
    check.decision = "space.max_params";
    check.reason = fmt::format("{} parameters: expected at most space.max_params = {}", params,
                               limits.max_params);
  }
  if (limits.max_flops > 0 && flops > limits.max_flops) {
    check.valid = false;
    check.decision = "space.max_flops";
    check.reason =
        fmt::format("{} multiply-accumulates per image: expected at most space.max_flops = {}",
                    flops, limits.max_flops);
  }
  return check;
}

}  // namespace

ArchitectureCheck check_macro_architecture(const Architecture& architecture,
                                           const ImageShape& input, int64_t num_classes,
                                           const CostLimits& limits) {
  try {
    const NetworkPlan plan = plan_network(architecture, input, num_classes);
    return within_limits(plan.params, plan.flops, plan.short_description(), limits);
  } catch (const InvalidArchitecture& error) {
    ArchitectureCheck check;
    check.valid = false;
    check.reason = error.what();
    check.decision = error.decision();
    return check;
  }
}

ArchitectureCheck check_architecture(const NetworkFamily& family, const Architecture& architecture,
                                     const ImageShape& input, int64_t num_classes,
                                     const CostLimits& limits) {
  if (family.family == "macro") {
    return check_macro_architecture(architecture, input, num_classes, limits);
  }

  // Every NAS-Bench-201 cell can be built; only its cost can rule it out.
  const CellNetworkCost cost = count_cell_network(architecture, input, num_classes, family.cell);
  return within_limits(cost.params, cost.flops, describe_cell(architecture), limits);
}

}  // namespace nascent
