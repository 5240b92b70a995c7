// Python bindings: wbary's solvers on NumPy arrays (float64 in, float64 out),
// the extension module wbary._wbary that the package wbary (python/wbary/)
// re-exports; wbary.pot puts POT's names on top of it.
//
//   import wbary
//   r = wbary.w2(x, y)                        # exact W2^2, plan, certificate
//   bary = wbary.free_support_barycenter([y1, y2], init)
//   img = wbary.convolutional_barycenter([a, b], eps=4e-3)
//   mean, cov = wbary.gaussian_barycenter(means, covs)
//   model = wbary.fit([y1, y2], config={"iterations": 2000}); model.sample(1000)
//
// Arrays cross by copy (the solvers' inputs are small next to their work), and
// the GIL is released while a solver runs. wbary's errors arrive as ValueError
// (InvalidArgument, DivergenceError) and OSError (IoError), with the same
// messages as the CLI's.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "wbary/barycenter/evaluation.h"
#include "wbary/barycenter/gaussian_barycenter.h"
#include "wbary/barycenter/neural_barycenter.h"
#include "wbary/barycenter/all_weights_barycenter_model.h"
#include "wbary/barycenter/methods.h"
#include "wbary/barycenter/continuous_barycenter_model.h"
#include "wbary/barycenter/neural_barycenter_model.h"
#include "wbary/barycenter/regularized_barycenter_model.h"
#include "wbary/barycenter/robust_barycenter.h"
#include "wbary/maps/w2_map.h"
#include "wbary/data/empirical.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"
#include "wbary/grid/convolutional_barycenter.h"
#include "wbary/grid/learned_barycenter.h"
#include "wbary/ot/exact_transport.h"
#include "wbary/ot/fixed_support_barycenter.h"
#include "wbary/ot/free_support_barycenter.h"
#include "wbary/ot/sinkhorn.h"
#include "wbary/training/device.h"
#include "wbary/training/training.h"
#include "wbary/version.h"

#include <iostream>
#include <nlohmann/json.hpp>

namespace py = pybind11;
using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

namespace {

at::Tensor to_tensor(const Array& a, const char* name, std::optional<int64_t> ndim = std::nullopt) {
  if (ndim && a.ndim() != *ndim) {
    throw wbary::InvalidArgument(std::string(name) + ": expected a " + std::to_string(*ndim) + "-D array, got " +
                                 std::to_string(a.ndim()) + "-D");
  }
  std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  return at::from_blob(const_cast<double*>(a.data()), shape, at::TensorOptions().dtype(at::kDouble)).clone();
}

Array to_array(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  std::vector<py::ssize_t> shape(c.sizes().begin(), c.sizes().end());
  Array out(shape);
  std::copy(c.data_ptr<double>(), c.data_ptr<double>() + c.numel(), out.mutable_data());
  return out;
}

std::vector<at::Tensor> to_tensors(const std::vector<Array>& arrays, const char* name) {
  std::vector<at::Tensor> out;
  for (size_t k = 0; k < arrays.size(); ++k) out.push_back(to_tensor(arrays[k], name));
  return out;
}

py::dict transport_result(const wbary::ot::ExactTransportResult& r) {
  Array plan(std::vector<py::ssize_t>{static_cast<py::ssize_t>(r.plan.size()), 3});
  double* p = plan.mutable_data();
  for (const auto& e : r.plan) {
    *p++ = static_cast<double>(e.i);
    *p++ = static_cast<double>(e.j);
    *p++ = e.mass;
  }
  py::dict d;
  d["cost"] = r.cost;
  d["plan"] = plan;
  d["optimal"] = r.optimal;
  d["status"] = r.status;
  d["duality_gap"] = r.duality_gap;
  d["min_reduced_cost"] = r.min_reduced_cost;
  d["pivots"] = r.pivots;
  d["u"] = to_array(at::tensor(r.source_potential, at::kDouble));
  d["v"] = to_array(at::tensor(r.target_potential, at::kDouble));
  return d;
}

// A Python dict (or None) as JSON, for the configs' update_from_json: the
// keys and values of `wbary fit --dump-config`.
nlohmann::json to_json(const py::object& o) {
  if (o.is_none()) return nlohmann::json::object();
  return nlohmann::json::parse(py::module_::import("json").attr("dumps")(o).cast<std::string>());
}

// A marginal known only through a Python function draw(n, seed) -> [n, d]
// (an MCMC chain, a simulator, another model's sampler): the NWB paper's
// setting, "it only requires samples from the marginal distributions" (§1).
// Training batch `step` of stream `stream` asks for draw(n, derive_seed(seed,
// stream, step)), so runs stay reproducible when the function honours its
// seed. The GIL is taken only around the call; an exception raised inside it
// stops training and reaches the caller unchanged.
class PythonSampler : public wbary::data::Sampler {
 public:
  explicit PythonSampler(py::object draw) : draw_(std::move(draw)) {
    name_ = py::hasattr(draw_, "__qualname__") ? draw_.attr("__qualname__").cast<std::string>()
                                               : py::repr(draw_).cast<std::string>();
    dim_ = call(2, 0).size(1);  // one small call tells the dimension
  }
  ~PythonSampler() override {
    py::gil_scoped_acquire gil;
    draw_ = py::object();
  }
  int64_t dim() const override { return dim_; }
  at::Tensor sample(int64_t n, at::Generator& gen) const override {
    const int64_t seed = at::randint(0, int64_t{1} << 62, {1}, gen, at::TensorOptions().dtype(at::kLong)).item<int64_t>();
    return call(n, static_cast<uint64_t>(seed));
  }
  at::Tensor batch(uint64_t seed, uint64_t stream, int64_t step, int64_t n) const override {
    return call(n, wbary::data::derive_seed(seed, stream, static_cast<uint64_t>(step)));
  }
  std::string describe() const override { return "Python callable " + name_; }

