// pybind11 module tbd._C: kernel entry points and build information.
//
// Arrays arrive as numpy arrays or torch tensors and are read as pointer + dtype + shape +
// strides + device (TensorRef); nothing is copied, and outputs are allocated by the caller
// (tbd.kernels). CUDA work goes on the caller's stream, passed as an integer handle (0 = the
// default stream). The GIL is released while a kernel runs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "tbd/kernels.h"

namespace py = pybind11;
using tbd::TensorRef;

namespace {

py::dict build_info() {
  py::dict info;
#ifdef TBD_WITH_OPENMP
  info["openmp"] = true;
#else
  info["openmp"] = false;
#endif
#ifdef TBD_WITH_CUDA
  info["cuda"] = true;
  info["cuda_archs"] = std::string(TBD_CUDA_ARCHS);
#else
  info["cuda"] = false;
  info["cuda_archs"] = std::string();
#endif
  info["compiler"] = std::string(__VERSION__);
  return info;
}

tbd::DType parse_dtype(const std::string& name, const char* arg) {
  if (name == "uint8" || name == "bool") return tbd::DType::u8;
  if (name == "int32") return tbd::DType::i32;
  if (name == "int64") return tbd::DType::i64;
  if (name == "float16") return tbd::DType::f16;
  if (name == "bfloat16") return tbd::DType::bf16;
  if (name == "float32") return tbd::DType::f32;
  if (name == "float64") return tbd::DType::f64;
  throw tbd::DTypeError(std::string("'") + arg + "' has unsupported dtype " + name);
}

// From the dtype's kind and size (the dtype's str() is slow Python code).
tbd::DType numpy_dtype(const py::dtype& dtype, const char* arg) {
  const char kind = dtype.kind();
  const py::ssize_t size = dtype.itemsize();
  if ((kind == 'u' || kind == 'b') && size == 1) return tbd::DType::u8;
  if (kind == 'i' && size == 4) return tbd::DType::i32;
  if (kind == 'i' && size == 8) return tbd::DType::i64;
  if (kind == 'f' && size == 2) return tbd::DType::f16;
  if (kind == 'f' && size == 4) return tbd::DType::f32;
  if (kind == 'f' && size == 8) return tbd::DType::f64;
  throw tbd::DTypeError(std::string("'") + arg + "' has unsupported dtype " + std::string(py::str(dtype)));
}

// A numpy array: pointer, shape and strides straight from the array object (no copy).
TensorRef numpy_ref(const char* name, const py::array& a) {
  TensorRef ref;
  ref.name = name;
  ref.data = const_cast<void*>(a.data());
  const int64_t itemsize = a.itemsize();
  ref.dtype = numpy_dtype(a.dtype(), name);
  ref.writable = a.writeable();
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (a.strides(i) % itemsize != 0)
      throw tbd::ArgError(std::string("'") + name + "' has byte strides that are not whole elements");
    ref.shape.push_back(a.shape(i));
    ref.strides.push_back(a.strides(i) / itemsize);
  }
  return ref;
}

// Integers of a tuple (torch.Size is one) or other sequence, via the C API (pybind11's list
// caster costs about a microsecond per call, which adds up over nine arrays).
std::vector<int64_t> int_sequence(const py::handle& seq) {
  std::vector<int64_t> values;
  if (PyTuple_Check(seq.ptr())) {
    const Py_ssize_t n = PyTuple_GET_SIZE(seq.ptr());
    values.reserve(static_cast<size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) values.push_back(PyLong_AsLongLong(PyTuple_GET_ITEM(seq.ptr(), i)));
    if (PyErr_Occurred()) throw py::error_already_set();
    return values;
  }
  return seq.cast<std::vector<int64_t>>();
}

