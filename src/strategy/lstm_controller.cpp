#include "nascent/strategy/lstm_controller.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "strategy/internal/advantage.h"
#include "strategy/internal/decision_values.h"
#include "strategy/internal/seen_architectures.h"

namespace nascent {

namespace {

/// Finite value lists, as for the factorised policy.
constexpr int64_t kMaxIntegerValues = 64;
constexpr int64_t kRepresentatives = 16;

/// ENAS bounds the controller's logits: tanh_constant * tanh(logits / temperature).
constexpr double kTanhConstant = 2.5;
constexpr double kTemperature = 5.0;

/// ENAS's initialisation range of every controller weight.
constexpr double kInitRange = 0.1;

bool is_active(const Decision& decision, const Architecture& partial) {
  return std::all_of(decision.conditions.begin(), decision.conditions.end(),
                     [&](const Condition& condition) { return condition.holds(partial); });
}

}  // namespace

struct LstmReinforce::Model {
  Model(const SearchSpace& space, int64_t hidden_size)
      : values(space, kMaxIntegerValues, kRepresentatives), cell(hidden_size, hidden_size) {
    start = torch::zeros({1, hidden_size});
    parameters = cell->parameters();
    parameters.push_back(start);
    for (int64_t d = 0; d < values.decision_count(); ++d) {
      const auto count = static_cast<int64_t>(values.values(d).size());
      heads.emplace_back(torch::nn::LinearOptions(hidden_size, count));
      embeddings.emplace_back(torch::nn::EmbeddingOptions(count, hidden_size));
      for (const auto& parameter : heads.back()->parameters()) parameters.push_back(parameter);
      for (const auto& parameter : embeddings.back()->parameters()) parameters.push_back(parameter);
    }
  }

  void initialise(Rng& rng) {
    torch::NoGradGuard no_grad;
    for (auto& parameter : parameters) {
      auto flat = parameter.view({-1});
      auto accessor = flat.accessor<float, 1>();
      for (int64_t i = 0; i < flat.numel(); ++i) {
        accessor[i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * kInitRange);
      }
      parameter.set_requires_grad(true);
    }
  }

  /// Logits of decision d from the hidden state. // [1, values of d]
  torch::Tensor logits(int64_t d, const torch::Tensor& hidden) {
    return kTanhConstant *
           torch::tanh(heads[static_cast<size_t>(d)]->forward(hidden) / kTemperature);
  }

  internal::DecisionValues values;
  torch::nn::LSTMCell cell;
  torch::Tensor start;  // [1, hidden]
  std::vector<torch::nn::Linear> heads;
  std::vector<torch::nn::Embedding> embeddings;
  std::vector<torch::Tensor> parameters;
  std::unique_ptr<torch::optim::Adam> optimizer;
  std::unique_ptr<internal::SeenArchitectures> seen;
  internal::AdvantageEstimator advantage{0.9};
};

void register_torch_strategies() {
  set_lstm_controller_maker(
      [](const StrategyOptions& options, const SearchSpace& space, uint64_t seed) {
        return std::make_unique<LstmReinforce>(space, seed, options);
      });
}

LstmReinforce::LstmReinforce(const SearchSpace& space, uint64_t seed,
                             const StrategyOptions& options)
    : space_(space),
      rng_(seed),
      options_(options),
      model_(std::make_unique<Model>(space, options.hidden_size)) {
  model_->initialise(rng_);
  model_->optimizer = std::make_unique<torch::optim::Adam>(
      model_->parameters, torch::optim::AdamOptions(options.controller_learning_rate));
  model_->seen = std::make_unique<internal::SeenArchitectures>(space, options.enumeration_limit);
  model_->advantage = internal::AdvantageEstimator(options.baseline_decay);
}

LstmReinforce::~LstmReinforce() = default;

std::optional<Architecture> LstmReinforce::ask() {
  if (model_->seen->exhausted()) return std::nullopt;
  torch::NoGradGuard no_grad;

  Architecture architecture;
  torch::Tensor input = model_->start;
  std::optional<std::tuple<torch::Tensor, torch::Tensor>> state;
  const auto& decisions = space_.decisions();
  for (size_t d = 0; d < decisions.size(); ++d) {
    if (!is_active(decisions[d], architecture)) continue;
    auto [hidden, cell] =
        state ? model_->cell->forward(input, *state) : model_->cell->forward(input);
    state = std::make_tuple(hidden, cell);

    const torch::Tensor probabilities =
        torch::softmax(model_->logits(static_cast<int64_t>(d), hidden), 1).to(torch::kDouble);
    const auto accessor = probabilities.accessor<double, 2>();
    const double draw = rng_.uniform();
    double cumulative = 0.0;
    int64_t chosen = probabilities.size(1) - 1;
    for (int64_t i = 0; i < probabilities.size(1); ++i) {
      cumulative += accessor[0][i];
      if (draw < cumulative) {
        chosen = i;
        break;
      }
    }
    architecture.set(decisions[d].name,
                     model_->values.values(static_cast<int64_t>(d))[static_cast<size_t>(chosen)]);
    input = model_->embeddings[d]->forward(torch::tensor({chosen}, torch::kLong));
  }

  model_->seen->insert(architecture.hash());
  return architecture;
}

void LstmReinforce::tell(const Architecture& architecture, const Observation& observation) {
  model_->seen->insert(model_->seen->key(architecture));

  // Reward, baseline and advantage scaling exactly as the factorised policy's.
  const auto advantage = model_->advantage.scaled_advantage(observation);
  if (!advantage) return;
  const double scaled_advantage = *advantage;

  // The log-probability of the architecture's choices, read in the space's order with the
  // chosen values fed back, as when it was sampled.
  torch::Tensor log_probability = torch::zeros({});
  torch::Tensor entropy = torch::zeros({});
  torch::Tensor input = model_->start;
  std::optional<std::tuple<torch::Tensor, torch::Tensor>> state;
  const auto& decisions = space_.decisions();
  for (size_t d = 0; d < decisions.size(); ++d) {
    if (!architecture.has(decisions[d].name)) continue;
    const auto chosen =
        model_->values.index_of(static_cast<int64_t>(d), architecture.get(decisions[d].name));
    if (!chosen) continue;
    auto [hidden, cell] =
        state ? model_->cell->forward(input, *state) : model_->cell->forward(input);
    state = std::make_tuple(hidden, cell);

    const torch::Tensor log_probabilities =
        torch::log_softmax(model_->logits(static_cast<int64_t>(d), hidden), 1);  // [1, values]
    log_probability = log_probability + log_probabilities[0][*chosen];
    entropy = entropy - (log_probabilities.exp() * log_probabilities).sum();
    input = model_->embeddings[d]->forward(torch::tensor({*chosen}, torch::kLong));
  }

  const torch::Tensor loss =
      -(scaled_advantage * log_probability + options_.entropy_weight * entropy);
  model_->optimizer->zero_grad();
  loss.backward();
  model_->optimizer->step();
}

std::vector<double> LstmReinforce::first_decision_probabilities() const {
  torch::NoGradGuard no_grad;
  auto [hidden, cell] = model_->cell->forward(model_->start);
  const torch::Tensor probabilities =
      torch::softmax(model_->logits(0, hidden), 1).to(torch::kDouble).contiguous();
  return {probabilities.data_ptr<double>(),
          probabilities.data_ptr<double>() + probabilities.numel()};
}

}  // namespace nascent
