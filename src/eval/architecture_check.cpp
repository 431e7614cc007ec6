#include <fmt/format.h>

#include "nascent/core/error.h"
#include "nascent/eval/training_evaluator.h"

namespace nascent {

ArchitectureCheck check_macro_architecture(const Architecture& architecture,
                                           const ImageShape& input, int64_t num_classes,
                                           const CostLimits& limits) {
  ArchitectureCheck check;
  try {
    const NetworkPlan plan = plan_network(architecture, input, num_classes);
    check.valid = true;
    check.params = plan.params;
    check.flops = plan.flops;
    check.short_description = plan.short_description();
    if (limits.max_params > 0 && plan.params > limits.max_params) {
      check.valid = false;
      check.decision = "space.max_params";
      check.reason = fmt::format("{} parameters: expected at most space.max_params = {}",
                                 plan.params, limits.max_params);
    }
    if (limits.max_flops > 0 && plan.flops > limits.max_flops) {
      check.valid = false;
      check.decision = "space.max_flops";
      check.reason = fmt::format(
          "{} multiply-accumulates per image: expected at most "
          "space.max_flops = {}",
          plan.flops, limits.max_flops);
    }
  } catch (const InvalidArchitecture& error) {
    check.valid = false;
    check.reason = error.what();
    check.decision = error.decision();
  }
  return check;
}

ArchitectureCheck check_architecture(const NetworkFamily& family, const Architecture& architecture,
                                     const ImageShape& input, int64_t num_classes,
                                     const CostLimits& limits) {
  if (family.family == "macro") {
    return check_macro_architecture(architecture, input, num_classes, limits);
  }

  const CellNetworkCost cost = count_cell_network(architecture, input, num_classes, family.cell);
  ArchitectureCheck check;
  check.valid = true;
  check.params = cost.params;
  check.flops = cost.flops;
  check.short_description = describe_cell(architecture);
  if (limits.max_params > 0 && cost.params > limits.max_params) {
    check.valid = false;
    check.decision = "space.max_params";
    check.reason = fmt::format("{} parameters: expected at most space.max_params = {}", cost.params,
                               limits.max_params);
  }
  if (limits.max_flops > 0 && cost.flops > limits.max_flops) {
    check.valid = false;
    check.decision = "space.max_flops";
    check.reason = fmt::format(
        "{} multiply-accumulates per image: expected at most "
        "space.max_flops = {}",
        cost.flops, limits.max_flops);
  }
  return check;
}

}  // namespace nascent
