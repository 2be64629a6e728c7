/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The whole domain model (struct domain_def) as JSON and back, without
 * libxml2 (conf/domain_json.c). The supervisor parses its definition in a
 * short-lived child, which sends the model back this way, so the
 * long-running process never maps libxml2/ICU/libstdc++. Not a public
 * format: both ends are the same build. */

#include <stddef.h>

#include "conf/domain.h"

/* A model's JSON is about as big as its XML (at most DOMAIN_XML_MAX_BYTES);
 * anything bigger is refused unread. */
#define DOMAIN_JSON_MAX_BYTES (4 * DOMAIN_XML_MAX_BYTES)

/* Every member of def; never NULL. */
char *domain_to_json(const struct domain_def *def);
/* Rebuild a model: malformed JSON, an unknown member, a member of the
 * wrong type or out of range (enums included) is refused with a message
 * naming the member; *ret is untouched on failure. No validation beyond
 * that (the caller runs domain_validate()). */
int domain_from_json(const char *json, size_t len, struct domain_def **ret, struct lv_error **err);

/* Read a model written with domain_to_json() (a running guest's
 * definition in its state directory, docs/supervisor.md) and validate
 * it. Errors name the file. */
int domain_json_read_file(const char *path, struct domain_def **ret, struct lv_error **err);
