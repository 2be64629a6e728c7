/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh send-key: virsh's keycodes (the linux set by default: KEY_* names
 * or numbers; --codeset qnum for QEMU's own numbers) turned into QEMU's
 * "qnum" numbers (XT scan codes, 0x80 | code for the 0xe0-prefixed keys)
 * for QMP send-key. */
#include <json-c/json.h>
#include <linux/input-event-codes.h>

#include "tools/lvsh-common.h"
#include "lib/methods.h"

#define SEND_KEY_MAX 16 /* virsh's VIR_DOMAIN_SEND_KEY_MAX_KEYS */

#define K(name)                                                                                    \
        {                                                                                          \
                "KEY_" #name, KEY_##name                                                           \
        }
static const struct {
        const char *name;
        int code;
} linux_names[] = {
        K(ESC),        K(1),         K(2),          K(3),          K(4),        K(5),
        K(6),          K(7),         K(8),          K(9),          K(0),        K(MINUS),
        K(EQUAL),      K(BACKSPACE), K(TAB),        K(Q),          K(W),        K(E),
        K(R),          K(T),         K(Y),          K(U),          K(I),        K(O),
        K(P),          K(LEFTBRACE), K(RIGHTBRACE), K(ENTER),      K(LEFTCTRL), K(A),
        K(S),          K(D),         K(F),          K(G),          K(H),        K(J),
        K(K),          K(L),         K(SEMICOLON),  K(APOSTROPHE), K(GRAVE),    K(LEFTSHIFT),
        K(BACKSLASH),  K(Z),         K(X),          K(C),          K(V),        K(B),
        K(N),          K(M),         K(COMMA),      K(DOT),        K(SLASH),    K(RIGHTSHIFT),
        K(KPASTERISK), K(LEFTALT),   K(SPACE),      K(CAPSLOCK),   K(F1),       K(F2),
        K(F3),         K(F4),        K(F5),         K(F6),         K(F7),       K(F8),
        K(F9),         K(F10),       K(NUMLOCK),    K(SCROLLLOCK), K(KP7),      K(KP8),
        K(KP9),        K(KPMINUS),   K(KP4),        K(KP5),        K(KP6),      K(KPPLUS),
        K(KP1),        K(KP2),       K(KP3),        K(KP0),        K(KPDOT),    K(102ND),
        K(F11),        K(F12),       K(KPENTER),    K(RIGHTCTRL),  K(KPSLASH),  K(SYSRQ),
        K(RIGHTALT),   K(HOME),      K(UP),         K(PAGEUP),     K(LEFT),     K(RIGHT),
        K(END),        K(DOWN),      K(PAGEDOWN),   K(INSERT),     K(DELETE),   K(PAUSE),
        K(LEFTMETA),   K(RIGHTMETA), K(COMPOSE),    K(POWER),
};
#undef K

/* Linux keycodes above the XT range that the PC keyboard has: their
 * 0xe0-prefixed scan code, as qnum (0x80 | code). Keycodes 1..88 are the
 * XT scan codes themselves. */
static const int linux_extended[][2] = {
        {KEY_KPENTER, 0x9c},  {KEY_RIGHTCTRL, 0x9d}, {KEY_KPSLASH, 0xb5}, {KEY_SYSRQ, 0x54},
        {KEY_RIGHTALT, 0xb8}, {KEY_HOME, 0xc7},      {KEY_UP, 0xc8},      {KEY_PAGEUP, 0xc9},
        {KEY_LEFT, 0xcb},     {KEY_RIGHT, 0xcd},     {KEY_END, 0xcf},     {KEY_DOWN, 0xd0},
        {KEY_PAGEDOWN, 0xd1}, {KEY_INSERT, 0xd2},    {KEY_DELETE, 0xd3},  {KEY_PAUSE, 0xc6},
        {KEY_LEFTMETA, 0xdb}, {KEY_RIGHTMETA, 0xdc}, {KEY_COMPOSE, 0xdd}, {KEY_POWER, 0xde},
};

