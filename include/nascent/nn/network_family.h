#pragma once

/// Which kind of network a search space's architectures describe.

#include <string>

#include "nascent/nn/cell_network.h"

namespace nascent {

/// The family of a space ("macro" or "nasbench201") and the size options of its network.
struct NetworkFamily {
  std::string family = "macro";
  /// Used when family is "nasbench201".
  CellNetworkOptions cell;
  /// Every width of the built network (stem, layers, dense layers; cell channels) times this,
  /// rounded, at least 1: low-fidelity training of a narrower network. Shape inference and
  /// cost counts ignore it (they describe the full network).
  double width_multiplier = 1.0;
};

}  // namespace nascent
