/* SPDX-License-Identifier: MIT */
/* ftx_vendor.h -- how nanomsg includes fabtx: hidden visibility for every
 * fabtx symbol; ftx_config.h (written by integrations/nanomsg/build.sh)
 * says which backends were found at build time. */
#ifndef FTX_VENDOR_H_INCLUDED
#define FTX_VENDOR_H_INCLUDED
#ifndef FABTX_API
#if defined(__GNUC__)
#define FABTX_API __attribute__((visibility("hidden"))) extern
#else
#define FABTX_API extern
#endif
#endif
#include "ftx_config.h"
#include "fabtx.h"
#if FTX_HAVE_OFI
#include "fabtx_ofi.h"
#endif
#if FTX_HAVE_RIO
#include "fabtx_rio.h"
#endif
#if FTX_HAVE_SCIF
#include "fabtx_scif.h"
#endif
#endif
