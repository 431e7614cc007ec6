#include "nascent/strategy/bayesian_optimization.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "strategy/internal/decision_values.h"
#include "strategy/internal/seen_architectures.h"

namespace nascent {

namespace {

/// Hyperparameter grid. Distances lie in [0, 1] and one changed decision of D moves an
/// architecture by 1/D, so these length scales run from "neighbours are unrelated" to "the whole
/// space is alike" for spaces of a handful to a hundred decisions. Noise ratios are relative to
/// the signal variance of standardised targets.
const std::vector<double> kLengthScales = {0.03, 0.06, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0};
const std::vector<double> kNoiseRatios = {1e-4, 1e-2, 0.1, 0.5};

/// Below this many points the grid is re-run on every result (it costs little); beyond, only
/// when the model has grown by a fifth, and the factor is extended in between. The most likely
/// hyperparameters change slowly as points accumulate; a grid search at 150 points costs
/// several asks' worth of time.
constexpr int64_t kAlwaysRefitBelow = 30;

/// Random draws for an unseen architecture before listing the unseen members.
constexpr int64_t kSampleAttempts = 100;

/// Draws per candidate wanted before the pool is accepted as smaller than asked.
constexpr int64_t kPoolAttemptsPerCandidate = 4;

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

double normal_pdf(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi); }

}  // namespace

BayesianOptimizationOptions BayesianOptimizationOptions::bananas() {
  BayesianOptimizationOptions options;
  options.surrogate = Surrogate::kEnsemble;
  options.acquisition = Acquisition::kIndependentThompson;
  options.use_features = true;
  options.batch = 10;
  return options;
}

BayesianOptimization::BayesianOptimization(const SearchSpace& space, uint64_t seed,
                                           BayesianOptimizationOptions options)
    : space_(space),
      rng_(seed),
      options_(options),
      encoder_(std::make_unique<internal::ArchitectureEncoder>(space, options.use_features)),
      ensemble_encoder_(std::make_unique<internal::OneHotEncoder>(space, options.use_features)),
      seen_(std::make_unique<internal::SeenArchitectures>(space, options.enumeration_limit)),
      model_(kLengthScales, kNoiseRatios, encoder_->component_count(), options.relevance),
      ensemble_(options.ensemble) {}

std::vector<float> BayesianOptimization::ensemble_inputs(const Architecture& architecture) const {
  return ensemble_encoder_->encode(architecture);
}

double BayesianOptimization::standard_normal() {
  // 1 - uniform() lies in (0, 1], so the logarithm is finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - rng_.uniform()));
  return radius * std::cos(2.0 * std::numbers::pi * rng_.uniform());
}

BayesianOptimization::~BayesianOptimization() = default;

Architecture BayesianOptimization::propose(Architecture architecture) {
  seen_->insert(seen_->key(architecture));
  return architecture;
}

std::optional<Architecture> BayesianOptimization::ask() {
  if (seen_->exhausted()) return std::nullopt;

  // Too few results for a model: explore uniformly.
  if (static_cast<int64_t>(observations_.size()) < options_.initial_random) {
    if (auto sample = seen_->sample_unseen(rng_, kSampleAttempts)) return propose(*sample);
    return seen_->exhausted() ? std::nullopt : std::optional(propose(space_.sample(rng_)));
  }

  // The rest of the last fit's choice, unless told meanwhile (a resumed or shared study).
  while (!queued_.empty()) {
    Architecture next = std::move(queued_.front());
    queued_.pop_front();
    if (!seen_->contains(seen_->key(next))) return propose(std::move(next));
  }

  const bool ensemble = options_.surrogate == BayesianOptimizationOptions::Surrogate::kEnsemble;
  if (ensemble) {
    ensemble_.fit(ensemble_inputs_, ensemble_encoder_->width(), targets(), rng_.next());
  } else {
    refresh_model();
  }

  std::vector<Architecture> candidates = ensemble ? mutation_pool() : candidate_pool();
  if (candidates.empty()) {
    // Every mutation and sample was seen: the space is nearly exhausted.
    if (auto sample = seen_->sample_unseen(rng_, kSampleAttempts)) return propose(*sample);
    return seen_->exhausted() ? std::nullopt : std::optional(propose(space_.sample(rng_)));
  }

  // The best `batch` candidates, best first; on ties the earlier candidate.
  const std::vector<double> values = acquisition_values(candidates);
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] > values[b]; });
  const auto chosen =
      std::min(order.size(), static_cast<size_t>(std::max<int64_t>(options_.batch, 1)));
  for (size_t i = 1; i < chosen; ++i) queued_.push_back(std::move(candidates[order[i]]));
  return propose(std::move(candidates[order.front()]));
}

