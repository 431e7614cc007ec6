#include "nascent/train/tensor_data.h"

namespace nascent {

TensorData TensorData::from(const ImageDataset& dataset, torch::Tensor mean, torch::Tensor std) {
  TensorData data;
  data.images = torch::from_blob(const_cast<uint8_t*>(dataset.pixels.data()),
                                 {dataset.size(), dataset.channels, dataset.height, dataset.width},
                                 torch::kUInt8)
                    .clone();
  data.labels =
      torch::from_blob(const_cast<int64_t*>(dataset.labels.data()), {dataset.size()}, torch::kInt64)
          .clone();
  data.mean = std::move(mean);
  data.std = std::move(std);
  return data;
}

std::pair<torch::Tensor, torch::Tensor> TensorData::channel_statistics(
    const ImageDataset& dataset) {
  const torch::Tensor pixels =
      torch::from_blob(const_cast<uint8_t*>(dataset.pixels.data()),
                       {dataset.size(), dataset.channels, dataset.height * dataset.width},
                       torch::kUInt8)
          .to(torch::kFloat64)
          .div(255.0);
  const torch::Tensor mean =
      pixels.mean(std::vector<int64_t>{0, 2}).to(torch::kFloat32).view({1, -1, 1, 1});
  // A constant channel would divide by zero; its std is replaced by 1.
  torch::Tensor std =
      pixels.std(std::vector<int64_t>{0, 2}).to(torch::kFloat32).view({1, -1, 1, 1});
  std = torch::where(std > 1e-6, std, torch::ones_like(std));
  return {mean, std};
}

torch::Tensor TensorData::batch_images(const torch::Tensor& indices) const {
  torch::Tensor batch = images.index_select(0, indices).to(torch::kFloat32);  // [B, C, H, W]
  return batch.mul_(1.0 / 255.0).sub_(mean).div_(std);
}

}  // namespace nascent
