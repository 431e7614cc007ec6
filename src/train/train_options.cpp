#include "nascent/train/train_options.h"

#include <fmt/format.h>

#include <cmath>

#include "nascent/core/error.h"

namespace nascent {

void TrainOptions::validate() const {
  const auto fail = [](const std::string& field, const std::string& expected,
                       const std::string& found) {
    throw Error(fmt::format("train.{}: expected {}, found {}", field, expected, found));
  };
  // The bound catches a typo (an extra digit or three): a time limit never stops a running trial.
  if (epochs < 1 || epochs > kMaxEpochs) {
    fail("epochs", fmt::format("an integer from 1 to {}", kMaxEpochs), std::to_string(epochs));
  }
  if (batch_size < 1) fail("batch_size", "an integer >= 1", std::to_string(batch_size));
  if (optimizer != "sgd" && optimizer != "adamw") fail("optimizer", "sgd or adamw", optimizer);
  if (!(learning_rate > 0) || !std::isfinite(learning_rate)) {
    fail("learning_rate", "a number > 0", fmt::format("{}", learning_rate));
  }
  if (!(momentum >= 0 && momentum < 1))
    fail("momentum", "a number in [0, 1)", fmt::format("{}", momentum));
  if (nesterov && optimizer == "sgd" && momentum == 0) {
    fail("nesterov", "momentum > 0 when nesterov is true", "momentum 0");
  }
  if (!(weight_decay >= 0)) fail("weight_decay", "a number >= 0", fmt::format("{}", weight_decay));
  if (!(warmup_epochs >= 0 && warmup_epochs <= static_cast<double>(epochs))) {
    fail("warmup_epochs", fmt::format("a number in [0, epochs={}]", epochs),
         fmt::format("{}", warmup_epochs));
  }
  if (!(label_smoothing >= 0 && label_smoothing < 1)) {
    fail("label_smoothing", "a number in [0, 1)", fmt::format("{}", label_smoothing));
  }
  if (crop_padding < 0) fail("crop_padding", "an integer >= 0", std::to_string(crop_padding));
  if (eval_batch_size < 1) {
    fail("eval_batch_size", "an integer >= 1", std::to_string(eval_batch_size));
  }
}

}  // namespace nascent