std::vector<double> BayesianOptimization::targets() const {
  std::vector<double> result;
  result.reserve(observations_.size());
  for (const auto& [architecture, objective] : observations_) result.push_back(objective);
  return result;
}

void BayesianOptimization::tell(const Architecture& architecture, const Observation& observation) {
  const uint64_t key = seen_->key(architecture);
  seen_->insert(key);
  if (observation.state != TrialState::kComplete || !std::isfinite(observation.objective)) return;
  if (!modelled_.insert(key).second) return;

  if (options_.surrogate == BayesianOptimizationOptions::Surrogate::kEnsemble) {
    const std::vector<float> inputs = ensemble_encoder_->encode(architecture);
    ensemble_inputs_.insert(ensemble_inputs_.end(), inputs.begin(), inputs.end());
  } else {
    // Codes and distances now, so that ask() pays only for what changed.
    const std::vector<double> codes = encoder_->encode(architecture);
    const auto width = static_cast<size_t>(encoder_->width());
    const auto components = static_cast<size_t>(encoder_->component_count());
    std::vector<double> distances(observations_.size() * components);
    for (size_t i = 0; i < observations_.size(); ++i) {
      encoder_->components(codes.data(), codes_.data() + i * width,
                           distances.data() + i * components);
    }
    model_.add(distances, observation.objective);
    codes_.insert(codes_.end(), codes.begin(), codes.end());
  }
  observations_.emplace_back(internal::in_space_order(space_, architecture), observation.objective);
}

void BayesianOptimization::refresh_model() {
  if (model_.up_to_date()) return;
  const int64_t size = model_.size();
  if (size < kAlwaysRefitBelow || size >= next_full_fit_) {
    model_.fit();
    next_full_fit_ = size + std::max<int64_t>(1, size / 5);
  } else {
    model_.update();
  }
}

std::vector<Architecture> BayesianOptimization::candidate_pool() {
  // The parents: the best results so far.
  std::vector<size_t> order(observations_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const auto parent_count =
      std::min(order.size(), static_cast<size_t>(std::max<int64_t>(options_.parents, 1)));
  std::partial_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(parent_count), order.end(),
      [&](size_t a, size_t b) { return observations_[a].second > observations_[b].second; });

  std::vector<Architecture> pool;
  std::unordered_set<uint64_t> pooled;
  const auto add = [&](Architecture candidate) {
    const uint64_t key = candidate.hash();
    if (seen_->contains(key) || !pooled.insert(key).second) return;
    pool.push_back(std::move(candidate));
  };

  // Mostly local moves around the incumbents (one or two mutations), where improvement is
  // likely; some uniform samples so that the acquisition can also pick far-off regions.
  const int64_t random_count = options_.candidates / 5;
  const auto mutation_target = static_cast<size_t>(options_.candidates - random_count);
  for (int64_t attempt = 0;
       attempt < kPoolAttemptsPerCandidate * options_.candidates && pool.size() < mutation_target;
       ++attempt) {
    const size_t parent =
        order[static_cast<size_t>(rng_.index(static_cast<int64_t>(parent_count)))];
    Architecture child = space_.mutate(observations_[parent].first, rng_);
    if (rng_.uniform() < 0.5) child = space_.mutate(child, rng_);
    add(std::move(child));
  }
  const size_t target = static_cast<size_t>(options_.candidates);
  for (int64_t attempt = 0;
       attempt < kPoolAttemptsPerCandidate * options_.candidates && pool.size() < target;
       ++attempt) {
    add(space_.sample(rng_));
  }
  return pool;
}

