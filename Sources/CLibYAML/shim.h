#ifndef ATTACHE_CLIBYAML_SHIM_H
#define ATTACHE_CLIBYAML_SHIM_H
#include <yaml.h>
#endif
