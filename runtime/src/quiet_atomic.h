/* quiet_atomic.h — moved to include/csp_quiet_atomic.h (installed with csp_tool.h). */
#include "csp_quiet_atomic.h"
