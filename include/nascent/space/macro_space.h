#pragma once

/// The built-in macro search space for images: a stem, stages of layers, and a head.

#include <string>
#include <vector>

#include "nascent/space/search_space.h"

namespace nascent {

/// The domain of each aspect of the macro space. Each member is a Decision used as a
/// template: its kind and values are used, its name is replaced. Decision names in the
/// resulting space are:
///
///   stem.width, stages,
///   s<i>.depth, s<i>.downsample,                          for stage i = 1..max stages
///   s<i>.l<j>.op, .width, .kernel, .expansion,            for layer j = 1..max depth
///   s<i>.l<j>.activation, .batch_norm, .skip,
///   head.dense_layers, head.dense<k>.width, head.dropout
///
/// A stage's decisions exist only when `stages` >= i, a layer's only when `s<i>.depth` >= j,
/// and an operation's parameters only for operations that have them (a pooling layer has a
/// kernel but no width; identity has neither). The skip of a stage's first layer exists only
/// when that stage does not downsample, since a skip into a downsampled layer never fits.
struct MacroSpaceOptions {
  /// Output channels of the 3x3 stem convolution.
  Decision stem_width = Decision::categorical("", {"16", "32"});
  /// Number of stages (integer valued).
  Decision stages = Decision::integer("", 1, 3);
  /// Layers per stage (integer valued).
  Decision depth = Decision::integer("", 1, 2);
  /// How a stage reduces the spatial size on entry: none, max_pool or avg_pool (2x2, stride
  /// 2, before the first layer), or stride (the first layer uses stride 2).
  Decision downsample = Decision::categorical("", {"none", "max_pool", "stride"});
  /// conv, sep_conv (depthwise-separable), mbconv (inverted residual), max_pool, avg_pool,
  /// identity.
  Decision op = Decision::categorical("", {"conv", "sep_conv", "mbconv", "max_pool", "identity"});
  /// Output channels of conv, sep_conv and mbconv layers.
  Decision width = Decision::categorical("", {"32", "64"});
  /// Kernel size of convolutions and poolings (odd).
  Decision kernel = Decision::categorical("", {"3", "5"});
  /// Expansion ratio of mbconv layers.
  Decision expansion = Decision::categorical("", {"3", "6"});
  /// relu, relu6, gelu, silu, elu, tanh, sigmoid.
  Decision activation = Decision::categorical("", {"relu", "silu"});
  /// "true" or "false": batch normalisation after convolutions.
  Decision batch_norm = Decision::categorical("", {"true"});
  /// "none" or k >= 1: add the output of the node k steps back (k = 1 is the layer's own
  /// input, a residual connection). Shapes must match, otherwise the architecture is invalid.
  Decision skip = Decision::categorical("", {"none", "1"});
  /// Number of hidden dense layers in the head (integer valued).
  Decision dense_layers = Decision::integer("", 0, 1);
  /// Width of each hidden dense layer.
  Decision dense_width = Decision::categorical("", {"128"});
  /// Dropout before the classifier (a number in [0, 1)).
  Decision dropout = Decision::categorical("", {"0", "0.2"});
};

/// Operations, activations and downsampling modes the macro space knows.
const std::vector<std::string>& macro_operations();
const std::vector<std::string>& macro_activations();
const std::vector<std::string>& macro_downsampling_modes();

/// Expands the options into a search space. Throws nascent::Error naming the aspect when a
/// domain is unusable (an unknown operation, an even kernel, a negative depth, ...).
SearchSpace make_macro_space(const MacroSpaceOptions& options);

}  // namespace nascent
