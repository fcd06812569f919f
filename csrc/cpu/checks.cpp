// Argument checks shared by the CPU and CUDA paths. Every message names the argument and says
// what was expected, so that the Python error is actionable.
#include <cmath>
#include <sstream>

#include "tbd/kernels.h"

namespace tbd {

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::u8: return "uint8";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::f16: return "float16";
    case DType::bf16: return "bfloat16";
    case DType::f32: return "float32";
    case DType::f64: return "float64";
  }
  return "?";
}

int64_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::u8: return 1;
    case DType::f16:
    case DType::bf16: return 2;
    case DType::i32:
    case DType::f32: return 4;
    case DType::i64:
    case DType::f64: return 8;
  }
  return 0;
}

int64_t TensorRef::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

bool TensorRef::is_contiguous() const {
  if (numel() == 0) return true;  // an empty array has no element to misplace (numpy gives it strides of 0)
  int64_t expected = 1;
  for (int i = ndim() - 1; i >= 0; --i) {
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

std::string TensorRef::shape_str() const {
  std::ostringstream s;
  s << "[";
  for (int i = 0; i < ndim(); ++i) s << (i ? ", " : "") << shape[i];
  s << "]";
  return s.str();
}

void check_dtype(const TensorRef& t, std::initializer_list<DType> allowed) {
  for (DType d : allowed)
    if (t.dtype == d) return;
  std::ostringstream s;
  s << "'" << t.name << "' has dtype " << dtype_name(t.dtype) << "; expected ";
  int i = 0;
  for (DType d : allowed) s << (i++ ? " or " : "") << dtype_name(d);
  throw DTypeError(s.str());
}

void check_ndim(const TensorRef& t, int ndim, const char* layout) {
  if (t.ndim() != ndim)
    throw ArgError("'" + t.name + "' must have " + std::to_string(ndim) + " dimensions " + layout +
                   ", got shape " + t.shape_str());
}

void check_contiguous(const TensorRef& t) {
  if (!t.is_contiguous())
    throw ArgError("'" + t.name + "' must be C-contiguous (numpy.ascontiguousarray or .contiguous())");
}

void check_writable(const TensorRef& t) {
  if (!t.writable) throw ArgError("'" + t.name + "' is read-only; pass a writable output array");
}

void check_same_device(const TensorRef& a, const TensorRef& b) {
  if (a.device != b.device || a.device_index != b.device_index)
    throw ArgError("'" + b.name + "' is on a different device than '" + a.name + "'");
}

void check_same_dtype(const TensorRef& a, const TensorRef& b) {
  if (a.dtype != b.dtype)
    throw DTypeError("'" + b.name + "' has dtype " + dtype_name(b.dtype) + " but '" + a.name +
                     "' has " + dtype_name(a.dtype) + "; they must match");
}

void check_shape(const TensorRef& t, const std::vector<int64_t>& expected, const char* layout) {
  if (t.shape != expected) {
    TensorRef e;
    e.shape = expected;
    throw ArgError("'" + t.name + "' must have shape " + e.shape_str() + " " + layout + ", got " +
                   t.shape_str());
  }
}

TensorRef broadcast_to(const TensorRef& t, const std::vector<int64_t>& shape) {
  TensorRef view = t;
  const int ndim = static_cast<int>(shape.size()), offset = ndim - t.ndim();
  bool ok = offset >= 0;
  view.shape = shape;
  view.strides.assign(shape.size(), 0);
  for (int i = 0; ok && i < t.ndim(); ++i) {
    if (t.shape[i] == shape[i + offset])
      view.strides[i + offset] = t.shape[i] == 1 ? 0 : t.strides[i];
    else if (t.shape[i] != 1)
      ok = false;
  }
  if (!ok) {
    TensorRef target;
    target.shape = shape;
    throw ArgError("'" + t.name + "' of shape " + t.shape_str() + " does not broadcast to x " + target.shape_str() +
                   "; give one value per channel ([C], the last axis) or a shape broadcastable to x");
  }
  return view;
}

static void check_not_null(const TensorRef& t) {
  if (t.numel() > 0 && t.data == nullptr) throw ArgError("'" + t.name + "' has a null data pointer");
}

// ---- attention -------------------------------------------------------------------------------

void check_attention(const AttentionArgs& args) {
  const TensorRef &q = args.q, &k = args.k, &v = args.v, &out = args.out;
  for (const TensorRef* t : {&q, &k, &v, &out}) {
    check_ndim(*t, 4, "[B, H, T, D]");
    check_not_null(*t);
    check_same_device(q, *t);
    check_same_dtype(q, *t);
    if (t->size(3) > 1 && t->stride(3) != 1)
      throw ArgError("'" + t->name + "' must be contiguous in its last (head) dimension");
  }
  if (q.device == Device::cpu)
    check_dtype(q, {DType::f32});
  else
    check_dtype(q, {DType::f32, DType::f16, DType::bf16});
  check_writable(out);
  const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), D = q.size(3), Tk = k.size(2);
  if (D < 1) throw ArgError("'q' must have a head dimension of at least 1");
  check_shape(k, {B, H, Tk, D}, "[B, H, Tk, D] matching q");
  check_shape(v, {B, H, Tk, D}, "[B, H, Tk, D] matching k");
  check_shape(out, q.shape, "(the shape of q)");
  if (Tk < 1) throw ArgError("'k' must have at least one key (Tk >= 1)");
  if (args.key_mask) {
    const TensorRef& m = *args.key_mask;
    check_same_device(q, m);
    check_dtype(m, {DType::u8});
    check_shape(m, {B, Tk}, "[B, Tk]");
    check_contiguous(m);
    check_not_null(m);
  }
  if (args.window >= 0 && Tq != Tk)
    throw ArgError("'window' is for self-attention: q and k must have the same length, got Tq=" +
                   std::to_string(Tq) + " and Tk=" + std::to_string(Tk));
  if (!(args.scale > 0.0) || !std::isfinite(args.scale))
    throw ArgError("'scale' must be a positive finite number");
}

// ---- guided_step -----------------------------------------------------------------------------

void check_guided_step(const GuidedStepArgs& args) {
  const TensorRef& x = args.x;
  if (x.device == Device::cpu)
    check_dtype(x, {DType::f32});
  else
    check_dtype(x, {DType::f32, DType::f16, DType::bf16});
  check_contiguous(x);
  check_not_null(x);
  std::vector<const TensorRef*> same = {&args.eps_u, &args.eps_g, &args.eps_gl, &args.x_next, &args.x0};
  if (args.x0_prev) same.push_back(&*args.x0_prev);
  if (args.noise) same.push_back(&*args.noise);
  for (const TensorRef* t : same) {
    check_same_device(x, *t);
    check_same_dtype(x, *t);
    check_shape(*t, x.shape, "(the shape of x)");
    check_contiguous(*t);
    check_not_null(*t);
  }
  check_writable(args.x_next);
  check_writable(args.x0);
  const TensorRef& m = args.mask;
  check_same_device(x, m);
  check_dtype(m, {DType::f32});
  check_shape(m, x.shape, "(mask broadcast to x)");
  if (x.ndim() > 0 && x.size(-1) > 1 && m.stride(-1) != 0 && m.stride(-1) != 1)
    throw ArgError("'mask' must be contiguous or broadcast along the channel (last) axis");
  check_not_null(m);
  if (args.c != 0.0 && !args.x0_prev) throw ArgError("'c' is nonzero but 'x0_prev' was not given");
  if (args.d != 0.0 && !args.noise) throw ArgError("'d' is nonzero but 'noise' was not given");
  if (args.clamp && !(*args.clamp > 0.0)) throw ArgError("'clamp' must be positive (or None)");
  if (args.pred == PredType::eps && args.alpha == 0.0)
    throw ArgError("'alpha' must be nonzero for pred_type='eps' (x0 = (x - sigma p) / alpha)");
}

// ---- mesh_warp -------------------------------------------------------------------------------

void check_mesh_warp(const MeshWarpArgs& args) {
  const TensorRef &image = args.image, &src = args.src, &dst = args.dst, &tri = args.triangles,
                  &out = args.out;
  check_ndim(image, 3, "[H, W, C]");
  check_dtype(image, {DType::u8, DType::f32});
  check_contiguous(image);
  check_not_null(image);
  if (image.size(0) < 1 || image.size(1) < 1 || image.size(2) < 1)
    throw ArgError("'image' must be non-empty, got shape " + image.shape_str());
  check_ndim(src, 2, "[V, 2]");
  check_dtype(src, {DType::f32});
  check_contiguous(src);
  const int64_t V = src.size(0);
  check_shape(src, {V, 2}, "[V, 2] (x, y in pixels)");
  check_ndim(dst, 3, "[F, V, 2]");
  check_dtype(dst, {DType::f32});
  check_contiguous(dst);
  const int64_t F = dst.size(0);
  check_shape(dst, {F, V, 2}, "[F, V, 2] with V matching src");
  check_ndim(tri, 2, "[N, 3]");
  check_dtype(tri, {DType::i32});
  check_contiguous(tri);
  check_shape(tri, {tri.size(0), 3}, "[N, 3]");
  check_shape(out, {F, image.size(0), image.size(1), image.size(2)}, "[F, H, W, C]");
  check_same_dtype(image, out);
  check_contiguous(out);
  check_writable(out);
  for (const TensorRef* t : {&src, &dst, &tri, &out}) {
    check_same_device(image, *t);
    check_not_null(*t);
  }
  if (image.device == Device::cpu) {  // device memory cannot be read here: tbd.kernels checks it
    const int32_t* idx = tri.ptr<int32_t>();
    for (int64_t i = 0; i < tri.numel(); ++i)
      if (idx[i] < 0 || idx[i] >= V)
        throw ArgError("'triangles' holds vertex index " + std::to_string(idx[i]) +
                       " outside [0, " + std::to_string(V) + ")");
  }
}

}  // namespace tbd
