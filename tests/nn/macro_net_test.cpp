#include "nascent/nn/macro_net.h"

#include <gtest/gtest.h>

#include "nascent/core/error.h"
#include "nascent/space/macro_space.h"

namespace nascent {
namespace {

MacroSpaceOptions wide_options() {
  MacroSpaceOptions options;
  options.stages = Decision::integer("", 1, 3);
  options.depth = Decision::integer("", 1, 3);
  options.downsample = Decision::categorical("", {"none", "max_pool", "avg_pool", "stride"});
  options.op = Decision::categorical("", macro_operations());
  options.width = Decision::categorical("", {"8", "16"});
  options.kernel = Decision::categorical("", {"3", "5"});
  options.expansion = Decision::categorical("", {"2", "3"});
  options.activation = Decision::categorical("", macro_activations());
  options.batch_norm = Decision::categorical("", {"true", "false"});
  options.skip = Decision::categorical("", {"none", "1", "2"});
  options.dense_layers = Decision::integer("", 0, 2);
  options.dense_width = Decision::categorical("", {"16", "32"});
  options.dropout = Decision::real("", 0.0, 0.5);
  return options;
}

TEST(MacroNetTest, ParameterCountAndOutputShapeMatchThePlanForRandomArchitectures) {
  const SearchSpace space = make_macro_space(wide_options());
  Rng rng(11);
  int64_t built = 0;
  for (int i = 0; i < 200 && built < 40; ++i) {
    const Architecture architecture = space.sample(rng);
    NetworkPlan plan;
    try {
      plan = plan_network(architecture, {1, 16, 16}, 10);
    } catch (const InvalidArchitecture&) {
      continue;
    }
    MacroNet model(plan);
    EXPECT_EQ(count_parameters(*model), plan.params) << architecture.to_string();

    model->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor logits = model->forward(torch::randn({2, 1, 16, 16}));
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 10})) << architecture.to_string();
    ++built;
  }
  EXPECT_GE(built, 20);
}

TEST(MacroNetTest, EveryLayerProducesThePlannedShape) {
  const SearchSpace space = make_macro_space(wide_options());
  const Architecture architecture = space.parse(
      "stem.width=16 stages=2 s1.depth=2 s1.downsample=none s1.l1.op=mbconv s1.l1.width=16 "
      "s1.l1.kernel=5 s1.l1.expansion=3 s1.l1.activation=gelu s1.l1.batch_norm=true s1.l1.skip=1 "
      "s1.l2.op=avg_pool s1.l2.kernel=3 s1.l2.skip=2 s2.depth=1 s2.downsample=stride "
      "s2.l1.op=sep_conv s2.l1.width=8 s2.l1.kernel=3 s2.l1.activation=elu "
      "s2.l1.batch_norm=false head.dense_layers=1 head.dense1.width=32 head.dropout=0.1");
  const NetworkPlan plan = plan_network(architecture, {1, 16, 16}, 10);
  ASSERT_EQ(plan.layers.size(), 3u);
  EXPECT_EQ(plan.layers[2].output, (ImageShape{8, 8, 8}));

  MacroNet model(plan);
  EXPECT_EQ(count_parameters(*model), plan.params);
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(torch::randn({3, 1, 16, 16})).sizes(), (std::vector<int64_t>{3, 10}));
}

}  // namespace
}  // namespace nascent
