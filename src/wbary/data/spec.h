// File: wbary/data/spec.h
//
// Marginals named on the command line: either a file (.npy / .csv) or a
// synthetic law "kind:key=value,key=value". The spec string is what a
// model stores to remember where its marginals came from.
//
//   gaussian:dim=16,seed=3[,eig_min=0.5,eig_max=5,shift=0]   random covariance (Fan et al. §4.2)
//   gaussian:json=g.json                                     {"mean": [...], "cov": [[...]]}
//   mixture:dim=2,k=8,radius=4,std=0.3,seed=0                isotropic mixture
//   disc:r=1[,cx=0,cy=0]   ring:inner=0.6,outer=1[,cx,cy]   square:side=2[,cx,cy]
//   image:path=mask.png[,scale=1,invert=0]                   uniform on the dark pixels
//   palette:path=photo.jpg                                   an image's colours in [0, 1]^3
//   path/to/cloud.npy | path/to/cloud.csv                    empirical cloud
//
// Example:
//   std::unique_ptr<data::Sampler> s = data::make_sampler("ring:inner=0.6,outer=1");
#pragma once

#include <memory>
#include <string>

#include "wbary/data/sampler.h"

namespace wbary::data {

/// Builds the sampler a spec names. Throws InvalidArgument naming the spec
/// and the offending key on a malformed spec, IoError on a bad file.
std::unique_ptr<Sampler> make_sampler(const std::string& spec);

/// Reads Gaussian moments from JSON {"mean": [d], "cov": [[d x d]]}.
GaussianMoments read_gaussian_json(const std::string& path);

/// The help text listing every spec form (shown by `wbary fit --help`).
const char* sampler_spec_help();

}  // namespace wbary::data
