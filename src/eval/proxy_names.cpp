#include "nascent/eval/proxy_names.h"

#include <fmt/format.h>

#include <algorithm>

#include "nascent/core/error.h"
#include "nascent/core/text.h"

namespace nascent {

const std::vector<std::string>& proxy_names() {
  static const std::vector<std::string> names = {"params", "flops",   "grad_norm", "snip",
                                                 "fisher", "synflow", "jacob_cov", "naswot"};
  return names;
}

void check_proxy_name(const std::string& name, const std::string& where) {
  const auto& names = proxy_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) return;
  const auto hint = closest_match(name, names);
  throw Error(fmt::format("{}: expected a proxy, one of {}, found '{}'{}", where,
                          join_choices(names), name,
                          hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
}

}  // namespace nascent
