#include "nascent/nn/batch_norm.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <utility>
#include <vector>

#include "nascent/core/error.h"

namespace nascent {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Where the kernel is faster than LibTorch's channels-last one (bench/batch_norm_kernel.cpp,
/// docs/benchmarks.md). LibTorch 1.13 is fast in channels-last only for channel counts that are
/// multiples of 8: at 4 and 12 channels it was 11 to 35 times slower than the kernel in training
/// and 4 to 13 times in evaluation. At 8 channels its training step was still 4 times slower; at
/// 16 and more (multiples of 8) it was as fast or faster.
bool kernel_is_faster(int64_t channels, bool training) {
  if (channels % 8 != 0) return true;
  return training && channels < 16;
}

/// The kernel walks the [rows, C] values of a channels-last tensor as consecutive groups of
/// `lanes` = lcm(C, 16) floats: element j of every group belongs to channel j % C, so per-channel
/// work becomes a loop over j with per-lane parameters, which the compiler vectorises whatever C
/// is, and 16 lanes give enough independent accumulators to hide the adds' latency.
constexpr int64_t kMinLanes = 16;
/// The most lanes the kernel handles (its accumulators live on the stack): every channel count up
/// to 64, and larger ones with enough factors of 2.
constexpr int64_t kMaxLanes = 1024;

/// Floats per unit of parallel work. Fixed, not derived from the thread count, so that the sums,
/// and so the results, do not depend on the threads.
constexpr int64_t kElementsPerChunk = 16384;

/// Floats summed in float before they are added to double sums: short enough runs to keep the
/// rounding error far below what training notices.
constexpr int64_t kElementsPerBlock = 1024;

/// The lane layout of one tensor.
struct Lanes {
  int64_t channels = 0;
  int64_t lanes = 0;
  int64_t elements = 0;
  /// Whole groups of `lanes` elements; the remaining elements (fewer than `lanes`) are the tail.
  int64_t groups = 0;

  Lanes(int64_t channels, int64_t elements)
      : channels(channels),
        lanes(std::lcm(channels, kMinLanes)),
        elements(elements),
        groups(elements / lanes) {}

  /// Per-channel values repeated across the lanes: lane j gets per_channel[j % C].
  std::vector<float> spread(const std::vector<float>& per_channel) const {
    std::vector<float> per_lane(static_cast<size_t>(lanes));
    for (int64_t j = 0; j < lanes; ++j) per_lane[j] = per_channel[j % channels];
    return per_lane;
  }
};

/// Calls body(std::integral_constant<int64_t, L>) with the lane count as a compile-time constant
/// for the channel counts networks have (the loops over lanes then unroll and keep their
/// accumulators in registers), and with 0 (read it at run time) for the others.
template <typename Body>
void dispatch_lanes(int64_t lanes, const Body& body) {
  switch (lanes) {
    case 16:  // C = 1, 2, 4, 8, 16
      return body(std::integral_constant<int64_t, 16>{});
    case 32:
      return body(std::integral_constant<int64_t, 32>{});
    case 48:  // C = 3, 6, 12, 24, 48
      return body(std::integral_constant<int64_t, 48>{});
    case 64:
      return body(std::integral_constant<int64_t, 64>{});
    default:
      return body(std::integral_constant<int64_t, 0>{});
  }
}

/// Two per-channel sums: for every element, accumulate(i, j, first, second) adds its terms to
/// two float accumulators (i is the element's flat index, j its lane). Returns {first sums,
/// second sums}, each C values, in double.
template <int64_t kLanes, typename Accumulate>
std::pair<std::vector<double>, std::vector<double>> sum_per_channel(const Lanes& layout,
                                                                    const Accumulate& accumulate) {
  const int64_t lanes = kLanes > 0 ? kLanes : layout.lanes;
  constexpr int64_t kAccumulators = kLanes > 0 ? kLanes : kMaxLanes;
  const int64_t groups_per_chunk = std::max<int64_t>(1, kElementsPerChunk / lanes);
  const int64_t groups_per_block = std::max<int64_t>(1, kElementsPerBlock / lanes);
  const int64_t chunks = (layout.groups + groups_per_chunk - 1) / groups_per_chunk;
  // Per chunk: `lanes` first sums, then `lanes` second sums; the last row holds the tail's.
  std::vector<double> partial(static_cast<size_t>((chunks + 1) * 2 * lanes), 0.0);

  // Sums elements [begin, end) of lane-aligned groups into two rows of `lanes` double sums.
  const auto sum_elements = [&](int64_t begin, int64_t end, double* first_sums) {
    double* second_sums = first_sums + lanes;
    for (int64_t block = begin; block < end; block += groups_per_block * lanes) {
      std::array<float, kAccumulators> first{};
      std::array<float, kAccumulators> second{};
      const int64_t block_end = std::min(end, block + groups_per_block * lanes);
      int64_t base = block;
      for (; base + lanes <= block_end; base += lanes) {
        for (int64_t j = 0; j < lanes; ++j) accumulate(base + j, j, first[j], second[j]);
      }
      // Only the tensor's last elements (fewer than a group) get here.
      for (int64_t j = 0; base + j < block_end; ++j) {
        accumulate(base + j, j, first[j], second[j]);
      }
      for (int64_t j = 0; j < lanes; ++j) {
        first_sums[j] += first[j];
        second_sums[j] += second[j];
      }
    }
  };

  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t chunk = begin; chunk < end; ++chunk) {
      const int64_t first_group = chunk * groups_per_chunk;
      const int64_t end_group = std::min(layout.groups, first_group + groups_per_chunk);
      sum_elements(first_group * lanes, end_group * lanes, partial.data() + chunk * 2 * lanes);
    }
  });
  sum_elements(layout.groups * lanes, layout.elements, partial.data() + chunks * 2 * lanes);

  // Chunks in order, whatever thread summed them; then lanes into their channels.
  std::vector<double> first(static_cast<size_t>(layout.channels), 0.0);
  std::vector<double> second(static_cast<size_t>(layout.channels), 0.0);
  for (int64_t chunk = 0; chunk <= chunks; ++chunk) {
    for (int64_t j = 0; j < lanes; ++j) {
      first[j % layout.channels] += partial[chunk * 2 * lanes + j];
      second[j % layout.channels] += partial[chunk * 2 * lanes + lanes + j];
    }
  }
  return {std::move(first), std::move(second)};
}

