#include "nascent/core/error.h"
#include "nascent/eval/training_evaluator.h"

namespace nascent {

ArchitectureCheck check_macro_architecture(const Architecture& architecture,
                                           const ImageShape& input, int64_t num_classes) {
  ArchitectureCheck check;
  try {
    const NetworkPlan plan = plan_network(architecture, input, num_classes);
    check.valid = true;
    check.params = plan.params;
    check.flops = plan.flops;
    check.short_description = plan.short_description();
  } catch (const InvalidArchitecture& error) {
    check.valid = false;
    check.reason = error.what();
    check.decision = error.decision();
  }
  return check;
}

}  // namespace nascent
