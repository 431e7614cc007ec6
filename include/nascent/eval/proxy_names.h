#pragma once

/// The names of the zero-cost proxies (without LibTorch, for configs and the command line).

#include <string>
#include <vector>

namespace nascent {

/// Every proxy nascent computes, in table order: the two baselines (params, flops) first.
const std::vector<std::string>& proxy_names();

/// Throws nascent::Error when `name` is not one of proxy_names(); `where` names the setting.
void check_proxy_name(const std::string& name, const std::string& where);

}  // namespace nascent
