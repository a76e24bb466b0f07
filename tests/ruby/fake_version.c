/* A "Ruby" of a version flameprof has no layout for: preloaded after libflameprof.so, this
 * ruby_version is the one the global lookup finds first. */
const char ruby_version[] = "9.9.9";
