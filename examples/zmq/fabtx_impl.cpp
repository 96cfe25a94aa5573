/* SPDX-License-Identifier: MIT */
/* fabtx_impl.cpp -- the one libzmq translation unit that carries the fabtx
 * implementation (core, shm:// and whichever backends build.sh found),
 * compiled as C++ with hidden visibility. */
#define FABTX_IMPLEMENTATION
#include "fabtx_vendor.h"