 private:
  at::Tensor call(int64_t n, uint64_t seed) const {
    py::gil_scoped_acquire gil;
    const py::object out = draw_(n, seed);
    const std::string what = "marginal " + name_ + "(n=" + std::to_string(n) + ", seed)";
    Array a;
    try {
      a = out.cast<Array>();
    } catch (const std::exception& e) {  // py::cast_error, or NumPy's own ValueError / TypeError
      throw wbary::InvalidArgument(what + " returned a " + py::str(py::type::of(out)).cast<std::string>() +
                                   ", expected an array [n, d] of numbers (" + e.what() + ")");
    }
    const int64_t d = dim_ > 0 ? dim_ : (a.ndim() == 2 ? a.shape(1) : 0);
    if (a.ndim() != 2 || a.shape(0) != n || a.shape(1) != d || d < 1) {
      std::string shape;
      for (py::ssize_t k = 0; k < a.ndim(); ++k) shape += (k ? ", " : "") + std::to_string(a.shape(k));
      throw wbary::InvalidArgument(what + " returned shape [" + shape + "], expected [" + std::to_string(n) + ", " +
                                   (d > 0 ? std::to_string(d) : std::string("d")) + "]");
    }
    at::Tensor t = to_tensor(a, "marginal", 2);
    if (!at::isfinite(t).all().item<bool>()) throw wbary::InvalidArgument(what + " returned NaN or Inf values");
    return t;
  }

  py::object draw_;
  std::string name_;
  int64_t dim_ = 0;
};

// A marginal given as a point cloud [n, d], a spec string, or a callable
// draw(n, seed) -> [n, d].
std::shared_ptr<const wbary::data::Sampler> to_sampler(const py::object& o, std::string& spec) {
  if (py::isinstance<py::str>(o)) {
    spec = o.cast<std::string>();
    return wbary::data::make_sampler(spec);
  }
  spec.clear();
  if (PyCallable_Check(o.ptr()) != 0) return std::make_shared<PythonSampler>(o);
  return std::make_shared<wbary::data::EmpiricalSampler>(to_tensor(o.cast<Array>(), "marginals", 2),
                                                         "a NumPy array from Python");
}

// A robust model with the marginals it was trained on (sampling needs them).
struct RobustResult {
  wbary::barycenter::RobustBarycenterModel model;
  std::vector<std::shared_ptr<const wbary::data::Sampler>> marginals;
};

// Ctrl-C in Python while a solver trains with the GIL released: checked every
// 10 steps; training stops and the KeyboardInterrupt is raised afterwards.
class PythonInterrupt : public wbary::training::TrainingCallback {
 public:
  bool on_step(const wbary::training::StepInfo& info) override {
    if (info.step % 10 != 0) return false;
    py::gil_scoped_acquire acquire;
    interrupted_ = PyErr_CheckSignals() != 0;
    return interrupted_;
  }
  bool interrupted() const { return interrupted_; }

