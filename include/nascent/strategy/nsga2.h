#pragma once

#include <string>
#include <unordered_set>
#include <vector>

#include "nascent/strategy/strategy.h"

namespace nascent {

/// NSGA-II (Deb, Pratap, Agarwal and Meyarivan, "A Fast and Elitist Multiobjective Genetic
/// Algorithm: NSGA-II", IEEE Transactions on Evolutionary Computation 2002) over a search
/// space, as ask/tell. The first `population_size` observed architectures are random; then each
/// proposal takes two parents by binary tournament (lower front rank wins, then the larger
/// crowding distance), mixes their decisions uniformly and mutates one decision. Every
/// `population_size` new observations, parents and offspring are merged and the next
/// population keeps whole fronts of the constrained non-dominated sort, the last front cut by
/// crowding distance. Costs come from Observation::costs (or -objective when empty); failed,
/// invalid and pruned results are dropped.
class Nsga2 : public Strategy {
 public:
  /// One member of the population.
  struct Member {
    Architecture architecture;
    std::vector<double> costs;
    double violation = 0.0;
    /// 0 for the first front.
    int64_t rank = 0;
    double crowding = 0.0;
  };

  Nsga2(const SearchSpace& space, uint64_t seed, int64_t population_size);

  std::string name() const override { return "nsga2"; }
  std::optional<Architecture> ask() override;
  void tell(const Architecture& architecture, const Observation& observation) override;

  /// The current parent population (empty until the first generation is complete).
  const std::vector<Member>& population() const { return population_; }

  /// Environmental selection: the best `keep` of `candidates` by constrained front rank, then
  /// crowding distance; sets rank and crowding on the survivors. Public for tests.
  static std::vector<Member> select_survivors(std::vector<Member> candidates, int64_t keep);

 private:
  const Member& tournament();
  Architecture crossover(const Architecture& first, const Architecture& second);

  const SearchSpace& space_;
  Rng rng_;
  int64_t population_size_;
  std::vector<Member> population_;
  std::vector<Member> offspring_;
  /// Hashes of architectures in the population or offspring, so repeats are not counted twice.
  std::unordered_set<uint64_t> members_;
};

}  // namespace nascent