/// Per channel, the sums of a and of a * (x - centre[c]) over the elements, where a =
/// term(i, x - centre[c]) for element i: with a = x - centre the sums of the centred values and of
/// their squares (forward), with a = dy those of dy and dy * (x - mean) (backward).
template <typename Term>
std::pair<std::vector<double>, std::vector<double>> centred_sums(const Lanes& layout,
                                                                 const float* x,
                                                                 const std::vector<float>& centre,
                                                                 const Term& term) {
  const std::vector<float> lane_centre = layout.spread(centre);
  const float* c = lane_centre.data();
  std::pair<std::vector<double>, std::vector<double>> sums;
  dispatch_lanes(layout.lanes, [&](auto lanes) {
    sums = sum_per_channel<decltype(lanes)::value>(
        layout, [&](int64_t i, int64_t j, float& first, float& second) {
          const float centred = x[i] - c[j];
          const float a = term(i, centred);
          first += a;
          second += a * centred;
        });
  });
  return sums;
}

/// Writes transform(i, j) to every element of the output (i the flat index, j the lane).
template <int64_t kLanes, typename Transform>
void transform_per_channel(const Lanes& layout, float* output, const Transform& transform) {
  const int64_t lanes = kLanes > 0 ? kLanes : layout.lanes;
  const int64_t groups_per_chunk = std::max<int64_t>(1, kElementsPerChunk / lanes);
  at::parallel_for(0, layout.groups, groups_per_chunk, [&](int64_t begin, int64_t end) {
    for (int64_t group = begin; group < end; ++group) {
      const int64_t base = group * lanes;
      if constexpr (kLanes > 0) {
        // All of a group's values before any of its stores: the compiler cannot tell that the
        // output does not alias the inputs, and would otherwise not vectorise the loads.
        std::array<float, kLanes> values;
        for (int64_t j = 0; j < kLanes; ++j) values[j] = transform(base + j, j);
        for (int64_t j = 0; j < kLanes; ++j) output[base + j] = values[j];
      } else {
        for (int64_t j = 0; j < lanes; ++j) output[base + j] = transform(base + j, j);
      }
    }
  });
  const int64_t base = layout.groups * lanes;
  for (int64_t j = 0; base + j < layout.elements; ++j) output[base + j] = transform(base + j, j);
}

