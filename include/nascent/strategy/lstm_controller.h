#pragma once

/// REINFORCE with an LSTM controller, the strategy of the LibTorch part of the library.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nascent/strategy/strategy.h"

namespace nascent {

/// Installs the strategies that need LibTorch (REINFORCE with `controller: lstm`) into
/// make_strategy(). Idempotent; the nascent command and run_search() call it.
void register_torch_strategies();

/// REINFORCE (Williams 1992) with a recurrent controller, as in Zoph and Le (ICLR 2017) and
/// ENAS (Pham et al., ICML 2018): an LSTM cell reads, at each active decision, the embedding of
/// the value chosen for the previous one (a learned start vector first), and a linear head per
/// decision turns its hidden state into logits, bounded as in ENAS by 2.5 * tanh(logits / 5).
/// Unlike the factorised policy, a decision's distribution depends on the earlier choices.
///
/// After each result, one Adam step on -(advantage * log p(architecture) + entropy_weight * H),
/// the log-probability and entropies summed over the architecture's decisions. Reward,
/// baseline and the scaling of the advantage are those of the factorised Reinforce. Weights
/// start uniform in [-0.1, 0.1] from the strategy's own seed, so that runs repeat exactly.
class LstmReinforce : public Strategy {
 public:
  LstmReinforce(const SearchSpace& space, uint64_t seed, const StrategyOptions& options);
  ~LstmReinforce() override;

  std::string name() const override { return "reinforce"; }

  /// A sample of the controller; nullopt once every architecture of a finite space was seen.
  std::optional<Architecture> ask() override;

  /// One policy-gradient step (see the class comment).
  void tell(const Architecture& architecture, const Observation& observation) override;

  /// The controller's probabilities for the first decision (for tests).
  std::vector<double> first_decision_probabilities() const;

 private:
  struct Model;

  const SearchSpace& space_;
  Rng rng_;
  StrategyOptions options_;
  std::unique_ptr<Model> model_;
};

}  // namespace nascent
