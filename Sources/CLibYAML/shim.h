#ifndef KUBENFT_CLIBYAML_SHIM_H
#define KUBENFT_CLIBYAML_SHIM_H
#include <yaml.h>
#endif
