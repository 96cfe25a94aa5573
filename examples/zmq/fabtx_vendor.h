/* SPDX-License-Identifier: MIT */
/* fabtx_vendor.h -- how libzmq includes fabtx: every fabtx symbol gets
 * hidden visibility, so the vendored copy never leaks out of libzmq.so (and
 * libzmq.vers exports only zmq_* anyway).  fabtx_zmq_config.h is written by
 * examples/zmq/build.sh and says which backends were found at build time. */
#ifndef FABTX_VENDOR_H_INCLUDED
#define FABTX_VENDOR_H_INCLUDED
#ifndef FABTX_API
#if defined(__GNUC__)
#define FABTX_API __attribute__((visibility("hidden"))) extern
#else
#define FABTX_API extern
#endif
#endif
#include "fabtx_zmq_config.h"
#include "fabtx.h"
#if FABTX_ZMQ_HAVE_OFI
#include "fabtx_ofi.h"
#endif
#if FABTX_ZMQ_HAVE_RIO
#include "fabtx_rio.h"
#endif
#if FABTX_ZMQ_HAVE_SCIF
#include "fabtx_scif.h"
#endif
#endif
