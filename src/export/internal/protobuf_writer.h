#pragma once

// A minimal writer of the protocol-buffers wire format: just what ONNX's ModelProto needs
// (varints, 32-bit floats, length-delimited strings and nested messages, packed repeats).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nascent::internal {

/// One message being written. Fields are appended in the order they are called.
class ProtobufWriter {
 public:
  /// Wire type 0: int32, int64, enum, bool.
  void add_varint(int field, uint64_t value);
  /// Wire type 5: float.
  void add_float(int field, float value);
  /// Wire type 2: string or bytes.
  void add_bytes(int field, std::string_view bytes);
  /// Wire type 2: a nested message.
  void add_message(int field, const ProtobufWriter& message) { add_bytes(field, message.bytes_); }
  /// Wire type 2: a packed repeated int64.
  void add_packed_varints(int field, const std::vector<int64_t>& values);

  const std::string& bytes() const { return bytes_; }

 private:
  void append_varint(uint64_t value);
  void append_tag(int field, int wire_type);

  std::string bytes_;
};

}  // namespace nascent::internal
