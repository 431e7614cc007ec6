#include "nascent/space/search_space.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "nascent/core/error.h"
#include "nascent/core/random.h"
#include "nascent/space/architecture.h"

#include "error_expectations.h"

namespace nascent {
namespace {

using testing_support::error_message;

/// A small space with both kinds of condition:
///   depth  in [1, 3]
///   op     conv, pool or identity
///   width  16 or 32, only for conv
///   kernel 3 or 5, only for conv and pool
///   extra  a or b, only when depth >= 2
/// Hand count: (depth, extra) gives 1 + 2 + 2 = 5 combinations; (op, width, kernel) gives
/// conv 2 * 2 = 4, pool 2, identity 1, so 7; in all 5 * 7 = 35 architectures.
SearchSpace conditional_space() {
  SearchSpace space;
  space.add(Decision::integer("depth", 1, 3));
  space.add(Decision::categorical("op", {"conv", "pool", "identity"}));
  space.add(
      Decision::categorical("width", {"16", "32"}).when(Condition::one_of_values("op", {"conv"})));
  space.add(Decision::categorical("kernel", {"3", "5"})
                .when(Condition::one_of_values("op", {"conv", "pool"})));
  space.add(Decision::categorical("extra", {"a", "b"}).when(Condition::at_least_value("depth", 2)));
  return space;
}

/// The conditional space plus a learning rate on a log scale and a conditional float.
SearchSpace mixed_space() {
  SearchSpace space = conditional_space();
  space.add(Decision::real("lr", 1e-4, 1e-1, /*log_scale=*/true));
  space.add(Decision::real("momentum", 0.5, 0.99).when(Condition::one_of_values("extra", {"b"})));
  return space;
}

TEST(SearchSpace, SampleSetsOnlyActiveDecisions) {
  const SearchSpace space = mixed_space();
  Rng rng(1);
  std::set<std::string> seen_ops;
  for (int i = 0; i < 500; ++i) {
    const Architecture architecture = space.sample(rng);
    SCOPED_TRACE(architecture.to_string());
    EXPECT_NO_THROW(space.validate(architecture));

    const int64_t depth = architecture.get_int("depth");
    const std::string& op = architecture.get("op");
    seen_ops.insert(op);
    EXPECT_EQ(architecture.has("width"), op == "conv");
    EXPECT_EQ(architecture.has("kernel"), op == "conv" || op == "pool");
    EXPECT_EQ(architecture.has("extra"), depth >= 2);
    EXPECT_EQ(architecture.has("momentum"),
              architecture.has("extra") && architecture.get("extra") == "b");
    EXPECT_TRUE(architecture.has("lr"));
  }
  EXPECT_EQ(seen_ops, (std::set<std::string>{"conv", "pool", "identity"}));
}

TEST(SearchSpace, CanonicalStringRoundTripsThroughParse) {
  const SearchSpace space = mixed_space();
  Rng rng(2);
  for (int i = 0; i < 500; ++i) {
    const Architecture architecture = space.sample(rng);
    const std::string text = architecture.to_string();
    const Architecture parsed = space.parse(text);
    EXPECT_EQ(parsed, architecture) << text;
    EXPECT_EQ(parsed.to_string(), text);
  }
}

TEST(SearchSpace, ParseReordersIntoCanonicalOrder) {
  const SearchSpace space = conditional_space();
  const Architecture parsed = space.parse("extra=b kernel=5 op=conv  depth=2 width=32");
  EXPECT_EQ(parsed.to_string(), "depth=2 op=conv width=32 kernel=5 extra=b");

  // Every shuffle of a sampled architecture's tokens parses back to the same canonical string.
  Rng rng(3);
  for (int i = 0; i < 100; ++i) {
    const Architecture architecture = space.sample(rng);
    std::vector<std::pair<std::string, std::string>> tokens = architecture.values();
    for (int64_t j = static_cast<int64_t>(tokens.size()) - 1; j > 0; --j) {
      std::swap(tokens[static_cast<size_t>(j)], tokens[static_cast<size_t>(rng.index(j + 1))]);
    }
    std::string shuffled;
    for (const auto& [name, value] : tokens) shuffled += name + "=" + value + " ";
    EXPECT_EQ(space.parse(shuffled).to_string(), architecture.to_string()) << shuffled;
  }
}

TEST(SearchSpace, ParseRefusesMalformedText) {
  const SearchSpace space = conditional_space();
  EXPECT_EQ(error_message([&] { space.parse("depth=1 op"); }),
            "architecture string: expected 'decision=value' at character 9, found 'op'");
  EXPECT_EQ(error_message([&] { space.parse("depth=1 op= kernel=3"); }),
            "architecture string: expected 'decision=value' at character 9, found 'op='");
  EXPECT_EQ(error_message([&] { space.parse("depth=1 depth=2 op=identity"); }),
            "architecture string: decision 'depth' appears twice");
}

TEST(SearchSpace, ValidateNamesAnUnknownDecisionWithASuggestion) {
  const SearchSpace space = conditional_space();
  EXPECT_EQ(error_message([&] { space.parse("depth=1 op=conv width=16 kernal=3"); }),
            "architecture: unknown decision 'kernal' (did you mean 'kernel'?)");
  EXPECT_EQ(error_message([&] { space.parse("depth=1 op=identity optimizer=sgd"); }),
            "architecture: unknown decision 'optimizer'");
}

TEST(SearchSpace, ValidateNamesAMissingActiveDecision) {
  const SearchSpace space = conditional_space();
  EXPECT_EQ(error_message([&] { space.parse("depth=1 op=conv kernel=3"); }),
            "architecture: decision 'width' is active but has no value; expected one of 16 or 32");
  EXPECT_EQ(error_message([&] { space.parse("depth=3 op=identity"); }),
            "architecture: decision 'extra' is active but has no value; expected one of a or b");
}

TEST(SearchSpace, ValidateNamesAnInactiveDecisionThatIsSet) {
  const SearchSpace space = conditional_space();
  EXPECT_EQ(error_message([&] { space.parse("depth=1 op=identity extra=a"); }),
            "architecture: decision 'extra' is set to 'a' but is inactive given the earlier "
            "decisions");
  EXPECT_EQ(error_message([&] { space.parse("depth=1 op=pool width=16 kernel=3"); }),
            "architecture: decision 'width' is set to '16' but is inactive given the earlier "
            "decisions");
}

TEST(SearchSpace, ValidateNamesAnOutOfDomainValue) {
  const SearchSpace space = mixed_space();
  EXPECT_EQ(error_message([&] { space.parse("depth=4 op=identity extra=a lr=0.01"); }),
            "architecture: decision 'depth': expected an integer in [1, 3], found '4'");
  EXPECT_EQ(error_message([&] { space.parse("depth=one op=identity lr=0.01"); }),
            "architecture: decision 'depth': expected an integer in [1, 3], found 'one'");
  EXPECT_EQ(error_message([&] { space.parse("depth=1 op=dense lr=0.01"); }),
            "architecture: decision 'op': expected one of conv, pool or identity, found 'dense'");
  EXPECT_EQ(error_message([&] { space.parse("depth=1 op=identity lr=0.5"); }),
            "architecture: decision 'lr': expected a number in [0.0001, 0.1] (log scale), found "
            "'0.5'");
}

TEST(SearchSpace, CountAndEnumerateMatchTheHandCount) {
  const SearchSpace space = conditional_space();
  EXPECT_EQ(space.count(1000), 35);
  EXPECT_EQ(space.count(35), 35);
  EXPECT_EQ(space.count(34), std::nullopt);

  const std::vector<Architecture> all = space.enumerate(1000);
  ASSERT_EQ(all.size(), 35u);
  EXPECT_EQ(all.front().to_string(), "depth=1 op=conv width=16 kernel=3");
  EXPECT_EQ(all.back().to_string(), "depth=3 op=identity extra=b");

  std::set<std::string> distinct;
  std::set<uint64_t> hashes;
  for (const auto& architecture : all) {
    EXPECT_NO_THROW(space.validate(architecture)) << architecture.to_string();
    distinct.insert(architecture.to_string());
    hashes.insert(architecture.hash());
  }
  EXPECT_EQ(distinct.size(), 35u);
  EXPECT_EQ(hashes.size(), 35u);

  EXPECT_EQ(error_message([&] { space.enumerate(34); }),
            "search space: cannot enumerate: more than 34 architectures or a continuous decision");
}

TEST(SearchSpace, CountIsUnknownWithAnActiveFloatDecision) {
  EXPECT_EQ(mixed_space().count(1000000), std::nullopt);

  // A float range of a single value is as good as a constant.
  SearchSpace space = conditional_space();
  space.add(Decision::real("lr", 0.01, 0.01));
  EXPECT_EQ(space.count(1000), 35);
}

TEST(SearchSpace, MutateChangesExactlyOneDecisionWhenNoConditionIsAffected) {
  // Without conditions every mutation changes exactly one value and keeps the names.
  SearchSpace flat;
  flat.add(Decision::integer("depth", 1, 3));
  flat.add(Decision::categorical("op", {"conv", "pool", "identity"}));
  flat.add(Decision::real("lr", 1e-4, 1e-1, /*log_scale=*/true));
  Rng rng(4);
  for (int i = 0; i < 300; ++i) {
    const Architecture parent = flat.sample(rng);
    const Architecture child = flat.mutate(parent, rng);
    ASSERT_EQ(child.values().size(), parent.values().size());
    int64_t changed = 0;
    for (size_t j = 0; j < parent.values().size(); ++j) {
      EXPECT_EQ(child.values()[j].first, parent.values()[j].first);
      if (child.values()[j].second != parent.values()[j].second) ++changed;
    }
    EXPECT_EQ(changed, 1) << parent.to_string() << " -> " << child.to_string();
    EXPECT_NO_THROW(flat.validate(child));
  }

  // With conditions: when the set of active decisions is unchanged, exactly one value changed;
  // otherwise the change was to a decision others depend on (depth or op).
  const SearchSpace space = mixed_space();
  int64_t same_names = 0;
  for (int i = 0; i < 500; ++i) {
    const Architecture parent = space.sample(rng);
    const Architecture child = space.mutate(parent, rng);
    SCOPED_TRACE(parent.to_string() + " -> " + child.to_string());
    EXPECT_NO_THROW(space.validate(child));

    std::vector<std::string> parent_names, child_names;
    for (const auto& entry : parent.values()) parent_names.push_back(entry.first);
    for (const auto& entry : child.values()) child_names.push_back(entry.first);
    if (parent_names == child_names) {
      ++same_names;
      int64_t changed = 0;
      for (size_t j = 0; j < parent.values().size(); ++j) {
        if (child.values()[j].second != parent.values()[j].second) ++changed;
      }
      EXPECT_EQ(changed, 1);
    } else {
      const bool depth_changed = parent.get("depth") != child.get("depth");
      const bool op_changed = parent.get("op") != child.get("op");
      const bool extra_changed =
          parent.has("extra") && child.has("extra") && parent.get("extra") != child.get("extra");
      EXPECT_TRUE(depth_changed || op_changed || extra_changed);
    }
  }
  EXPECT_GT(same_names, 100);
}

TEST(SearchSpace, SameSeedGivesTheSameSamples) {
  const SearchSpace space = mixed_space();
  Rng first(42), second(42), other(43);
  std::vector<std::string> from_first, from_second, from_other;
  for (int i = 0; i < 50; ++i) {
    from_first.push_back(space.sample(first).to_string());
    from_second.push_back(space.sample(second).to_string());
    from_other.push_back(space.sample(other).to_string());
  }
  EXPECT_EQ(from_first, from_second);
  EXPECT_NE(from_first, from_other);

  // Mutation is seeded too.
  Rng mutate_first(5), mutate_second(5);
  const Architecture parent =
      space.parse("depth=2 op=conv width=16 kernel=3 extra=b lr=0.001 momentum=0.9");
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(space.mutate(parent, mutate_first), space.mutate(parent, mutate_second));
  }
}

TEST(SearchSpace, AddRejectsAConditionOnAnUndeclaredDecision) {
  SearchSpace space;
  space.add(Decision::integer("depth", 1, 3));
  EXPECT_EQ(
      error_message([&] {
        space.add(
            Decision::categorical("width", {"16"}).when(Condition::one_of_values("op", {"conv"})));
      }),
      "search space: decision 'width' depends on 'op', which is not declared before it");
  // The failed decision was not added: declaring it again after 'op' works.
  space.add(Decision::categorical("op", {"conv"}));
  EXPECT_NO_THROW(space.add(
      Decision::categorical("width", {"16"}).when(Condition::one_of_values("op", {"conv"}))));
  EXPECT_EQ(space.decisions().size(), 3u);
}

TEST(SearchSpace, AddRejectsADuplicateName) {
  SearchSpace space;
  space.add(Decision::integer("depth", 1, 3));
  EXPECT_EQ(error_message([&] {
              space.add(Decision::categorical("depth", {"1", "2"}));
            }),
            "search space: decision 'depth' is declared twice");
  EXPECT_EQ(space.decisions().size(), 1u);
}

TEST(SearchSpace, AddRejectsUnusableDomains) {
  SearchSpace space;
  EXPECT_EQ(error_message([&] { space.add(Decision::categorical("op", {})); }),
            "search space: decision 'op' expected at least one choice, found none");
  EXPECT_EQ(error_message([&] { space.add(Decision::integer("depth", 3, 1)); }),
            "search space: decision 'depth' expected min <= max, found [3, 1]");
  EXPECT_EQ(error_message([&] { space.add(Decision::real("lr", 0, 1, true)); }),
            "search space: decision 'lr' is on a log scale: expected min > 0, found 0");
}

TEST(SearchSpace, FloatSamplesStayInRangeOnALogScale) {
  const Decision lr = Decision::real("lr", 1e-4, 1e-1, /*log_scale=*/true);
  Rng rng(6);
  constexpr int kSamples = 3000;
  int per_decade[3] = {0, 0, 0};
  for (int i = 0; i < kSamples; ++i) {
    const std::string text = lr.sample(rng);
    const double value = std::stod(text);
    ASSERT_GE(value, 1e-4) << text;
    ASSERT_LE(value, 1e-1) << text;
    EXPECT_TRUE(lr.accepts(text, nullptr)) << text;
    const int decade = std::clamp(static_cast<int>(std::floor(std::log10(value) + 4)), 0, 2);
    ++per_decade[decade];
  }

  // Uniform in log space puts a third of the draws in each decade; a linear scale would put
  // about 90% in [1e-2, 1e-1]. Tolerance: about five standard deviations (sqrt(3000*2/9) ~ 26).
  for (int decade = 0; decade < 3; ++decade) {
    EXPECT_NEAR(per_decade[decade], kSamples / 3, 130) << "decade " << decade;
  }
}

TEST(SearchSpace, LinearFloatSamplesStayInRange) {
  const Decision momentum = Decision::real("momentum", 0.5, 0.99);
  Rng rng(7);
  int upper_half = 0;
  for (int i = 0; i < 2000; ++i) {
    const double value = std::stod(momentum.sample(rng));
    ASSERT_GE(value, 0.5);
    ASSERT_LE(value, 0.99);
    if (value > 0.745) ++upper_half;
  }
  EXPECT_NEAR(upper_half, 1000, 120);
}

TEST(SearchSpace, EqualStringsHashEqual) {
  const SearchSpace space = conditional_space();
  const Architecture written = space.parse("depth=2 op=pool kernel=5 extra=a");
  const Architecture shuffled = space.parse("extra=a kernel=5 depth=2 op=pool");
  EXPECT_EQ(written.to_string(), shuffled.to_string());
  EXPECT_EQ(written.hash(), shuffled.hash());
  EXPECT_EQ(written.hash_hex(), shuffled.hash_hex());
  EXPECT_EQ(written.hash_hex().size(), 16u);

  const Architecture other = space.parse("depth=2 op=pool kernel=3 extra=a");
  EXPECT_NE(written.hash(), other.hash());
}

}  // namespace
}  // namespace nascent

namespace nascent {
namespace {

// Rounding to four significant digits must never push a sample across a bound that has more
// digits (0.99999 would round to 1).
TEST(SearchSpace, RoundedFloatSamplesStayInsideBoundsWithManyDigits) {
  const Decision decision = Decision::real("y", 0.5, 0.99999);
  Rng rng(5);
  for (int i = 0; i < 20000; ++i) {
    const std::string value = decision.sample(rng);
    std::string problem;
    ASSERT_TRUE(decision.accepts(value, &problem)) << problem;
  }
}

}  // namespace
}  // namespace nascent
