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

/* A stored definition's model, cached (at paths_model_cache(), on the
 * run directory's tmpfs) so that a start needs neither the parse child
 * nor libxml2: written by `lvsh define` and by the supervisor's parse
 * child, read by the supervisor before it would fork that child. The
 * cache's first line is a key: this build's version (and the model's
 * size), and the XML file's
 * device, inode, size, mtime and ctime (taken before it was parsed), so
 * any change to the XML (an atomic replace is a new inode; an edit in
 * place changes the times) makes the cache not match, and it is
 * ignored. Reading returns true only for a matching, well-formed, valid
 * model; anything else (missing, stale, torn, refused) is false and the
 * caller parses the XML as before. Writing is best effort (false when it
 * could not). */
struct stat;
bool domain_json_cache_read(const char *cache_path, const char *xml_path, struct domain_def **ret);
bool domain_json_cache_write(const char *cache_path, const struct stat *xml_st,
                             const struct domain_def *def);

/* The uuid of a model file (a running guest's definition.json), cheaply:
 * only its first bytes are read, where domain_to_json() writes the uuid
 * (after the type and the name; quotes inside a JSON string are escaped,
 * so the first "uuid":" is the member). lvsh's uniqueness check reads
 * every running guest's uuid: a full parse and validation of each made
 * every define and create grow with the guests running (docs/performance.md,
 * "Scale"). true with the uuid; false when it is not found there (the
 * caller reads the model in full). */
bool domain_json_peek_uuid(const char *path, unsigned char uuid[16]);