// A new reference from a C-API call, or the pending Python error as an exception.
py::object checked(PyObject* result) {
  if (result == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(result);
}

// Interned attribute names (created once; the C API looks them up without building strings).
PyObject* interned(const char* text) { return PyUnicode_InternFromString(text); }

// A torch tensor, read through its Python attributes with the C API (the extension does not
// link libtorch). About 0.5 us per tensor, half of going through pybind11 or tensor.numpy().
TensorRef torch_ref(const char* name, const py::handle& t, bool cuda) {
  static PyObject* const data_ptr = interned("data_ptr");
  static PyObject* const dtype = interned("dtype");
  static PyObject* const shape = interned("shape");
  static PyObject* const stride = interned("stride");
  static PyObject* const is_cpu = interned("is_cpu");
  static PyObject* const get_device = interned("get_device");
  TensorRef ref;
  ref.name = name;
  ref.data = PyLong_AsVoidPtr(checked(PyObject_CallMethodNoArgs(t.ptr(), data_ptr)).ptr());
  const py::object dtype_text = checked(PyObject_Str(checked(PyObject_GetAttr(t.ptr(), dtype)).ptr()));
  std::string dtype_name = PyUnicode_AsUTF8(dtype_text.ptr());
  if (dtype_name.rfind("torch.", 0) == 0) dtype_name = dtype_name.substr(6);
  ref.dtype = parse_dtype(dtype_name, name);
  ref.shape = int_sequence(checked(PyObject_GetAttr(t.ptr(), shape)));
  ref.strides = int_sequence(checked(PyObject_CallMethodNoArgs(t.ptr(), stride)));
  if (cuda) {
    ref.device = tbd::Device::cuda;
    ref.device_index = static_cast<int>(PyLong_AsLong(checked(PyObject_CallMethodNoArgs(t.ptr(), get_device)).ptr()));
  } else if (PyObject_IsTrue(checked(PyObject_GetAttr(t.ptr(), is_cpu)).ptr()) == 1) {
    ref.device = tbd::Device::cpu;
  } else {
    throw tbd::ArgError(std::string("'") + name + "' is on device " + std::string(py::str(t.attr("device"))) +
                        "; tbd kernels run on cpu or cuda");
  }
  return ref;
}

TensorRef to_ref(const char* name, const py::handle& obj) {
  if (py::isinstance<py::array>(obj)) return numpy_ref(name, py::reinterpret_borrow<py::array>(obj));
  static PyObject* const is_cuda_name = interned("is_cuda");  // torch tensors have it
  PyObject* is_cuda = PyObject_GetAttr(obj.ptr(), is_cuda_name);
  if (is_cuda == nullptr) {
    PyErr_Clear();
    throw tbd::DTypeError(std::string("'") + name + "' must be a numpy array or a torch tensor, got " +
                          std::string(py::str(obj.get_type().attr("__name__"))));
  }
  const bool cuda = PyObject_IsTrue(is_cuda) == 1;
  Py_DECREF(is_cuda);
  return torch_ref(name, obj, cuda);
}

std::optional<TensorRef> to_optional_ref(const char* name, const py::object& desc) {
  if (desc.is_none()) return std::nullopt;
  return to_ref(name, desc);
}

[[noreturn]] void no_cuda(const char* kernel) {
  throw tbd::ArgError(std::string(kernel) +
                      ": got CUDA arrays but this build of tbd._C has no CUDA kernels "
                      "(reinstall with nvcc on PATH, or TBD_CUDA=ON)");
}

void mesh_warp(const py::object& image, const py::object& src, const py::object& dst,
               const py::object& triangles, const py::object& out, std::uintptr_t stream) {
  tbd::MeshWarpArgs args{to_ref("image", image), to_ref("src_vertices", src),
                         to_ref("dst_vertices", dst), to_ref("triangles", triangles),
                         to_ref("out", out)};
  tbd::check_mesh_warp(args);
  py::gil_scoped_release release;
  if (args.image.device == tbd::Device::cpu) return tbd::mesh_warp_cpu(args);
#ifdef TBD_WITH_CUDA
  tbd::mesh_warp_cuda(args, stream);
#else
  (void)stream;
  no_cuda("mesh_warp");
#endif
}

tbd::PredType parse_pred_type(const std::string& name) {
  if (name == "eps") return tbd::PredType::eps;
  if (name == "x0") return tbd::PredType::x0;
  if (name == "v") return tbd::PredType::v;
  throw tbd::ArgError("'pred_type' must be 'eps', 'x0' or 'v', got '" + name + "'");
}

void guided_step(const py::object& eps_u, const py::object& eps_g, const py::object& eps_gl,
                 const py::object& x, const py::object& mask, const py::object& x0_prev,
                 const py::object& noise, const py::object& x_next, const py::object& x0, double w_g,
                 double w_l, double alpha, double sigma, double a, double b, double c, double d,
                 const std::string& pred_type, std::optional<double> clamp, std::uintptr_t stream) {
  const TensorRef x_ref = to_ref("x", x);
  tbd::GuidedStepArgs args{to_ref("eps_u", eps_u), to_ref("eps_g", eps_g), to_ref("eps_gl", eps_gl),
                           x_ref, tbd::broadcast_to(to_ref("mask", mask), x_ref.shape), to_ref("x_next", x_next),
                           to_ref("x0", x0), to_optional_ref("x0_prev", x0_prev),
                           to_optional_ref("noise", noise)};
  args.w_g = w_g;
  args.w_l = w_l;
  args.alpha = alpha;
  args.sigma = sigma;
  args.a = a;
  args.b = b;
  args.c = c;
  args.d = d;
  args.pred = parse_pred_type(pred_type);
  args.clamp = clamp;
  tbd::check_guided_step(args);
  py::gil_scoped_release release;
  if (args.x.device == tbd::Device::cpu) return tbd::guided_step_cpu(args);
#ifdef TBD_WITH_CUDA
  tbd::guided_step_cuda(args, stream);
#else
  (void)stream;
  no_cuda("guided_step");
#endif
}

void attention(const py::object& q, const py::object& k, const py::object& v,
               const py::object& key_mask, const py::object& out, int64_t window, double scale,
               std::uintptr_t stream) {
  tbd::AttentionArgs args{to_ref("q", q), to_ref("k", k), to_ref("v", v), to_ref("out", out),
                          to_optional_ref("mask", key_mask)};
  args.window = window;
  args.scale = scale;
  tbd::check_attention(args);
  py::gil_scoped_release release;
  if (args.q.device == tbd::Device::cpu) return tbd::attention_cpu(args);
#ifdef TBD_WITH_CUDA
  tbd::attention_cuda(args, stream);
#else
  (void)stream;
  no_cuda("attention");
#endif
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "tbd fused kernels (CPU, and CUDA when compiled). Call them through tbd.kernels.";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const tbd::DTypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const tbd::ArgError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  m.def("build_info", &build_info, "What this build of the extension contains.");
  m.def("mesh_warp", &mesh_warp, py::arg("image"), py::arg("src_vertices"), py::arg("dst_vertices"),
        py::arg("triangles"), py::arg("out"), py::arg("stream") = 0,
        "Piecewise-affine backward warp into the caller's out [F, H, W, C].");
  m.def("attention", &attention, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("mask"),
        py::arg("out"), py::arg("window") = -1, py::arg("scale"), py::arg("stream") = 0,
        "Fused attention (online softmax) into the caller's out [B, H, Tq, D]; window -1 = none.");
  m.def("guided_step", &guided_step, py::arg("eps_u"), py::arg("eps_g"), py::arg("eps_gl"),
        py::arg("x"), py::arg("mask"), py::arg("x0_prev"), py::arg("noise"), py::arg("x_next"),
        py::arg("x0"), py::arg("w_g"), py::arg("w_l"), py::arg("alpha"), py::arg("sigma"),
        py::arg("a"), py::arg("b"), py::arg("c"), py::arg("d"), py::arg("pred_type"),
        py::arg("clamp"), py::arg("stream") = 0,
        "Guidance combination + sampler update into the caller's x_next and x0.");
}