 private:
  bool interrupted_ = false;
};

// Trains any of wbary's solvers from Python: GIL released, a progress line on
// stderr every `progress_every` steps (0: none), Ctrl-C as KeyboardInterrupt.
template <typename Solver>
void train_from_python(Solver& solver, int64_t progress_every) {
  PythonInterrupt interrupt;
  wbary::training::ProgressPrinter progress(std::cerr, progress_every);
  std::vector<wbary::training::TrainingCallback*> callbacks = {&interrupt};
  if (progress_every > 0) callbacks.push_back(&progress);
  {
    py::gil_scoped_release release;
    solver.train(callbacks);
  }
  if (interrupt.interrupted()) throw py::error_already_set();  // the pending KeyboardInterrupt
}

// Runs `compute` with the GIL released (the solvers touch no Python object).
template <typename Compute>
auto without_gil(Compute&& compute) {
  py::gil_scoped_release release;
  return compute();
}

// A model's training history (JSON) as Python lists and dicts.
py::object to_python(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

at::Tensor optional_tensor(const std::optional<Array>& a, const char* name) {
  return a ? to_tensor(*a, name, 1) : at::Tensor();
}

}  // namespace

PYBIND11_MODULE(_wbary, m) {
  m.doc() = "Wasserstein barycenters: exact and entropic OT, free-support, convolutional, Gaussian and neural "
            "barycenters (C++ / LibTorch)";
  py::register_exception<wbary::InvalidArgument>(m, "InvalidArgument", PyExc_ValueError);
  py::register_exception<wbary::DivergenceError>(m, "DivergenceError", PyExc_ValueError);
  py::register_exception<wbary::IoError>(m, "IoError", PyExc_OSError);
  m.attr("__version__") = WBARY_VERSION;

  m.def(
      "set_threads", [](int threads) { wbary::training::set_threads(threads, "threads"); }, py::arg("threads") = 0,
      "CPU threads for wbary's solvers (0 = every core, the default from import, as the CLI's --threads 0). "
      "Shared with PyTorch in this process (one LibTorch thread pool).");
  m.def("get_threads", [] { return at::get_num_threads(); }, "CPU threads wbary's solvers use now.");
  // Every core from the start, as the CLI (LibTorch alone would start at 1).
  wbary::training::set_threads(0);

  m.def(
      "w2",
      [](const Array& x, const Array& y, std::optional<Array> a, std::optional<Array> b) {
        const at::Tensor tx = to_tensor(x, "x", 2), ty = to_tensor(y, "y", 2);
        const at::Tensor ta = optional_tensor(a, "a"), tb = optional_tensor(b, "b");
        const auto r = without_gil([&] { return wbary::ot::exact_w2(tx, ty, ta, tb); });
        return transport_result(r);
      },
      py::arg("x"), py::arg("y"), py::arg("a") = py::none(), py::arg("b") = py::none(),
      "Exact W2^2 between point clouds x [n, d] and y [m, d] (weights uniform if omitted, normalised otherwise).\n"
      "Returns a dict: cost (W2^2), plan ([k, 3] rows i, j, mass), optimal (dual certificate), status, pivots, u [n] and "
      "v [m] (dual potentials: C_ij - u_i - v_j >= 0 and a.u + b.v = cost when optimal; POT's log['u'], log['v']).");

  m.def(
      "exact_transport",
      [](const Array& a, const Array& b, const Array& cost) {
        const at::Tensor ta = to_tensor(a, "a", 1), tb = to_tensor(b, "b", 1), tc = to_tensor(cost, "cost", 2);
        const auto r = without_gil([&] { return wbary::ot::exact_transport(ta, tb, tc); });
        return transport_result(r);
      },
      py::arg("a"), py::arg("b"), py::arg("cost"),
      "Exact OT between histograms a [n] and b [m] for a cost [n, m] (as POT's ot.emd / emd2); the same dict as w2.\n"
      "Precision: the network simplex runs on integer supplies summing to ~2^40, so the plan's marginals match a and b "
      "to ~5e-13 (POT: ~1e-16) and a weight below ~4.5e-13 of the total gets no mass; the cost and the duals are "
      "exact for that plan.");

  m.def(
      "sinkhorn",
      [](const Array& a, const Array& b, const Array& cost, double eps, int64_t max_iterations, double tolerance) {
        const at::Tensor ta = to_tensor(a, "a", 1), tb = to_tensor(b, "b", 1), tc = to_tensor(cost, "cost", 2);
        const wbary::ot::Sinkhorn solver({eps, max_iterations, tolerance});
        const auto r = without_gil([&] { return solver.solve(ta, tb, tc); });
        py::dict d;
        d["plan"] = to_array(r.plan);
        d["cost"] = r.cost;
        d["f"] = to_array(eps * r.log_u);
        d["g"] = to_array(eps * r.log_v);
        d["converged"] = r.converged;
        d["iterations"] = r.iterations;
        return d;
      },
      py::arg("a"), py::arg("b"), py::arg("cost"), py::arg("eps") = 1e-2, py::arg("max_iterations") = 1000,
      py::arg("tolerance") = 1e-9,
      "Entropic OT in the log domain (POT's reg = eps). Returns plan, cost <P, C>, potentials f, g, converged.");

  m.def(
      "discrete_barycenter",
      [](const std::vector<Array>& clouds, std::vector<double> weights) {
        const std::vector<at::Tensor> ys = to_tensors(clouds, "clouds");
        if (weights.empty()) weights.assign(ys.size(), 1.0 / static_cast<double>(ys.size()));
        std::string method;
        const auto [points, mass] =
            without_gil([&] { return wbary::barycenter::discrete_barycenter(ys, weights, &method); });
        return py::make_tuple(to_array(points), to_array(mass), method);
      },
      py::arg("clouds"), py::arg("weights") = std::vector<double>{},
      "The exact W2 barycenter of point clouds [n_i, d] (uniform masses): for two, the displacement "
      "interpolation of their optimal plan; for more, the free-support barycenter (a local optimum). Returns "
      "(points [k, d], masses [k], how it was computed). The reference of `wbary eval --reference exact`.");

  m.def(
      "uvp",
      [](const Array& x, const Array& y, std::optional<Array> y_mass) {
        const at::Tensor tx = to_tensor(x, "x", 2), ty = to_tensor(y, "y", 2);
        const at::Tensor m = y_mass ? to_tensor(*y_mass, "y_mass", 1)
                                    : at::full({ty.size(0)}, 1.0 / static_cast<double>(ty.size(0)), at::kDouble);
        return without_gil([&] { return wbary::barycenter::w2_uvp(tx, ty, m); });
      },
      py::arg("x"), py::arg("y"), py::arg("y_mass") = py::none(),
      "UVP = 100 W2^2(x, y) / Var(y), in percent, by exact transport: an estimate x [n, d] scored against a "
      "reference cloud y [m, d] (masses y_mass, uniform if omitted).");

  m.def(
      "free_support_barycenter",
      [](const std::vector<Array>& clouds, const Array& init, std::vector<double> weights, int64_t max_iterations,
         double tolerance, std::optional<std::vector<Array>> masses, bool log) -> py::object {
        const std::vector<at::Tensor> ys = to_tensors(clouds, "clouds");
        const at::Tensor x0 = to_tensor(init, "init", 2);
        std::vector<at::Tensor> cloud_weights;
        if (masses) {
          if (masses->size() != ys.size()) {
            throw wbary::InvalidArgument("masses: " + std::to_string(masses->size()) + " mass vectors for " +
                                         std::to_string(ys.size()) + " clouds");
          }
          cloud_weights = to_tensors(*masses, "masses");
        }
        const wbary::ot::FreeSupportBarycenter solver({max_iterations, tolerance});
        const auto r = without_gil([&] { return solver.solve(ys, cloud_weights, x0, std::move(weights)); });
        if (!log) return to_array(r.support);
        py::dict info;
        info["converged"] = r.converged;
        info["iterations"] = r.iterations;
        info["displacement_trace"] = r.displacement_trace;
        info["certified"] = r.certified;
        return py::make_tuple(to_array(r.support), info);
      },
      py::arg("clouds"), py::arg("init"), py::arg("weights") = std::vector<double>{},
      py::arg("max_iterations") = 100, py::arg("tolerance") = 1e-7, py::arg("masses") = py::none(),
      py::arg("log") = false,
      "Free-support barycenter (Cuturi & Doucet 2014, Alg. 2; POT's ot.lp.free_support_barycenter) of point "
      "clouds [n_i, d], from the support init [k, d] (uniform masses on it). weights: the barycenter weights lambda_i "
      "(uniform if empty); masses: one mass vector [n_i] per cloud (POT's measures_weights; uniform if omitted). "
      "Returns the support [k, d]; with log=True, (support, {converged, iterations, displacement_trace, certified}).");

  m.def(
      "fixed_support_barycenter",
      [](const std::vector<Array>& histograms, const Array& cost, std::vector<double> weights, double eps,
         int64_t max_iterations, double tolerance, bool log) -> py::object {
        const std::vector<at::Tensor> hs = to_tensors(histograms, "histograms");
        const at::Tensor tc = to_tensor(cost, "cost", 2);
        const wbary::ot::FixedSupportBarycenter solver({eps, max_iterations, tolerance});
        const auto r = without_gil([&] { return solver.solve(hs, tc, std::move(weights)); });
        if (!log) return to_array(r.barycenter);
        py::dict info;
        info["converged"] = r.converged;
        info["iterations"] = r.iterations;
        info["error_trace"] = r.error_trace;
        return py::make_tuple(to_array(r.barycenter), info);
      },
      py::arg("histograms"), py::arg("cost"), py::arg("weights") = std::vector<double>{}, py::arg("eps") = 1e-2,
      py::arg("max_iterations") = 1000, py::arg("tolerance") = 1e-4, py::arg("log") = false,
      "Entropic barycenter of histograms [n] on one shared support with a cost [n, n] (Benamou et al. 2015; POT's "
      "ot.bregman.barycenter, method='sinkhorn_log': the same iterates). eps is POT's reg (K = exp(-cost / eps)); "
      "weights uniform if empty. Returns the barycenter [n]; with log=True, (barycenter, {converged, iterations, "
      "error_trace}) (error every 10 iterations).");

  m.def(
      "convolutional_barycenter",
      [](const std::vector<Array>& images, std::vector<double> weights, std::optional<double> eps, double blur_px,
         int64_t max_iterations, double tolerance, bool sharpen, bool log_domain, bool log) -> py::object {
        const std::vector<at::Tensor> imgs = to_tensors(images, "images");
        wbary::grid::ConvolutionalBarycenterConfig c;
        if (eps && !(*eps > 0)) throw wbary::InvalidArgument("eps: got " + std::to_string(*eps) + ", expected > 0");
        c.epsilon = eps.value_or(0);
        c.blur_pixels = blur_px;
        c.max_iterations = max_iterations;
        c.tolerance = tolerance;
        c.sharpen = sharpen;
        c.log_domain = log_domain;
        const wbary::grid::ConvolutionalBarycenter solver(c);
        const auto r = without_gil([&] { return solver.solve(imgs, std::move(weights)); });
        if (!log) return to_array(r.barycenter);
        py::dict info;
        info["converged"] = r.convergence.converged;
        info["iterations"] = r.convergence.iterations;
        info["error_trace"] = r.convergence.error_trace;
        info["linear_domain_iterations"] = r.linear_domain_iterations;
        return py::make_tuple(to_array(r.barycenter), info);
      },
      py::arg("images"), py::arg("weights") = std::vector<double>{}, py::arg("eps") = py::none(),
      py::arg("blur_px") = 2.0, py::arg("max_iterations") = 10000, py::arg("tolerance") = 1e-4,
      py::arg("sharpen") = false, py::arg("log_domain") = false, py::arg("log") = false,
      "Convolutional (entropic) barycenter of 2-D images or 3-D volumes (Solomon et al. 2015). The kernel is a "
      "Gaussian of blur_px pixels; eps instead selects POT's grid convention (convolutional_barycenter2d's reg). "
      "2-D images run in the linear domain on the inputs' supports while that is exact, then in the log domain; "
      "log_domain=True runs every iteration in the log domain (POT's method='sinkhorn_log', with its stabThr). "
      "Returns the barycenter; with log=True, (barycenter, {converged, iterations, error_trace, "
      "linear_domain_iterations}) (error every 10 iterations).");

  m.def(
      "gaussian_barycenter",
      [](const std::vector<Array>& means, const std::vector<Array>& covariances, std::vector<double> weights) {
        if (means.size() != covariances.size() || means.empty()) {
          throw wbary::InvalidArgument("gaussian_barycenter: give one mean and one covariance per Gaussian");
        }
        std::vector<wbary::data::GaussianMoments> g;
        for (size_t k = 0; k < means.size(); ++k) {
          g.push_back({to_tensor(means[k], "means", 1), to_tensor(covariances[k], "covariances", 2)});
        }
        if (weights.empty()) weights.assign(g.size(), 1.0 / static_cast<double>(g.size()));
        const auto r = without_gil([&] { return wbary::barycenter::GaussianBarycenter().solve(g, weights); });
        return py::make_tuple(to_array(r.barycenter.mean), to_array(r.barycenter.covariance));
      },
      py::arg("means"), py::arg("covariances"), py::arg("weights") = std::vector<double>{},
      "The W2 barycenter of Gaussians N(m_i, S_i) by the fixed point of Alvarez-Esteban et al.; returns (mean, cov).");

  using wbary::barycenter::BarycenterModel;
  py::class_<BarycenterModel>(m, "BarycenterModel",
                              "A trained continuous barycenter (wbary.fit, wbary.load_model, or `wbary fit --out DIR`)")
      .def("save", &BarycenterModel::save, py::arg("dir"),
           "Writes DIR/model.pt and DIR/model.json (readable by `wbary sample`, `push`, `pull`, `eval`).")
      .def_property_readonly("method", &BarycenterModel::method, "'nwb', 'cwb', 'crwb' or 'nwb-all'")
      .def_property_readonly(
          "history", [](const BarycenterModel& model) { return to_python(model.history()); },
          "Training records (losses every log_every steps), as a list of dicts.")
      .def_property_readonly("dim", &BarycenterModel::dim)
      .def_property_readonly("count", &BarycenterModel::count)
      .def_property_readonly("has_generator", &BarycenterModel::has_generator,
                             "True when sample() draws from the model alone (NWB's h); otherwise it pushes fresh "
                             "samples of the marginals")
      .def(
          "sample",
          [](const BarycenterModel& model, int64_t n, uint64_t seed) {
            return to_array(without_gil([&] { return model.sample(n, seed); }));
          },
          py::arg("n"), py::arg("seed") = 0, "n barycenter samples, [n, d]: h(Z) for NWB, pushed marginal samples otherwise.")
      .def(
          "push",
          [](const BarycenterModel& model, int64_t i, const Array& x) {
            const at::Tensor t = to_tensor(x, "x", 2);
            return to_array(without_gil([&] { return model.push(i, t); }));
          },
          py::arg("i"), py::arg("x"),
          "Maps samples of marginal i to the barycenter (NWB grad g_i, CWB grad psi_i, CRWB x - grad f_i/2), [n, d].")
      .def(
          "pull",
          [](const BarycenterModel& model, int64_t i, const Array& y) {
            const at::Tensor t = to_tensor(y, "y", 2);
            return to_array(without_gil([&] { return model.pull(i, t); }));
          },
          py::arg("i"), py::arg("y"), "Maps barycenter samples back to marginal i (NWB grad f_i, CWB grad psibar_i), [n, d].");
  py::class_<wbary::barycenter::NeuralBarycenterModel, BarycenterModel>(
      m, "NeuralBarycenter", "A trained neural barycenter (NWB; wbary.fit, or `wbary fit --out DIR`)")
      .def_static("load", &wbary::barycenter::NeuralBarycenterModel::load, py::arg("dir"), py::arg("device") = "",
                  "Loads OUT/model.* written by `wbary fit` or NeuralBarycenter.save.");
  py::class_<wbary::barycenter::ContinuousBarycenterModel, BarycenterModel>(
      m, "ContinuousBarycenter", "A trained CWB barycenter (Korotin et al. 2021; wbary.fit(method='cwb'))");
  py::class_<wbary::barycenter::RegularizedBarycenterModel, BarycenterModel>(
      m, "RegularizedBarycenter", "A trained CRWB barycenter (Li et al. 2020; wbary.fit(method='crwb'))");
  using wbary::barycenter::AllWeightsBarycenterModel;
  // weights=None: the weights the model was fitted with (uniform unless given).
  auto weights_or_default = [](const AllWeightsBarycenterModel& model, const py::object& w) {
    return w.is_none() ? model.weights() : w.cast<std::vector<double>>();
  };
  py::class_<AllWeightsBarycenterModel, BarycenterModel>(
      m, "AllWeightsBarycenter",
      "Barycenters for every weight vector from one training (NWB-II; wbary.fit(..., all_weights=True))")
      .def(
          "sample",
          [weights_or_default](const AllWeightsBarycenterModel& model, int64_t n, const py::object& weights,
                               uint64_t seed) {
            const auto w = weights_or_default(model, weights);
            return to_array(without_gil([&] { return model.sample(n, w, seed); }));
          },
          py::arg("n"), py::arg("weights") = py::none(), py::arg("seed") = 0,
          "n samples [n, d] of the barycenter with these weights (one per input; normalised): h(Z, w).")
      .def(
          "push",
          [weights_or_default](const AllWeightsBarycenterModel& model, int64_t i, const Array& x,
                               const py::object& weights) {
            const auto w = weights_or_default(model, weights);
            const at::Tensor t = to_tensor(x, "x", 2);
            return to_array(without_gil([&] { return model.push(i, t, w); }));
          },
          py::arg("i"), py::arg("x"), py::arg("weights") = py::none(),
          "Maps samples of marginal i onto the barycenter with these weights: grad g_i(x; w), [n, d].")
      .def(
          "pull",
          [weights_or_default](const AllWeightsBarycenterModel& model, int64_t i, const Array& y,
                               const py::object& weights) {
            const auto w = weights_or_default(model, weights);
            const at::Tensor t = to_tensor(y, "y", 2);
            return to_array(without_gil([&] { return model.pull(i, t, w); }));
          },
          py::arg("i"), py::arg("y"), py::arg("weights") = py::none(),
          "Maps points of the barycenter with these weights back to marginal i: grad f_i(y; w), [n, d].");
  m.def(
      "load_model",
      [](const std::string& dir, const std::string& device) { return wbary::barycenter::load_model(dir, device); },
      py::arg("dir"), py::arg("device") = "", "Loads a model directory written by `wbary fit` with any --method.");

  m.def(
      "fit",
      [](const std::vector<py::object>& marginals, std::vector<double> weights, const py::object& config,
         int64_t progress_every, std::string method, bool all_weights) {
        if (all_weights) {
          if (method != "nwb" && method != "nwb-all") {
            throw wbary::InvalidArgument("all_weights=True is NWB-II (method='nwb-all'); it does not combine with "
                                         "method='" + method + "'");
          }
          method = "nwb-all";
        }
        wbary::barycenter::BarycenterProblem problem;
        for (const auto& mo : marginals) {
          std::string spec;
          problem.marginals.push_back(to_sampler(mo, spec));
          problem.specs.push_back(spec);
        }
        problem.weights = std::move(weights);
        problem.validate();
        const auto& m = wbary::barycenter::find_method(method);
        wbary::config::FieldList c = m.default_config();
        c.update(to_json(config));
        const nlohmann::json cj = c.to_json();
        // Solvers may train in their constructor (CWB's identity pre-training): no GIL there.
        std::unique_ptr<wbary::barycenter::BarycenterSolver> solver =
            without_gil([&] { return m.make_solver(std::move(problem), cj); });
        train_from_python(*solver, progress_every);
        return without_gil([&] { return solver->take_result(); });
      },
      py::arg("marginals"), py::arg("weights") = std::vector<double>{}, py::arg("config") = py::none(),
      py::arg("progress_every") = 0, py::arg("method") = "nwb", py::arg("all_weights") = false,
      "Trains a continuous Wasserstein barycenter of marginals given as point clouds [n, d], specs\n"
      "('gaussian:dim=16,seed=3', see `wbary fit --help`) or callables draw(n, seed) -> array [n, d], called for\n"
      "every batch with the GIL taken only around the call (an exception inside stops training and is raised). method: 'nwb' (Fan et al. 2021, Algorithm 1; default),\n"
      "'cwb' (Korotin et al. 2021), 'crwb' (Li et al. 2020) or 'nwb-all' (= all_weights=True: NWB-II, one model\n"
      "for every weight vector; then model.sample(n, weights=[...])). config: a dict of `wbary fit --method M\n"
      "--dump-config` keys (e.g. {'iterations': 2000}); defaults are the papers'. Returns a BarycenterModel\n"
      "(NeuralBarycenter for nwb). Ctrl-C stops training and raises KeyboardInterrupt.");

  py::class_<wbary::maps::W2MapModel>(m, "W2Map", "A learned W2 (Brenier) map (wbary.map_fit, or `wbary map fit`)")
      .def_static("load", &wbary::maps::W2MapModel::load, py::arg("dir"), py::arg("device") = "")
      .def("save", &wbary::maps::W2MapModel::save, py::arg("dir"))
      .def_property_readonly("dim", &wbary::maps::W2MapModel::dim)
      .def(
          "forward",
          [](const wbary::maps::W2MapModel& model, const Array& x) {
            const at::Tensor t = to_tensor(x, "x", 2);
            return to_array(without_gil([&] { return model.forward(t); }));
          },
          py::arg("x"), "T(x) = grad f(x): source samples mapped onto the target, [n, d].")
      .def(
          "inverse",
          [](const wbary::maps::W2MapModel& model, const Array& y, bool amortized) {
            const at::Tensor t = to_tensor(y, "y", 2);
            return to_array(without_gil([&] { return amortized ? model.amortized_inverse(t) : model.inverse(t); }));
          },
          py::arg("y"), py::arg("amortized") = false,
          "grad f*(y): target samples mapped back (the fine-tuned conjugate; amortized=True: the network alone).")
      .def_property_readonly("history", [](const wbary::maps::W2MapModel& model) {
        return to_python(model.history());
      });

  m.def(
      "map_fit",
      [](const py::object& source, const py::object& target, const py::object& config, int64_t progress_every) {
        wbary::maps::W2MapProblem problem;
        problem.source = to_sampler(source, problem.source_spec);
        problem.target = to_sampler(target, problem.target_spec);
        wbary::maps::W2MapConfig c;
        wbary::maps::update_from_json(c, to_json(config));
        c.validate();
        wbary::maps::W2Map solver(std::move(problem), c);
        train_from_python(solver, progress_every);
        return std::move(solver.model());
      },
      py::arg("source"), py::arg("target"), py::arg("config") = py::none(), py::arg("progress_every") = 0,
      "Learns the W2 map from source to target (Amos 2023: amortized, fine-tuned convex conjugates); each a\n"
      "cloud [n, d], a spec or a callable draw(n, seed) -> [n, d]. config: keys of `wbary map fit --dump-config`. Returns a W2Map.");

  py::class_<RobustResult>(m, "RobustBarycenter", "A robust (semi-unbalanced) barycenter (wbary.robust_fit)")
      .def_property_readonly("dim", [](const RobustResult& r) { return r.model.dim(); })
      .def_property_readonly("count", [](const RobustResult& r) { return r.model.count(); })
      .def(
          "sample",
          [](const RobustResult& r, int64_t n, uint64_t seed) {
            const auto out = without_gil([&] { return r.model.sample(r.marginals, n, seed); });
            return py::make_tuple(to_array(out.points), to_array(out.origin.to(at::kDouble)), out.acceptance_rate);
          },
          py::arg("n"), py::arg("seed") = 0,
          "n barycenter samples: (points [n, d], origin [n] (which input each came from), acceptance rate per "
          "input).")
      .def(
          "push",
          [](const RobustResult& r, int64_t k, const Array& x, uint64_t seed) {
            const at::Tensor t = to_tensor(x, "x", 2);
            return to_array(without_gil([&] { return r.model.push(k, t, seed); }));
          },
          py::arg("k"), py::arg("x"), py::arg("seed") = 0, "T_k(x): samples of input k mapped to the barycenter.")
      .def(
          "acceptance_weight",
          [](const RobustResult& r, int64_t k, const Array& x, uint64_t seed) {
            const at::Tensor t = to_tensor(x, "x", 2);
            return to_array(without_gil([&] { return r.model.acceptance_weight(k, t, seed); }));
          },
          py::arg("k"), py::arg("x"), py::arg("seed") = 0,
          "The density ratio w_k(x) the robust barycenter keeps of input k (small on outliers).")
      .def("save", [](const RobustResult& r, const std::string& dir) { r.model.save(dir); }, py::arg("dir"))
      .def_property_readonly("history", [](const RobustResult& r) {
        return to_python(r.model.history());
      });

  m.def(
      "robust_fit",
      [](const std::vector<py::object>& marginals, std::vector<double> weights, const py::object& config,
         int64_t progress_every) {
        wbary::barycenter::RobustBarycenterProblem problem;
        for (const auto& mo : marginals) {
          std::string spec;
          problem.base.marginals.push_back(to_sampler(mo, spec));
          problem.base.specs.push_back(spec);
        }
        problem.base.weights = std::move(weights);
        problem.validate();
        wbary::barycenter::RobustBarycenterConfig c;
        wbary::barycenter::update_from_json(c, to_json(config));
        c.validate();
        const auto samplers = problem.base.marginals;
        wbary::barycenter::RobustBarycenter solver(std::move(problem), c);
        train_from_python(solver, progress_every);
        return RobustResult{std::move(solver.model()), samplers};
      },
      py::arg("marginals"), py::arg("weights") = std::vector<double>{}, py::arg("config") = py::none(),
      py::arg("progress_every") = 0,
      "Robust barycenter by semi-unbalanced neural OT (Gazdieva et al. 2025): marginals as clouds, specs or\n"
      "callables draw(n, seed) -> [n, d];\n"
      "config: keys of `wbary robust fit --dump-config` (divergence 'kl' | 'softplus' | 'identity', tau, ...).");

  m.def(
      "grid_predict",
      [](const std::vector<Array>& images, std::vector<double> weights, const std::string& model_dir) {
        const std::vector<at::Tensor> imgs = to_tensors(images, "images");
        const std::string dir = model_dir.empty() ? wbary::grid::shipped_grid_model_dir() : model_dir;
        if (dir.empty()) throw wbary::IoError("grid_predict: no model given and the shipped model is missing");
        if (weights.empty()) weights.assign(imgs.size(), 1.0 / static_cast<double>(imgs.size()));
        const auto model = wbary::grid::LearnedGridBarycenter::load(dir);
        return to_array(without_gil([&] { return model.predict(imgs, weights); }));
      },
      py::arg("images"), py::arg("weights") = std::vector<double>{}, py::arg("model") = "",
      "Barycenter of 2-D images predicted by the trained U-Net (default: the shipped 64x64 model).");
}