static int linux_to_qnum(int code)
{
        if (code >= 1 && code <= 88)
                return code;
        for (size_t i = 0; i < ARRAY_SIZE(linux_extended); i++)
                if (linux_extended[i][0] == code)
                        return linux_extended[i][1];
        return -1;
}

/* One keycode argument: a KEY_* name (linux set), or a number (decimal
 * or 0x hex). The qnum code, or -1. */
static int key_parse(const char *arg, bool qnum)
{
        char *end;
        errno = 0;
        long n = strtol(arg, &end, 0);
        if (!*end && !errno && end != arg && n > 0 && n < 0x200)
                return qnum ? (n <= 0xff ? (int)n : -1) : linux_to_qnum((int)n);
        for (size_t i = 0; !qnum && i < ARRAY_SIZE(linux_names); i++)
                if (strcasecmp(linux_names[i].name, arg) == 0)
                        return linux_to_qnum(linux_names[i].code);
        return -1;
}

static int cmd_send_key(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command("send-key");
        const char *name = NULL, *codeset = "linux";
        long holdtime = 0;
        int codes[SEND_KEY_MAX], n = 0;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (streq(a, "--codeset") || streq(a, "--holdtime") || streq(a, "--domain")) {
                        if (i + 1 >= argc)
                                return lvsh_usage_error(cmd, err, "option '%s' needs a value", a);
                        const char *v = argv[++i];
                        char *end;
                        if (streq(a, "--codeset"))
                                codeset = v;
                        else if (streq(a, "--domain"))
                                name = v;
                        else if ((holdtime = strtol(v, &end, 10)) < 0 || *end || holdtime > 60000)
                                return lvsh_usage_error(cmd, err,
                                                        "--holdtime '%s': not milliseconds "
                                                        "(0..60000)",
                                                        v);
                        continue;
                }
                if (startswith(a, "--"))
                        return lvsh_usage_error(cmd, err, "unknown option '%s'", a);
                if (!name) {
                        name = a;
                        continue;
                }
                if (!streq(codeset, "linux") && !streq(codeset, "qnum"))
                        return lv_error_setf(err, EINVAL,
                                             "invalid codeset '%s' (litevirt knows linux and qnum)",
                                             codeset);
                if (n >= SEND_KEY_MAX)
                        return lv_error_setf(err, EINVAL, "too many keycodes (at most %d)",
                                             SEND_KEY_MAX);
                if ((codes[n++] = key_parse(a, streq(codeset, "qnum"))) < 0)
                        return lv_error_setf(err, EINVAL, "invalid keycode: '%s'", a);
        }
        if (!name || n == 0)
                return lvsh_usage_error(cmd, err, "a domain name and at least one keycode needed");
        struct json_object *p = json_object_new_object(), *keys = json_object_new_array();
        for (int i = 0; i < n; i++)
                json_object_array_add(keys, json_object_new_int(codes[i]));
        json_object_object_add(p, "keys", keys);
        if (holdtime)
                json_object_object_add(p, "holdtime_ms", json_object_new_int((int)holdtime));
        int r = lvsh_call(name, LV_METHOD_SEND_KEY, p, NULL, err);
        json_object_put(p);
        if (r < 0)
                return lv_error_prefix(err, "Failed to send key(s) to domain '%s'\nerror", name);
        return 0;
}

const struct lvsh_command lvsh_sendkey_commands[] = {
        {"send-key", "NAME [--codeset linux|qnum] [--holdtime MS] KEYCODE...",
         "Send keycodes to the guest",
         "    Presses the keys together, then releases them (after --holdtime\n"
         "    milliseconds), as virsh: e.g. send-key web1 KEY_LEFTCTRL KEY_LEFTALT\n"
         "    KEY_DELETE. Keycodes of the linux set are KEY_* names or numbers;\n"
         "    --codeset qnum takes QEMU's numbers. At most 16 keys. QEMU guests.",
         cmd_send_key},
        {0},
};
