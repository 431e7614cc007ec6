#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "nascent/strategy/strategy.h"

namespace nascent {

namespace internal {
class SeenArchitectures;
}  // namespace internal

/// Local search (hill climbing) with random restarts, as studied for NAS by White, Nolen and
/// Savani, "Exploring the Loss Landscape in Neural Architecture Search", UAI 2021 (first
/// circulated as "Local Search is State of the Art for NAS Benchmarks").
///
/// Starts from a random architecture and evaluates its neighbours (SearchSpace::neighbours:
/// every architecture one active decision away) in random order. With `first_improvement`
/// it moves to the first neighbour that beats the current architecture; otherwise it evaluates
/// the whole neighbourhood and moves to the best neighbour if that one is better. When the whole
/// neighbourhood has been evaluated and none is better, the current architecture is a local
/// optimum and the search restarts from a new random architecture. Neighbours whose result is
/// already known (from earlier climbs, or told from a resumed study) are judged without being
/// proposed again.
class LocalSearch : public Strategy {
 public:
  /// The first climb starts from the best of `initial_random` random architectures (1: from a
  /// single random one).
  LocalSearch(const SearchSpace& space, uint64_t seed, bool first_improvement,
              int64_t enumeration_limit, int64_t initial_random = 1);
  ~LocalSearch() override;

  std::string name() const override { return "local"; }
  std::optional<Architecture> ask() override;

  /// Records the result. Only complete observations with a finite objective can be climbed
  /// to; failed, invalid and pruned ones count as worse than any architecture.
  void tell(const Architecture& architecture, const Observation& observation) override;

  /// The architecture whose neighbourhood is being searched; nullopt before the first start
  /// and between a local optimum and the next start (for tests).
  const std::optional<Architecture>& current() const { return current_; }

  /// Local optima reached so far; each one caused a restart (for tests).
  int64_t local_optima() const { return local_optima_; }

 private:
  /// Makes `architecture` the current one and lists its neighbours in random order.
  void move_to(const Architecture& architecture, double objective);

  /// Judges a neighbour whose objective is known; may move (first improvement). `neighbour` must
  /// not live in unjudged_, which a move rebuilds.
  void judge(const Architecture& neighbour, double objective);

  /// The next starting point to propose, or nullopt if the space is exhausted.
  std::optional<Architecture> propose_start();

  /// Makes the best known result the current architecture; false when none has an objective.
  bool move_to_best_known();

  const SearchSpace& space_;
  Rng rng_;
  bool first_improvement_;
  std::unique_ptr<internal::SeenArchitectures> seen_;
  /// Every architecture told so far, by key: the architecture and its objective (-infinity when
  /// it has none).
  std::unordered_map<uint64_t, std::pair<Architecture, double>> known_;

  std::optional<Architecture> current_;
  double current_objective_ = 0.0;
  /// Neighbours of current_ not judged yet; the next one is at the back.
  std::vector<Architecture> unjudged_;
  /// Best neighbour judged so far (whole-neighbourhood mode).
  std::optional<std::pair<Architecture, double>> best_neighbour_;

  /// The last proposal, until its result is told.
  std::optional<uint64_t> awaiting_;
  /// A proposed starting point, until its result is told.
  std::optional<Architecture> start_;
  bool started_ = false;
  int64_t initial_random_ = 1;
  int64_t initial_proposed_ = 0;
  bool initial_done_ = false;
  int64_t local_optima_ = 0;
};

}  // namespace nascent
