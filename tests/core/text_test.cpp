#include "nascent/core/text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "nascent/core/random.h"

namespace nascent {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0);
  EXPECT_EQ(edit_distance("abc", "abc"), 0);
  EXPECT_EQ(edit_distance("", "abc"), 3);
  EXPECT_EQ(edit_distance("abc", ""), 3);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3);
  EXPECT_EQ(edit_distance("conv", "cnv"), 1);          // one deletion
  EXPECT_EQ(edit_distance("sepconv", "sep_conv"), 1);  // one insertion
  EXPECT_EQ(edit_distance("budget", "budgte"), 2);     // a swap is two substitutions
}

TEST(EditDistance, IsSymmetric) {
  const std::vector<std::string> words = {"", "relu", "relu6", "gelu", "silu", "learning_rate"};
  for (const auto& a : words) {
    for (const auto& b : words) {
      EXPECT_EQ(edit_distance(a, b), edit_distance(b, a)) << a << " / " << b;
    }
  }
}

TEST(ClosestMatch, SuggestsTheCandidateATypoCameFrom) {
  const std::vector<std::string> keys = {"study", "seed", "data", "space", "budget", "train"};
  EXPECT_EQ(closest_match("budgte", keys), "budget");
  EXPECT_EQ(closest_match("spce", keys), "space");
  EXPECT_EQ(closest_match("trainn", keys), "train");
  EXPECT_EQ(closest_match("seed", keys), "seed");
}

TEST(ClosestMatch, SuggestsNothingForAnUnrelatedWord) {
  const std::vector<std::string> keys = {"study", "seed", "data", "space", "budget", "train"};
  EXPECT_EQ(closest_match("optimizer", keys), std::nullopt);
  EXPECT_EQ(closest_match("xyz", keys), std::nullopt);
  EXPECT_EQ(closest_match("budget", {}), std::nullopt);
}

TEST(JoinChoices, ListsWithCommasAndOr) {
  EXPECT_EQ(join_choices({}), "");
  EXPECT_EQ(join_choices({"a"}), "a");
  EXPECT_EQ(join_choices({"a", "b"}), "a or b");
  EXPECT_EQ(join_choices({"a", "b", "c"}), "a, b or c");
  EXPECT_EQ(join_choices({"conv", "sep_conv", "mbconv", "identity"}),
            "conv, sep_conv, mbconv or identity");
}

TEST(FormatDouble, WritesTheShortestText) {
  EXPECT_EQ(format_double(0.5), "0.5");
  EXPECT_EQ(format_double(1e-05), "1e-05");
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(0.0), "0");
  EXPECT_EQ(format_double(64.0), "64");
  EXPECT_EQ(format_double(-2.25), "-2.25");
}

TEST(FormatDouble, ReadsBackToTheSameDouble) {
  std::vector<double> values = {0.1 + 0.2,
                                1.0 / 3.0,
                                std::sqrt(2.0),
                                6.02214076e23,
                                std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::denorm_min(),
                                -1e-300};
  Rng rng(7);
  for (int i = 0; i < 1000; ++i) {
    // Spread over many magnitudes: mantissa in [0, 1), exponent in [-40, 40].
    values.push_back(rng.uniform() * std::pow(10.0, static_cast<double>(rng.integer(-40, 40))));
  }

  for (const double value : values) {
    const std::string text = format_double(value);
    // strtod, not stod: stod throws on the subnormal values the list includes.
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), value) << text;
  }
}

TEST(Fnv1a64, MatchesIndependentlyComputedValues) {
  // The empty string hashes to the FNV-1a 64-bit offset basis.
  EXPECT_EQ(fnv1a_64(""), 0xcbf29ce484222325ULL);
  // The next two were computed in Python, outside nascent:
  //   h = 0xcbf29ce484222325
  //   for c in b"a": h = ((h ^ c) * 0x100000001b3) % 2**64
  //   print(hex(h))
  // The value for "a" is also the published FNV-1a 64-bit test vector.
  EXPECT_EQ(fnv1a_64("a"), 0xaf63dc4c8601ec8cULL);
  // Same loop over b"nascent".
  EXPECT_EQ(fnv1a_64("nascent"), 0xe3c26f7757d3ee1bULL);
}

TEST(Fnv1a64, AgreesWithAByteLoopOnArchitectureStrings) {
  // A plain restatement of FNV-1a: xor each byte into the hash, then multiply by the prime.
  const auto reference = [](const std::string& text) {
    uint64_t hash = 14695981039346656037ULL;  // offset basis
    for (const char c : text) {
      hash ^= static_cast<uint8_t>(c);
      hash *= 1099511628211ULL;  // FNV prime 2^40 + 2^8 + 0xb3
    }
    return hash;
  };
  for (const std::string text :
       {"stem.width=16", "stages=2 s1.depth=1 s1.downsample=none", "\xff\x80 high bytes"}) {
    EXPECT_EQ(fnv1a_64(text), reference(text)) << text;
  }
  EXPECT_NE(fnv1a_64("stem.width=16"), fnv1a_64("stem.width=32"));
}

TEST(Utf8, FindsTheFirstByteThatIsNotUtf8) {
  EXPECT_EQ(first_invalid_utf8("plain"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("caf\xe9"), 3u);           // Latin-1, not UTF-8
  EXPECT_EQ(first_invalid_utf8("ab\xc3"), 2u);            // cut off
  EXPECT_EQ(first_invalid_utf8("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(first_invalid_utf8("x\xed\xa0\x80"), 1u);     // a surrogate
  EXPECT_EQ(first_invalid_utf8("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(first_invalid_utf8("\xff"), 0u);
}

TEST(Utf8, EscapesOnlyTheBytesThatAreNotUtf8) {
  EXPECT_EQ(escape_invalid_utf8("caf\xe9\xff"), "caf\\xE9\\xFF");
  EXPECT_EQ(escape_invalid_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(CountOf, IsSingularForOne) {
  EXPECT_EQ(count_of(1, "epoch"), "1 epoch");
  EXPECT_EQ(count_of(0, "run"), "0 runs");
  EXPECT_EQ(count_of(3, "run"), "3 runs");
}

}  // namespace
}  // namespace nascent
