// A non-owning view of an array that crossed the Python boundary: pointer, dtype, shape, strides
// (in elements) and device. The extension never allocates or copies user arrays; the caller
// (tbd.kernels) owns every buffer, including the outputs.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tbd {

enum class DType { u8, i32, i64, f16, bf16, f32, f64 };
enum class Device { cpu, cuda };

const char* dtype_name(DType dtype);
int64_t dtype_size(DType dtype);

// Bad argument values, shapes or layouts (becomes ValueError in Python).
struct ArgError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
// Unsupported dtypes (becomes TypeError in Python).
struct DTypeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct TensorRef {
  std::string name;  // the argument name, used in error messages
  void* data = nullptr;
  DType dtype = DType::f32;
  Device device = Device::cpu;
  int device_index = 0;
  bool writable = true;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // in elements, not bytes

  int ndim() const { return static_cast<int>(shape.size()); }
  int64_t size(int dim) const { return shape.at(dim < 0 ? dim + ndim() : dim); }
  int64_t stride(int dim) const { return strides.at(dim < 0 ? dim + ndim() : dim); }
  int64_t numel() const;
  bool is_contiguous() const;  // C order, dense
  std::string shape_str() const;
  template <typename T>
  T* ptr() const { return static_cast<T*>(data); }
};

// Argument checks shared by every entry point; each message names the argument.
void check_dtype(const TensorRef& t, std::initializer_list<DType> allowed);
void check_ndim(const TensorRef& t, int ndim, const char* layout);
void check_contiguous(const TensorRef& t);
void check_writable(const TensorRef& t);
void check_same_device(const TensorRef& a, const TensorRef& b);
void check_same_dtype(const TensorRef& a, const TensorRef& b);
void check_shape(const TensorRef& t, const std::vector<int64_t>& expected, const char* layout);

// `t` viewed with `shape` under numpy broadcasting (trailing axes aligned, size-1 and missing axes
// get stride 0); ArgError naming `t` if the shapes are incompatible.
TensorRef broadcast_to(const TensorRef& t, const std::vector<int64_t>& shape);

}  // namespace tbd
