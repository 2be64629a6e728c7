/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "error.h"

#include <stdarg.h>

static int code_to_errno(int code)
{
        if (code <= 0)
                return EINVAL;
        if (code > LV_ERR_BASE)
                return code == LV_ERR_NO_DOMAIN ? ENOENT : code == LV_ERR_EXISTS ? EEXIST : EINVAL;
        return code;
}

int lv_error_errno(const struct lv_error *e)
{
        return e ? -code_to_errno(e->code) : -EINVAL;
}

_printf_(4, 0) static int error_vset(struct lv_error **err, int code, bool with_errno,
                                     const char *fmt, va_list ap)
{
        if (code < 0)
                code = -code;
        if (!err || *err)
                return -code_to_errno(code);

        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        if (with_errno && code > 0 && code < LV_ERR_BASE) {
                char *full = xasprintf("%s: %s", msg, strerror(code));
                free(msg);
                msg = full;
        }
        struct lv_error *e = xcalloc(1, sizeof(*e));
        e->code = code;
        e->message = msg;
        *err = e;
        return -code_to_errno(code);
}

int lv_error_set(struct lv_error **err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_vset(err, code, true, fmt, ap);
        va_end(ap);
        return r;
}

int lv_error_setf(struct lv_error **err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_vset(err, code, false, fmt, ap);
        va_end(ap);
        return r;
}

int lv_error_prefix(struct lv_error **err, const char *fmt, ...)
{
        if (!err || !*err)
                return -EINVAL;
        char *ctx = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&ctx, fmt, ap) < 0)
                abort();
        va_end(ap);
        char *full = xasprintf("%s: %s", ctx, (*err)->message);
        free(ctx);
        free((*err)->message);
        (*err)->message = full;
        return lv_error_errno(*err);
}

void lv_error_free(struct lv_error *e)
{
        if (!e)
                return;
        free(e->message);
        free(e);
}

const char *lv_error_code_name(int code)
{
        switch (code) {
        case LV_ERR_INVALID_XML:
                return "InvalidXML";
        case LV_ERR_UNSUPPORTED:
                return "Unsupported";
        case LV_ERR_NO_DOMAIN:
                return "NoSuchGuest";
        case LV_ERR_EXISTS:
                return "GuestExists";
        case LV_ERR_STATE:
                return "InvalidState";
        case LV_ERR_PROTOCOL:
                return "ProtocolError";
        default:
                return "SystemError";
        }
}
