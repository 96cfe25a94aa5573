/* SPDX-License-Identifier: MIT */
#include "precompiled.hpp"
#include "fabtx_address.hpp"
#include "fabtx_vendor.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

namespace
{
pthread_mutex_t fabtx_ctx_mutex = PTHREAD_MUTEX_INITIALIZER;
fabtx_ctx *fabtx_ctx_shared = NULL;
int fabtx_ctx_refs = 0;
pid_t fabtx_ctx_pid = 0;
//  the zmq contexts holding a reference (fabtx_ctx_ref's zctx_)
const void *fabtx_ctx_keepers[64];
int fabtx_ctx_nkeepers = 0;

bool all_of (const std::string &s_, const char *set_)
{
    for (size_t i = 0; i < s_.size (); i++) {
        const unsigned char ch = static_cast<unsigned char> (s_[i]);
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
              || (ch >= '0' && ch <= '9') || strchr (set_, ch) != NULL))
            return false;
    }
    return true;
}

bool is_number (const std::string &s_)
{
    if (s_.empty () || s_.size () > 10)
        return false;
    for (size_t i = 0; i < s_.size (); i++)
        if (s_[i] < '0' || s_[i] > '9')
            return false;
    return true;
}
}

bool zmq::fabtx_is_protocol (const std::string &protocol_)
{
    if (protocol_ == "shm")
        return true;
#if FABTX_ZMQ_HAVE_OFI
    if (protocol_ == "ofi")
        return true;
#endif
#if FABTX_ZMQ_HAVE_RIO
    if (protocol_ == "rio")
        return true;
#endif
#if FABTX_ZMQ_HAVE_SCIF
    if (protocol_ == "scif")
        return true;
#endif
    return false;
}

int zmq::fabtx_check_address (const std::string &protocol_,
                              const std::string &address_,
                              bool connect_)
{
    bool ok = false;
    if (protocol_ == "shm") {
        //  shm://NAME, NAME: 1..100 chars of [A-Za-z0-9._-]
        ok = !address_.empty () && address_.size () <= 100
             && all_of (address_, "._-");
    } else if (protocol_ == "ofi") {
        //  ofi://HOST:PORT[?query] or ofi://HOST:PORT@FABRIC:PROV
        char host[256], port[64];
        const char *query = NULL;
        std::string hp = address_.substr (0, address_.find ('@'));
        ok = !address_.empty ()
             && fabtx_url_hostport (hp.c_str (), host, sizeof host, port,
                                    sizeof port, &query)
                  == 0
             && !(connect_ && strcmp (host, "*") == 0);
    } else if (protocol_ == "rio") {
        //  rio://DESTID:CHANNEL or rio://*:CHANNEL
        const size_t colon = address_.find (':');
        ok = colon != std::string::npos
             && ((!connect_ && address_.substr (0, colon) == "*")
                 || is_number (address_.substr (0, colon)))
             && is_number (address_.substr (colon + 1));
    } else if (protocol_ == "scif") {
        //  scif://NODE:PORT or scif://PORT
        const size_t colon = address_.find (':');
        ok = colon == std::string::npos
               ? is_number (address_)
               : is_number (address_.substr (0, colon))
                   && is_number (address_.substr (colon + 1));
    }
    if (!ok) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

std::string zmq::fabtx_bound_endpoint (const std::string &uri_)
{
    static const char wild[] = "ofi://*:";
    if (uri_.compare (0, sizeof wild - 1, wild) != 0)
        return uri_;
    return "ofi://0.0.0.0:" + uri_.substr (sizeof wild - 1);
}

fabtx_ctx *zmq::fabtx_ctx_ref (const void *zctx_)
{
    pthread_mutex_lock (&fabtx_ctx_mutex);
    //  A forked child must not drive its parent's context (its eventfds and
    //  mappings belong to the parent's connections): start afresh.
    if (fabtx_ctx_shared && fabtx_ctx_pid != getpid ()) {
        fabtx_ctx_shared = NULL;
        fabtx_ctx_refs = 0;
        fabtx_ctx_nkeepers = 0;
    }
    if (!fabtx_ctx_shared) {
        fabtx_ctx *ctx = NULL;
        int rc = ::fabtx_ctx_create (&ctx, NULL);
#if FABTX_ZMQ_HAVE_OFI
        if (rc == 0)
            rc = fabtx_ctx_add_backend (ctx, fabtx_ofi_backend ());
#endif
#if FABTX_ZMQ_HAVE_RIO
        if (rc == 0)
            rc = fabtx_ctx_add_backend (ctx, fabtx_rio_backend ());
#endif
#if FABTX_ZMQ_HAVE_SCIF
        if (rc == 0)
            rc = fabtx_ctx_add_backend (ctx, fabtx_scif_backend ());
#endif
        if (rc < 0) {
            if (ctx)
                fabtx_ctx_destroy (ctx);
            pthread_mutex_unlock (&fabtx_ctx_mutex);
            errno = fabtx_errno (rc);
            return NULL;
        }
        fabtx_ctx_shared = ctx;
        fabtx_ctx_pid = getpid ();
    }
    fabtx_ctx_refs++;
    if (zctx_) {
        int i = 0;
        while (i < fabtx_ctx_nkeepers && fabtx_ctx_keepers[i] != zctx_)
            i++;
        //  (past 64 zmq contexts at once, the others hold none: correct,
        //  only without the reuse)
        if (i == fabtx_ctx_nkeepers && i < 64) {
            fabtx_ctx_keepers[fabtx_ctx_nkeepers++] = zctx_;
            fabtx_ctx_refs++;
        }
    }
    fabtx_ctx *ctx = fabtx_ctx_shared;
    pthread_mutex_unlock (&fabtx_ctx_mutex);
    return ctx;
}

void zmq::fabtx_ctx_forget (const void *zctx_)
{
    bool held = false;
    pthread_mutex_lock (&fabtx_ctx_mutex);
    if (fabtx_ctx_pid == getpid ())
        for (int i = 0; i < fabtx_ctx_nkeepers; i++)
            if (fabtx_ctx_keepers[i] == zctx_) {
                fabtx_ctx_keepers[i] =
                  fabtx_ctx_keepers[--fabtx_ctx_nkeepers];
                held = true;
                break;
            }
    pthread_mutex_unlock (&fabtx_ctx_mutex);
    if (held)
        fabtx_ctx_unref ();
}

void zmq::fabtx_ctx_unref ()
{
    pthread_mutex_lock (&fabtx_ctx_mutex);
    if (fabtx_ctx_shared && fabtx_ctx_pid == getpid () && fabtx_ctx_refs > 0
        && --fabtx_ctx_refs == 0) {
        fabtx_ctx_destroy (fabtx_ctx_shared);
        fabtx_ctx_shared = NULL;
    }
    pthread_mutex_unlock (&fabtx_ctx_mutex);
}

int zmq::fabtx_errno (int rc_)
{
    if (rc_ >= 0)
        return 0;
    if (rc_ == -ESHUTDOWN)
        return EPIPE;
    return -rc_;
}