/// output = (x - centre[c]) * scale[c] + shift[c], plus dy * dy_scale[c] when `dy` is given: the
/// one element-wise pass of the forward (y), evaluation (y) and backward (dx) passes. Centred
/// first: folding the centre into the shift would cancel catastrophically when the mean is large
/// against the standard deviation.
void centred_affine(const Lanes& layout, const float* x, const std::vector<float>& centre,
                    const std::vector<float>& scale, const std::vector<float>& shift, float* output,
                    const float* dy = nullptr, const std::vector<float>& dy_scale = {}) {
  const std::vector<float> lane_centre = layout.spread(centre);
  const std::vector<float> lane_scale = layout.spread(scale);
  const std::vector<float> lane_shift = layout.spread(shift);
  const std::vector<float> lane_dy_scale =
      dy != nullptr ? layout.spread(dy_scale) : std::vector<float>();
  const float* c = lane_centre.data();
  const float* s = lane_scale.data();
  const float* t = lane_shift.data();
  const float* g = lane_dy_scale.data();
  dispatch_lanes(layout.lanes, [&](auto lanes) {
    constexpr int64_t kLanes = decltype(lanes)::value;
    if (dy == nullptr) {
      transform_per_channel<kLanes>(
          layout, output, [&](int64_t i, int64_t j) { return (x[i] - c[j]) * s[j] + t[j]; });
    } else {
      transform_per_channel<kLanes>(layout, output, [&](int64_t i, int64_t j) {
        return dy[i] * g[j] + (x[i] - c[j]) * s[j] + t[j];
      });
    }
  });
}

/// An empty tensor with the strides of `like` (a dense channels-last tensor).
torch::Tensor empty_with_strides_of(const torch::Tensor& like) {
  return torch::empty_strided(like.sizes(), like.strides(), like.options());
}

void check_kernel_input(const torch::Tensor& input, const char* what) {
  if (input.dim() != 4 || input.scalar_type() != torch::kFloat || !input.device().is_cpu() ||
      !input.is_contiguous(torch::MemoryFormat::ChannelsLast)) {
    throw Error(fmt::format(
        "{}: expected a channels-last float CPU tensor [N, C, H, W], found {} "
        "dimensions of {} with strides {}",
        what, input.dim(), std::string(input.dtype().name()), fmt::join(input.strides(), ", ")));
  }
  if (input.size(1) < 1 || std::lcm(input.size(1), kMinLanes) > kMaxLanes) {
    throw Error(
        fmt::format("{}: expected a channel count whose least common multiple with {} is "
                    "at most {}, found {} channels",
                    what, kMinLanes, kMaxLanes, input.size(1)));
  }
}

