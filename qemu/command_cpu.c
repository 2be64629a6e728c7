/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest CPU on QEMU's command line (-cpu, -smp), as libvirt 9 writes
 * it (qemuBuildCpuModelArgStr, qemuBuildSmpCommandLine), and what
 * litevirt refuses about a <cpu>. Pure: what the host's QEMU offers comes
 * in as struct qemu_cpu_caps (qemu/cpu_probe.c asks QEMU for it). */
#include <stddef.h>

#include "qemu/command_priv.h"
#include "util/strbuf.h"

/* libvirt's cpu_map names that QEMU spells differently
 * (virQEMUCapsCPUFeaturesX86); every other name is QEMU's own. */
static const struct {
        const char *libvirt, *qemu;
} feature_names[] = {
        {"cmp_legacy", "cmp-legacy"},       {"ds_cpl", "ds-cpl"},
        {"fxsr_opt", "fxsr-opt"},           {"kvm_pv_eoi", "kvm-pv-eoi"},
        {"kvm_pv_unhalt", "kvm-pv-unhalt"}, {"lahf_lm", "lahf-lm"},
        {"nodeid_msr", "nodeid-msr"},       {"pclmuldq", "pclmulqdq"},
        {"perfctr_core", "perfctr-core"},   {"perfctr_nb", "perfctr-nb"},
        {"tsc_adjust", "tsc-adjust"},
};

const char *qemu_cpu_feature_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(feature_names); i++)
                if (streq(feature_names[i].libvirt, name))
                        return feature_names[i].qemu;
        return name;
}

int qcmd_check_cpu(const struct domain_def *def, struct lv_error **err)
{
        const struct domain_cpu *cpu = &def->cpu;
        if (cpu->mode == DOMAIN_CPU_MODE_HOST_PASSTHROUGH && def->type != DOMAIN_TYPE_KVM)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': CPU mode 'host-passthrough' needs domain type "
                                     "'kvm': TCG cannot pass the host CPU through (libvirt "
                                     "refuses it too)",
                                     def->name);
        if (cpu->mode == DOMAIN_CPU_MODE_HOST_MODEL)
                return lv_error_setf(
                        err, LV_ERR_UNSUPPORTED,
                        "guest '%s': CPU mode 'host-model' is not supported by litevirt: libvirt "
                        "expands it with its CPU map into the named model closest to the host's "
                        "CPU (under TCG: to QEMU's 'max' CPU, e.g. EPYC with features), which "
                        "litevirt does not carry; use mode='custom' with a <model>, or "
                        "mode='maximum'",
                        def->name);
        if (cpu->mode == DOMAIN_CPU_MODE_CUSTOM && cpu->match == DOMAIN_CPU_MATCH_MINIMUM)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': CPU match 'minimum' is not supported by "
                                     "litevirt: libvirt fills it up with the host CPU's features",
                                     def->name);
        return 0;
}

int qemu_command_cpu_check(const struct domain_def *def, const struct qemu_cpu_caps *caps,
                           struct lv_error **err)
{
        const struct domain_cpu *cpu = &def->cpu;
        const char *accel = def->type == DOMAIN_TYPE_KVM ? "KVM" : "TCG";
        if (qcmd_check_cpu(def, err) < 0)
                return -1;
        if (cpu->model && !strv_contains(caps->models, cpu->model))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "CPU model '%s' is unknown to %s (%s -cpu help lists "
                                     "the models it has)",
                                     cpu->model, caps->emulator, caps->emulator);
        if (cpu->model &&
            (cpu->check == DOMAIN_CPU_CHECK_PARTIAL || cpu->check == DOMAIN_CPU_CHECK_FULL)) {
                /* libvirt checks the guest CPU QEMU made against the
                 * definition: a feature of the model the accelerator
                 * filtered out is a mismatch */
                const char *missing = "";
                for (size_t i = 0; caps->models[i]; i++)
                        if (streq(caps->models[i], cpu->model) && caps->unavailable &&
                            i < strv_length(caps->unavailable))
                                missing = caps->unavailable[i];
                _cleanup_strv_free_ char **lacking = NULL;
                _cleanup_free_ char *copy = xstrdup(missing);
                char *save = NULL;
                for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        bool disabled = false;
                        for (int i = 0; i < cpu->n_features; i++)
                                disabled |=
                                        streq(qemu_cpu_feature_name(cpu->features[i].name), t) &&
                                        (cpu->features[i].policy == DOMAIN_CPU_POLICY_DISABLE ||
                                         cpu->features[i].policy == DOMAIN_CPU_POLICY_FORBID);
                        if (!disabled)
                                strv_push(&lacking, xstrdup(t));
                }
                if (lacking) {
                        _cleanup_free_ char *list = strv_join(lacking, ", ");
                        return lv_error_setf(
                                err, LV_ERR_UNSUPPORTED,
                                "CPU model '%s' with check='%s': %s cannot give its features %s "
                                "(disable them with <feature policy='disable'>, or use "
                                "check='none')",
                                cpu->model, domain_cpu_check_to_string(cpu->check), accel, list);
                }
        }
        for (int i = 0; i < cpu->n_features; i++) {
                const struct domain_cpu_feature *f = &cpu->features[i];
                const char *q = qemu_cpu_feature_name(f->name);
                bool on = strv_contains(caps->features_on, q);
                if (!on && !strv_contains(caps->features_off, q))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "CPU feature '%s' is unknown to %s", f->name,
                                             caps->emulator);
                if (f->policy == DOMAIN_CPU_POLICY_REQUIRE && !on)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "CPU feature '%s' is required "
                                             "(policy='require') but %s cannot give it to a "
                                             "guest (QEMU's 'max' CPU under %s lacks it); use "
                                             "policy='force' to ask for it anyway or "
                                             "'optional'",
                                             f->name, accel, accel);
        }
        return 0;
}

