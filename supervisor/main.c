/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placeholder until the supervisor lands. */
#include "util/log.h"

int main(int argc, char **argv)
{
        log_set_ident("litevirt-supervisor");
        log_error("the supervisor is not implemented yet");
        return 1;
}