std::vector<Architecture> BayesianOptimization::mutation_pool() {
  // The parents, best first.
  std::vector<size_t> order(observations_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return observations_[a].second > observations_[b].second;
  });
  const auto parent_count =
      std::min(order.size(), static_cast<size_t>(std::max<int64_t>(options_.parents, 1)));

  // BANANAS fills the pool from the best architecture's mutations and moves on to the next best
  // only when those run out: the acquisition then chooses among the incumbent's neighbours
  // first, which is where White, Neiswanger and Savani found mutation to beat other optimisers
  // of the acquisition. A parent gets as many draws as the pool has places, so that all its
  // neighbours are likely to be drawn in a small space.
  std::vector<Architecture> pool;
  std::unordered_set<uint64_t> pooled;
  const auto target = static_cast<size_t>(options_.candidates);
  for (size_t rank = 0; rank < parent_count && pool.size() < target; ++rank) {
    const Architecture& parent = observations_[order[rank]].first;
    for (int64_t draw = 0; draw < options_.candidates && pool.size() < target; ++draw) {
      Architecture child = space_.mutate(parent, rng_);
      const uint64_t key = child.hash();
      if (seen_->contains(key) || !pooled.insert(key).second) continue;
      pool.push_back(std::move(child));
    }
  }
  return pool;
}

std::vector<GaussianProcess::Prediction> BayesianOptimization::predictions(
    const std::vector<Architecture>& candidates) const {
  std::vector<GaussianProcess::Prediction> result;
  result.reserve(candidates.size());
  if (options_.surrogate == BayesianOptimizationOptions::Surrogate::kEnsemble) {
    for (const auto& candidate : candidates) {
      const std::vector<float> inputs = ensemble_encoder_->encode(candidate);
      const NeuralEnsemble::Prediction prediction = ensemble_.predict(inputs.data());
      result.push_back({prediction.mean, prediction.stddev});
    }
    return result;
  }

  const auto width = static_cast<size_t>(encoder_->width());
  const auto components = static_cast<size_t>(encoder_->component_count());
  std::vector<double> distances(observations_.size() * components);
  for (const auto& candidate : candidates) {
    const std::vector<double> codes = encoder_->encode(candidate);
    for (size_t i = 0; i < observations_.size(); ++i) {
      encoder_->components(codes.data(), codes_.data() + i * width,
                           distances.data() + i * components);
    }
    result.push_back(model_.predict(distances.data()));
  }
  return result;
}

std::vector<double> BayesianOptimization::acquisition_values(
    const std::vector<Architecture>& candidates) {
  double best_objective = observations_.front().second;
  for (const auto& [architecture, objective] : observations_) {
    best_objective = std::max(best_objective, objective);
  }

  std::vector<double> values;
  values.reserve(candidates.size());
  for (const GaussianProcess::Prediction& prediction : predictions(candidates)) {
    switch (options_.acquisition) {
      case BayesianOptimizationOptions::Acquisition::kUpperConfidenceBound:
        values.push_back(prediction.mean + options_.ucb_beta * prediction.stddev);
        break;
      case BayesianOptimizationOptions::Acquisition::kIndependentThompson:
        // Each candidate's own draw: with several proposals per fit, candidates whose value is
        // uncertain get their chance without a joint posterior.
        values.push_back(prediction.mean + prediction.stddev * standard_normal());
        break;
      case BayesianOptimizationOptions::Acquisition::kExpectedImprovement: {
        // Expected improvement over the best result (Jones, Schonlau and Welch 1998).
        const double improvement = prediction.mean - best_objective;
        if (prediction.stddev <= 0.0) {
          values.push_back(std::max(improvement, 0.0));
          break;
        }
        const double z = improvement / prediction.stddev;
        values.push_back(improvement * normal_cdf(z) + prediction.stddev * normal_pdf(z));
        break;
      }
    }
  }
  return values;
}

}  // namespace nascent
