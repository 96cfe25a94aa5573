/* SPDX-License-Identifier: MIT */
/* fabtx_impl.c -- the one nanomsg translation unit that carries the fabtx
 * implementation (core, shm:// and the backends build.sh found), every
 * symbol hidden (ftx_vendor.h), so nothing of fabtx leaves libnanomsg.so. */
#define FABTX_IMPLEMENTATION
#include "ftx_vendor.h"
