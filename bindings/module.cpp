// pybind11 module tbd._C: kernel entry points and build information.
#include <pybind11/pybind11.h>

#include <string>

namespace py = pybind11;

static py::dict build_info() {
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

PYBIND11_MODULE(_C, m) {
  m.doc() = "tbd fused kernels (CPU, and CUDA when compiled)";
  m.def("build_info", &build_info, "What this build of the extension contains.");
}