void qcmd_cpu_model_arg(struct build *b, struct strbuf *sb)
{
        const struct domain_def *def = b->def;
        const struct domain_cpu *cpu = &def->cpu;
        const struct qemu_cpu_caps *caps = b->opts->cpu_caps;
        switch (cpu->mode) {
        case DOMAIN_CPU_MODE_HOST_PASSTHROUGH: /* kvm only (qcmd_check_cpu) */
        case DOMAIN_CPU_MODE_MAXIMUM:
                strbuf_append(sb, cpu->mode == DOMAIN_CPU_MODE_MAXIMUM ? "max" : "host");
                strbuf_printf(sb, ",migratable=%s",
                              cpu->migratable == DOMAIN_TRISTATE_OFF ? "off" : "on");
                break;
        default:
                /* no model: QEMU's default, which libvirt names under TCG */
                strbuf_append(sb, cpu->model ? cpu->model : "qemu64");
                break;
        }
        if (cpu->vendor_id)
                strbuf_printf(sb, ",vendor=%s", cpu->vendor_id);
        for (int i = 0; i < cpu->n_features; i++) {
                const struct domain_cpu_feature *f = &cpu->features[i];
                const char *q = qemu_cpu_feature_name(f->name);
                switch (f->policy) {
                case DOMAIN_CPU_POLICY_FORCE:
                case DOMAIN_CPU_POLICY_REQUIRE:
                        strbuf_printf(sb, ",%s=on", q);
                        break;
                case DOMAIN_CPU_POLICY_DISABLE:
                case DOMAIN_CPU_POLICY_FORBID:
                        strbuf_printf(sb, ",%s=off", q);
                        break;
                default:
                        /* optional: on when the accelerator gives it (libvirt
                         * compares with its host CPU at start); without
                         * the host's answer (previews), left to QEMU */
                        if (caps)
                                strbuf_printf(sb, ",%s=%s", q,
                                              strv_contains(caps->features_on, q) ? "on" : "off");
                        break;
                }
        }
}

/* The enabled vCPUs of <vcpus> that are hot-pluggable (libvirt starts
 * them as -device, not with -smp); 0 without <vcpus>, or when its enabled
 * ones are not the current count (then -smp has them all) */
static unsigned vcpus_plugged(const struct domain_def *def)
{
        unsigned cur = def->vcpus_current ? def->vcpus_current : def->vcpus, on = 0, hot = 0;
        for (int i = 0; i < def->n_vcpu_entries; i++) {
                const struct domain_vcpu_entry *e = &def->vcpu_entries[i];
                on += e->enabled;
                hot += e->enabled && e->hotpluggable == DOMAIN_TRISTATE_ON && e->id != 0;
        }
        return on == cur ? hot : 0;
}

char *qcmd_smp_arg(const struct domain_def *def)
{
        const struct domain_cpu *cpu = &def->cpu;
        unsigned cur = def->vcpus_current ? def->vcpus_current : def->vcpus;
        _cleanup_strbuf_ struct strbuf sb = {0};
        strbuf_printf(&sb, "%u", cur - vcpus_plugged(def));
        if (cur != def->vcpus)
                strbuf_printf(&sb, ",maxcpus=%u", def->vcpus);
        if (cpu->sockets)
                strbuf_printf(&sb, ",sockets=%u,dies=%u,cores=%u,threads=%u", cpu->sockets,
                              cpu->dies ? cpu->dies : 1, cpu->cores, cpu->threads);
        else
                strbuf_printf(&sb, ",sockets=%u,cores=1,threads=1", def->vcpus);
        return strbuf_steal(&sb);
}

void qcmd_vcpu_devices(struct build *b)
{
        const struct domain_def *def = b->def;
        const struct domain_cpu *cpu = &def->cpu;
        if (!vcpus_plugged(def))
                return;
        /* the -cpu model's type, as query-hotpluggable-cpus names it */
        _cleanup_strbuf_ struct strbuf model = {0};
        qcmd_cpu_model_arg(b, &model);
        model.buf[strcspn(model.buf, ",")] = '\0';
        unsigned threads = cpu->sockets ? cpu->threads : 1, cores = cpu->sockets ? cpu->cores : 1;
        unsigned dies = cpu->sockets && cpu->dies ? cpu->dies : 1;
        for (int i = 0; i < def->n_vcpu_entries; i++) {
                const struct domain_vcpu_entry *e = &def->vcpu_entries[i];
                if (!e->enabled || e->hotpluggable != DOMAIN_TRISTATE_ON || e->id == 0)
                        continue;
                /* QEMU's slots in topology order: vCPU id N is the Nth */
                unsigned n = e->id;
                _cleanup_strbuf_ struct strbuf sb = {0};
                strbuf_printf(&sb,
                              "{\"driver\":\"%s-x86_64-cpu\",\"id\":\"vcpu%u\",\"socket-id\":%u,",
                              model.buf, n, n / (threads * cores * dies));
                if (dies > 1)
                        strbuf_printf(&sb, "\"die-id\":%u,", n / (threads * cores) % dies);
                strbuf_printf(&sb, "\"core-id\":%u,\"thread-id\":%u}", n / threads % cores,
                              n % threads);
                strv_push(&b->argv, xstrdup("-device"));
                strv_push(&b->argv, strbuf_steal(&sb));
        }
}

void qemu_cpu_caps_free(struct qemu_cpu_caps *caps)
{
        if (!caps)
                return;
        free(caps->emulator);
        strv_free(caps->models);
        strv_free(caps->unavailable);
        strv_free(caps->features_on);
        strv_free(caps->features_off);
        free(caps);
}
