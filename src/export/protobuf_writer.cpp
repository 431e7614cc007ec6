#include "export/internal/protobuf_writer.h"

#include <cstring>

namespace nascent::internal {

void ProtobufWriter::append_varint(uint64_t value) {
  // Seven bits per byte, least significant first; the high bit marks a continuation.
  while (value >= 0x80) {
    bytes_.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  bytes_.push_back(static_cast<char>(value));
}

void ProtobufWriter::append_tag(int field, int wire_type) {
  append_varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
}

void ProtobufWriter::add_varint(int field, uint64_t value) {
  append_tag(field, 0);
  append_varint(value);
}

void ProtobufWriter::add_float(int field, float value) {
  append_tag(field, 5);
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  for (int shift = 0; shift < 32; shift += 8) bytes_.push_back(static_cast<char>(bits >> shift));
}

void ProtobufWriter::add_bytes(int field, std::string_view bytes) {
  append_tag(field, 2);
  append_varint(bytes.size());
  bytes_.append(bytes);
}

void ProtobufWriter::add_packed_varints(int field, const std::vector<int64_t>& values) {
  ProtobufWriter packed;
  for (int64_t value : values) packed.append_varint(static_cast<uint64_t>(value));
  add_bytes(field, packed.bytes_);
}

}  // namespace nascent::internal
