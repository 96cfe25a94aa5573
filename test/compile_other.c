/* A second translation unit that only uses the declarations. */
#include "fabtx.h"
int other_version(void);
int other_version(void) { return (int)fabtx_version(); }