/// Training-mode batch norm with its own backward pass. Forward: one pass for the batch
/// statistics, one for the output. Backward: one pass for the two per-channel sums the input
/// gradient needs, one for the input gradient.
class BatchNormTrain : public torch::autograd::Function<BatchNormTrain> {
 public:
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& input,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::Tensor running_mean, torch::Tensor running_var,
                               double momentum, double epsilon) {
    // Named in profiles (bench/profile_summary.py); a custom function's forward is not by itself.
    RECORD_FUNCTION("nascent::batch_norm_train_forward", std::vector<c10::IValue>());
    const int64_t channels = input.size(1);
    const Lanes layout(channels, input.numel());
    const int64_t rows = input.numel() / channels;
    const float* x = input.data_ptr<float>();

    // Sums of (x - first row's value) and of its square: shifting by a value of the batch keeps
    // the variance from cancelling when the mean is large against the spread.
    const std::vector<float> origin(x, x + channels);
    const auto [sum, sum_of_squares] =
        centred_sums(layout, x, origin, [](int64_t, float centred) { return centred; });

    std::vector<float> mean(channels);
    std::vector<float> inverse_std(channels);
    std::vector<float> scale(channels);
    const float* gamma = weight.data_ptr<float>();
    const float* beta = bias.data_ptr<float>();
    float* running_mean_data = running_mean.data_ptr<float>();
    float* running_var_data = running_var.data_ptr<float>();
    const double count = static_cast<double>(rows);
    for (int64_t c = 0; c < channels; ++c) {
      const double centred_mean = sum[c] / count;
      const double variance =
          std::max(0.0, sum_of_squares[c] / count - centred_mean * centred_mean);
      const double batch_mean = origin[c] + centred_mean;
      const double inverse = 1.0 / std::sqrt(variance + epsilon);
      mean[c] = static_cast<float>(batch_mean);
      inverse_std[c] = static_cast<float>(inverse);
      scale[c] = static_cast<float>(gamma[c] * inverse);

      // LibTorch's update: the running variance takes the unbiased batch variance.
      const double unbiased = rows > 1 ? variance * count / (count - 1.0) : variance;
      running_mean_data[c] =
          static_cast<float>((1.0 - momentum) * running_mean_data[c] + momentum * batch_mean);
      running_var_data[c] =
          static_cast<float>((1.0 - momentum) * running_var_data[c] + momentum * unbiased);
    }

    torch::Tensor output = empty_with_strides_of(input);
    centred_affine(layout, x, mean, scale, std::vector<float>(beta, beta + channels),
                   output.data_ptr<float>());
    context->save_for_backward({input, weight, torch::tensor(mean), torch::tensor(inverse_std)});
    return output;
  }

  static variable_list backward(AutogradContext* context, variable_list gradients) {
    RECORD_FUNCTION("nascent::batch_norm_train_backward", std::vector<c10::IValue>());
    const variable_list saved = context->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const torch::Tensor& weight = saved[1];
    const torch::Tensor& mean = saved[2];
    const torch::Tensor& inverse_std = saved[3];
    torch::Tensor output_gradient = gradients[0];
    if (!output_gradient.is_contiguous(torch::MemoryFormat::ChannelsLast)) {
      output_gradient = output_gradient.contiguous(torch::MemoryFormat::ChannelsLast);
    }

    const int64_t channels = input.size(1);
    const Lanes layout(channels, input.numel());
    const int64_t rows = input.numel() / channels;
    const float* x = input.data_ptr<float>();
    const float* dy = output_gradient.data_ptr<float>();
    const float* mu = mean.data_ptr<float>();
    const std::vector<float> mean_values(mu, mu + channels);
    const auto [sum_dy, sum_dy_centred] =
        centred_sums(layout, x, mean_values, [dy](int64_t i, float) { return dy[i]; });

    const float* gamma = weight.data_ptr<float>();
    const float* inverse = inverse_std.data_ptr<float>();
    std::vector<float> weight_gradient(channels);
    std::vector<float> bias_gradient(channels);
    for (int64_t c = 0; c < channels; ++c) {
      weight_gradient[c] = static_cast<float>(sum_dy_centred[c] * inverse[c]);
      bias_gradient[c] = static_cast<float>(sum_dy[c]);
    }

    torch::Tensor input_gradient;
    if (context->needs_input_grad(0)) {
      // dx = g * s * (dy - mean(dy) - (x - mean) * s^2 * mean(dy * (x - mean))), with g the
      // weight and s the inverse standard deviation, written as dy * a + (x - mean) * b + d per
      // channel (centred, for the reason given at centred_affine()).
      std::vector<float> dy_factor(channels);
      std::vector<float> x_factor(channels);
      std::vector<float> constant(channels);
      const double count = static_cast<double>(rows);
      for (int64_t c = 0; c < channels; ++c) {
        const double a = static_cast<double>(gamma[c]) * inverse[c];
        const double k = static_cast<double>(inverse[c]) * inverse[c] * sum_dy_centred[c] / count;
        dy_factor[c] = static_cast<float>(a);
        x_factor[c] = static_cast<float>(-a * k);
        constant[c] = static_cast<float>(-a * sum_dy[c] / count);
      }
      input_gradient = empty_with_strides_of(input);
      centred_affine(layout, x, mean_values, x_factor, constant, input_gradient.data_ptr<float>(),
                     dy, dy_factor);
    }

    return {input_gradient,
            context->needs_input_grad(1) ? torch::tensor(weight_gradient) : torch::Tensor(),
            context->needs_input_grad(2) ? torch::tensor(bias_gradient) : torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

FastBatchNorm2dImpl::FastBatchNorm2dImpl(const torch::nn::BatchNormOptions& options)
    : options(options) {
  reset();
}

void FastBatchNorm2dImpl::reset() {
  const int64_t channels = options.num_features();
  if (options.affine()) {
    weight = register_parameter("weight", torch::ones({channels}));
    bias = register_parameter("bias", torch::zeros({channels}));
  } else {
    weight = register_parameter("weight", torch::Tensor(), /*requires_grad=*/false);
    bias = register_parameter("bias", torch::Tensor(), /*requires_grad=*/false);
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", torch::zeros({channels}));
    running_var = register_buffer("running_var", torch::ones({channels}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
  } else {
    running_mean = register_buffer("running_mean", torch::Tensor());
    running_var = register_buffer("running_var", torch::Tensor());
    num_batches_tracked = register_buffer("num_batches_tracked", torch::Tensor());
  }
}

void FastBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "nascent::FastBatchNorm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=";
  if (options.momentum().has_value()) {
    stream << *options.momentum();
  } else {
    stream << "None";
  }
  stream << ", affine=" << options.affine()
         << ", track_running_stats=" << options.track_running_stats() << ")";
}

torch::Tensor FastBatchNorm2dImpl::forward(const torch::Tensor& input) {
  if (input.dim() != 4) {
    throw Error(
        fmt::format("FastBatchNorm2d: expected a 4-D input [N, C, H, W], found {}-D", input.dim()));
  }

  // As torch::nn::BatchNorm2d: count the batch, and with no momentum average all batches alike.
  const bool training = is_training();
  double average_factor = options.momentum().value_or(0.0);
  if (training && options.track_running_stats()) {
    num_batches_tracked += 1;
    if (!options.momentum().has_value()) {
      average_factor = 1.0 / static_cast<double>(num_batches_tracked.item<int64_t>());
    }
  }

  if (batch_norm_kernel_applies(*this, input)) {
    if (training) {
      return batch_norm_train_channels_last(input, weight, bias, running_mean, running_var,
                                            average_factor, options.eps());
    }
    return batch_norm_eval_channels_last(input, weight, bias, running_mean, running_var,
                                         options.eps());
  }
  return torch::batch_norm(input, weight, bias, running_mean, running_var,
                           training || !options.track_running_stats(), average_factor,
                           options.eps(), at::globalContext().userEnabledCuDNN());
}

bool batch_norm_kernel_applies(const FastBatchNorm2dImpl& norm, const torch::Tensor& input) {
  const auto& options = norm.options;
  if (input.dim() != 4 || input.scalar_type() != torch::kFloat || !input.device().is_cpu() ||
      !input.is_contiguous(torch::MemoryFormat::ChannelsLast)) {
    return false;
  }
  const int64_t channels = input.size(1);
  if (channels != options.num_features() || input.numel() == 0 ||
      std::lcm(channels, kMinLanes) > kMaxLanes ||
      !kernel_is_faster(channels, norm.is_training())) {
    return false;
  }
  if (!options.affine() || !options.track_running_stats()) {
    return false;
  }
  if (!norm.is_training()) {
    // The evaluation kernel has no backward pass (zero-cost proxies differentiate through
    // evaluation-mode networks).
    const bool needs_gradient =
        torch::GradMode::is_enabled() &&
        (input.requires_grad() || norm.weight.requires_grad() || norm.bias.requires_grad());
    return !needs_gradient;
  }
  return true;
}

torch::Tensor batch_norm_train_channels_last(const torch::Tensor& input,
                                             const torch::Tensor& weight, const torch::Tensor& bias,
                                             torch::Tensor& running_mean,
                                             torch::Tensor& running_var, double momentum,
                                             double epsilon) {
  check_kernel_input(input, "batch_norm_train_channels_last");
  return BatchNormTrain::apply(input, weight, bias, running_mean, running_var, momentum, epsilon);
}

torch::Tensor batch_norm_eval_channels_last(const torch::Tensor& input, const torch::Tensor& weight,
                                            const torch::Tensor& bias,
                                            const torch::Tensor& running_mean,
                                            const torch::Tensor& running_var, double epsilon) {
  check_kernel_input(input, "batch_norm_eval_channels_last");
  torch::NoGradGuard no_grad;
  const int64_t channels = input.size(1);
  const auto values = [channels](const torch::Tensor& tensor) {
    const torch::Tensor dense = tensor.to(torch::kFloat).contiguous();
    return std::vector<float>(dense.data_ptr<float>(), dense.data_ptr<float>() + channels);
  };
  const torch::Tensor scale = weight / torch::sqrt(running_var + epsilon);
  torch::Tensor output = empty_with_strides_of(input);
  centred_affine(Lanes(channels, input.numel()), input.data_ptr<float>(), values(running_mean),
                 values(scale), values(bias), output.data_ptr<float>());
  return output;
}

}  // namespace nascent
