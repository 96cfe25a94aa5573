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
//  connect_: the address is to be connected to; a wildcard host (ofi://*:P,
//  rio://*:C) is then refused, as tcp:// refuses tcp://*:P.
int fabtx_check_address (const std::string &protocol_,
                         const std::string &address_,
                         bool connect_ = false);

//  The endpoint a bind of uri_ (scheme://address) is known by, as tcp://
//  reports tcp://*:P as tcp://0.0.0.0:P: ofi://*:P binds every address
//  and is reported (ZMQ_LAST_ENDPOINT) and unbound as ofi://0.0.0.0:P,
//  which peers on this host can connect to (unbinding the * form fails
//  with ENOENT, as it does for tcp://).  Other URLs are unchanged.
std::string fabtx_bound_endpoint (const std::string &uri_);

//  The shared fabtx context (created on first use, with every backend
//  registered).  NULL with errno set on failure.  Each fabtx_ctx_ref must be
//  paired with one fabtx_ctx_unref; the last one destroys the context.
//  zctx_: the zmq context of the caller, which then holds a reference of its
//  own until it is destroyed (fabtx_ctx_forget): what the fabtx context
//  keeps (fabric, domains, answers of fi_getinfo, spare endpoints) serves
//  the next connect of a zmq context that closed its last fabtx socket.
fabtx_ctx *fabtx_ctx_ref (const void *zctx_ = NULL);
void fabtx_ctx_unref ();
void fabtx_ctx_forget (const void *zctx_);

//  errno for a negative fabtx return code.
int fabtx_errno (int rc_);
}

#endif
