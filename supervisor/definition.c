/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest's definition, parsed in a short-lived child (supervisor.h):
 * the child loads the libxml2 module, parses and validates
 * $LITEVIRT_GUESTDIR/NAME.xml and sends the model back as JSON
 * (conf/domain_json.h) over a pipe; the supervisor rebuilds it. So the
 * long-running supervisor never maps libxml2, ICU or libstdc++ (about
 * 100 KiB of private memory per guest that dlclose cannot give back:
 * libstdc++ is NODELETE). docs/performance.md has the figures.
 *
 * Child → parent stream: "ok\n" JSON, or "error CODE\n" MESSAGE. */
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/domain_json.h"
#include "conf/xml.h"
#include "supervisor/supervisor.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"
#include "util/fileio.h"

/* The child's answer: "ok\n" JSON, or "error CODE\n" MESSAGE; it ends. */
_noreturn_ static void child_answer(int fd, int r, const struct lv_error *err, const char *json)
{
        if (r < 0) {
                char *msg = xasprintf("error %d\n%s", err ? err->code : -r,
                                      err ? err->message : strerror(-r));
                (void)fd_write_all(fd, msg, strlen(msg), 0);
                _exit(1);
        }
        (void)fd_write_all(fd, "ok\n", 3, 0);
        (void)fd_write_all(fd, json, strlen(json), 0);
        _exit(0);
}

_noreturn_ static void child_parse(int fd, const char *name, const char *path, bool cache)
{
        _cleanup_error_ struct lv_error *err = NULL;
        struct domain_def *def = NULL;
        /* the model cache's key: the file as it was before the parse */
        struct stat st;
        cache = cache && stat(path, &st) == 0;
        const struct conf_xml_ops *xml = conf_xml(&err);
        int r = xml ? xml->domain_parse_file(path, &def, &err) : -ENOENT;
        if (r >= 0 && !streq(def->name, name))
                r = lv_error_setf(&err, LV_ERR_INVALID_XML,
                                  "definition '%s' names guest '%s', not '%s'", path,
                                  def->name ? def->name : "", name);
        if (r < 0)
                child_answer(fd, r, err, NULL);
        char *json = domain_to_json(def);
        (void)fd_write_all(fd, "ok\n", 3, 0);
        (void)fd_write_all(fd, json, strlen(json), 0);
        if (cache) {
                char *cache_path = paths_model_cache(name);
                (void)domain_json_cache_write(cache_path, &st, def);
        }
        _exit(0);
}

/* Everything the child wrote, at most max bytes (more is an error), in
 * an anonymous mapping given back whole afterwards (munmap): a heap
 * buffer would leave dirty pages in the supervisor for good. */
struct reply {
        char *data;
        size_t len;
        size_t size;
};

static void reply_unmap(struct reply *r)
{
        if (r->data && r->data != MAP_FAILED)
                (void)munmap(r->data, r->size);
        r->data = NULL;
}

