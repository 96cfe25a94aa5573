/* SPDX-License-Identifier: MIT */
/* fabtx_nn.h -- nanomsg transports over fabtx: shm://, ofi://, rio://,
 * scif:// (installed as <nanomsg/fabtx_nn.h>; docs/nanomsg.md).
 *
 * A program needs nothing from this header to use them: the URL alone
 * selects the transport, e.g.
 *     nn_bind (s, "shm://my-service");
 *     nn_connect (s, "ofi://10.0.0.1:5555?provider=verbs");
 * It names the transport ids (the level of nn_setsockopt for
 * transport-specific options; these transports have none). */
#ifndef FABTX_NN_H_INCLUDED
#define FABTX_NN_H_INCLUDED

#define NN_SHM -5
#define NN_OFI -6
#define NN_RIO -7
#define NN_SCIF -8

#endif
