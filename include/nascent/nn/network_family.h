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
};

}  // namespace nascent