static int read_reply(int fd, size_t max, struct reply *ret, struct lv_error **err)
{
        size_t size = max + 1;
        char *data = mmap(NULL, size, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (data == MAP_FAILED)
                return lv_error_set(err, errno, "mapping %zu bytes for the parsed definition",
                                    size);
        size_t len = 0;
        for (;;) {
                ssize_t n = read(fd, data + len, size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || len + (size_t)n > max) {
                        int e = n < 0 ? errno : EFBIG;
                        (void)munmap(data, size);
                        return e == EFBIG ? lv_error_setf(err, EFBIG,
                                                          "the parsed definition is more than "
                                                          "%zu bytes",
                                                          max)
                                          : lv_error_set(err, e, "reading the parsed definition");
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        data[len] = '\0';
        *ret = (struct reply){.data = data, .len = len, .size = size};
        return 0;
}

/* Fork a parse child: in the parent 0 with job (the reading end, what
 * naming the input), in the child 1 with *ret_wfd (the writing end). */
static int child_fork(const char *what, struct definition_job *job, int *ret_wfd,
                      struct lv_error **err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return lv_error_set(err, errno, "creating a pipe");
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                int r = lv_error_set(err, errno, "forking to parse '%s'", what);
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0) {
                close(p[0]);
                *ret_wfd = p[1];
                return 1;
        }
        close(p[1]);
        *job = (struct definition_job){.pid = pid, .fd = p[0], .path = xstrdup(what)};
        return 0;
}

/* Whether FILE holds a model as JSON rather than XML: its first
 * character that is not white space opens an object. Unreadable: no (the
 * parse reports the error). */
static bool file_is_json(const char *path)
{
        char buf[64];
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
        for (ssize_t i = 0; i < n; i++)
                if (!strchr(" \t\r\n", buf[i]))
                        return buf[i] == '{';
        return false;
}

int supervisor_definition_begin(const char *name, const char *file, struct definition_job *job,
                                struct lv_error **err)
{
        _cleanup_free_ char *path = file ? xstrdup(file) : paths_guest_xml(name);
        if (access(path, F_OK) < 0)
                return file ? lv_error_set(err, errno, "definition '%s'", path)
                            : lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'",
                                            name);
        /* A model cached for this very file: no child, no libxml2. (Not
         * for a transient guest's file: it is parsed once, and must not
         * replace the stored definition's cached model.) */
        _cleanup_free_ char *cache_path = paths_model_cache(name);
        struct domain_def *cached = NULL;
        if (!file && domain_json_cache_read(cache_path, path, &cached)) {
                if (streq(cached->name, name)) {
                        *job = (struct definition_job){
                                .pid = -1, .fd = -1, .path = TAKE_PTR(path), .cached = cached};
                        return 0;
                }
                domain_def_free(cached);
        }
        /* lvsh create hands over the model it has parsed and validated,
         * as JSON (conf/domain_json.h): no child, no libxml2 either. */
        if (file && file_is_json(path)) {
                struct domain_def *def = NULL;
                int r = domain_json_read_file(path, &def, err);
                if (r < 0)
                        return lv_error_prefix(err, "definition");
                if (!streq(def->name, name)) {
                        r = lv_error_setf(err, LV_ERR_INVALID_XML,
                                          "definition '%s' names guest '%s', not '%s'", path,
                                          def->name, name);
                        domain_def_free(def);
                        return r;
                }
                *job = (struct definition_job){
                        .pid = -1, .fd = -1, .path = TAKE_PTR(path), .cached = def};
                return 0;
        }
        int wfd = -1;
        int r = child_fork(path, job, &wfd, err);
        if (r > 0)
                child_parse(wfd, name, path, !file);
        return r;
}

void supervisor_definition_abandon(struct definition_job *job)
{
        domain_def_free(job->cached);
        job->cached = NULL;
        if (job->fd >= 0)
                close(job->fd);
        /* The child's writes fail (EPIPE, SIGPIPE ignored) and it exits. */
        while (job->pid > 0 && waitpid(job->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        free(job->path);
        *job = (struct definition_job){.pid = -1, .fd = -1};
}

/* The child's answer (job ended): 0 with reply after "ok\n", or its error. */
static int child_result(struct definition_job *job, size_t max, struct reply *reply,
                        struct lv_error **err)
{
        int r = read_reply(job->fd, max, reply, err);
        int status = 0;
        while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR)
                ;
        job->pid = -1;
        _cleanup_free_ char *path = TAKE_PTR(job->path);
        supervisor_definition_abandon(job);
        if (r < 0)
                return lv_error_prefix(err, "parsing '%s'", path);
        const char *data = reply->data;
        if (startswith(data, "ok\n"))
                return 0;
        int code = 0;
        int off = 0;
        if (sscanf(data, "error %d\n%n", &code, &off) == 1 && off > 0 && code > 0)
                return lv_error_setf(err, code, "%s", data + off);
        if (WIFSIGNALED(status))
                return lv_error_setf(err, EIO, "parsing '%s': the parser was killed by signal %d",
                                     path, WTERMSIG(status));
        return lv_error_setf(err, EIO, "parsing '%s': the parser exited (code %d) without a result",
                             path, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int supervisor_definition_finish(struct definition_job *job, struct domain_def **ret,
                                 struct lv_error **err)
{
        if (job->cached) {
                *ret = TAKE_PTR(job->cached);
                supervisor_definition_abandon(job);
                return 0;
        }
        _cleanup_(reply_unmap) struct reply reply = {0};
        _cleanup_free_ char *path = xstrdup_null(job->path);
        int r = child_result(job, DOMAIN_JSON_MAX_BYTES + 64, &reply, err);
        if (r < 0)
                return r;
        struct domain_def *def = NULL;
        r = domain_from_json(reply.data + 3, reply.len - 3, &def, err);
        if (r >= 0 && (r = domain_validate(def, err)) < 0)
                domain_def_free(def);
        if (r < 0)
                return lv_error_prefix(err, "parsing '%s'", path);
        *ret = def;
        return 0;
}

int supervisor_parse_child(int (*fn)(void *arg, char **ret_json, struct lv_error **err), void *arg,
                           const char *what, struct json_object **ret, struct lv_error **err)
{
        struct definition_job job;
        int wfd = -1;
        int r = child_fork(what, &job, &wfd, err);
        if (r < 0)
                return r;
        if (r > 0) {
                _cleanup_error_ struct lv_error *e = NULL;
                char *json = NULL;
                int fr = fn(arg, &json, &e);
                child_answer(wfd, fr, e, json);
        }
        _cleanup_(reply_unmap) struct reply reply = {0};
        r = child_result(&job, 2 * DOMAIN_JSON_MAX_BYTES, &reply, err);
        if (r < 0)
                return r;
        struct json_tokener *tok = json_tokener_new();
        struct json_object *o = json_tokener_parse_ex(tok, reply.data + 3, (int)(reply.len - 3));
        bool complete = json_tokener_get_error(tok) == json_tokener_success;
        json_tokener_free(tok);
        if (!o || !complete || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return lv_error_setf(err, EIO, "parsing %s: the parser's answer is not JSON", what);
        }
        *ret = o;
        return 0;
}

int supervisor_definition_load(const char *name, struct domain_def **ret, struct lv_error **err)
{
        struct definition_job job;
        int r = supervisor_definition_begin(name, NULL, &job, err);
        return r < 0 ? r : supervisor_definition_finish(&job, ret, err);
}

/* The running guest's own definition, beside status.json in its state
 * directory (docs/supervisor.md, "The running definition"): JSON, so that
 * this process reads it back without libxml2 and without a parse child.
 * Replaced atomically; it goes with the state directory when the guest
 * has ended. */
#define RUNNING_DEFINITION "definition.json"

int supervisor_definition_record(struct supervisor *sv, struct lv_error **err)
{
        _cleanup_free_ char *path = paths_state_file(sv->g.name, RUNNING_DEFINITION);
        _cleanup_free_ char *json = domain_to_json(sv->g.def);
        int r = file_write_replace(path, json, strlen(json), 0600, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': recording the running definition",
                                       sv->g.name);
        return 0;
}

int supervisor_definition_load_running(const char *name, struct domain_def **ret,
                                       struct lv_error **err)
{
        _cleanup_free_ char *path = paths_state_file(name, RUNNING_DEFINITION);
        struct domain_def *def = NULL;
        int r = domain_json_read_file(path, &def, err);
        if (r < 0)
                return r == -ENOENT ? r
                                    : lv_error_prefix(err, "guest '%s': running definition", name);
        if (!streq(def->name, name)) {
                r = lv_error_setf(err, LV_ERR_INVALID_XML, "'%s' names guest '%s', not '%s'", path,
                                  def->name, name);
                domain_def_free(def);
                return r;
        }
        *ret = def;
        return 0;
}

int supervisor_definition_store(const struct domain_def *def, struct lv_error **err)
{
        _cleanup_free_ char *path = paths_guest_xml(def->name);
        if (access(path, F_OK) == 0)
                return 0; /* already defined here: kept */
        _cleanup_free_ char *xml = domain_format(def);
        int r = mkdir_p(paths_guestdir(), 0755, err);
        if (r >= 0)
                r = file_write_atomic(path, xml, strlen(xml), 0600, err);
        return r;
}

void supervisor_definition_store_migrated(const struct domain_def *def)
{
        _cleanup_error_ struct lv_error *e = NULL;
        int r = supervisor_definition_store(def, &e);
        /* As libvirt: the migration goes on, the guest runs transient here
         * (its running definition is in its state directory all the
         * same). */
        if (r < 0)
                log_warning("migration --persistent: cannot store the definition, the guest "
                            "runs transient here: %s",
                            e->message);
}

int supervisor_definition_check_stored(const struct conf_xml_ops *x, const struct domain_def *def,
                                       struct lv_error **err)
{
        _cleanup_free_ char *path = paths_guest_xml(def->name);
        if (access(path, F_OK) < 0)
                return 0;
        struct domain_def *stored = NULL;
        int r = x->domain_parse_file(path, &stored, err);
        if (r < 0)
                return lv_error_prefix(err, "domain '%s' is already defined here", def->name);
        char su[37];
        domain_uuid_format(stored->uuid, su);
        bool other = memcmp(stored->uuid, def->uuid, sizeof(def->uuid)) != 0;
        domain_def_free(stored);
        if (other)
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "domain '%s' is already defined with uuid %s", def->name, su);
        return 0;
}
