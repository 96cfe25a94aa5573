/* SPDX-License-Identifier: MIT */
/* fabtx_address.hpp -- the fabtx transports (shm://, ofi://, rio://,
 * scif://) as seen by libzmq: which schemes exist, address checks, and the
 * process-wide fabtx context shared by every listener and engine. */
#ifndef __ZMQ_FABTX_ADDRESS_HPP_INCLUDED__
#define __ZMQ_FABTX_ADDRESS_HPP_INCLUDED__

#include <string>

struct fabtx_ctx;

namespace zmq
{
//  True if protocol_ is a fabtx scheme whose backend is built in.
bool fabtx_is_protocol (const std::string &protocol_);

//  Syntax check of the part after "scheme://".  0, or -1 with errno EINVAL.
int fabtx_check_address (const std::string &protocol_,
                         const std::string &address_);

//  The shared fabtx context (created on first use, with every backend
//  registered).  NULL with errno set on failure.  Each fabtx_ctx_ref must be
//  paired with one fabtx_ctx_unref; the last one destroys the context.
fabtx_ctx *fabtx_ctx_ref ();
void fabtx_ctx_unref ();

//  errno for a negative fabtx return code.
int fabtx_errno (int rc_);
}

#endif
