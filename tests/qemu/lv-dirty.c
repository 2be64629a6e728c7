/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lv-dirty SET-MIB RATE-MIB: the test guest's memory-dirtying workload
 * (tests/qemu/build-guest.sh links it statically into the initramfs; the
 * guest's /init runs it for lv_dirty=SET lv_dirty_rate=RATE). A working
 * set of SET MiB is written whole page by whole page, in order and round
 * and round, at RATE MiB/s: paced every 10 ms (a tick that comes late,
 * e.g. while auto-converge throttles the CPU, writes at most 100 ms worth).
 * Prints "LV-DIRTY-RATE set=S MiB rate=R MiB/s" once, then every 5 s the
 * rate achieved ("achieved=X MiB/s"), which is lower when the guest's
 * CPU cannot keep up. Each page is checked before it is written again: it
 * must still hold what the round before wrote ("LV-DIRTY-LOST page N holds
 * X, expected Y" otherwise, for the first 10 pages that do not: a write
 * lost, e.g. by a live migration that did not carry it over). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096UL

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        char *end1 = NULL, *end2 = NULL;
        unsigned long set_mib = argc == 3 ? strtoul(argv[1], &end1, 10) : 0;
        unsigned long rate_mib = argc == 3 ? strtoul(argv[2], &end2, 10) : 0;
        if (argc != 3 || *end1 || *end2 || set_mib == 0 || rate_mib == 0) {
                fprintf(stderr, "usage: lv-dirty SET-MIB RATE-MIB (both > 0)\n");
                return 2;
        }
        size_t size = set_mib << 20;
        unsigned char *mem =
                mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
                perror("lv-dirty: mmap of the working set");
                return 1;
        }
        memset(mem, 1, size); /* every page present before the pacing starts */
        printf("LV-DIRTY-RATE set=%lu MiB rate=%lu MiB/s\n", set_mib, rate_mib);
        fflush(stdout);
        size_t off = 0;
        unsigned char val = 2;
        double rate = (double)(rate_mib << 20), last = now_s(), report = last;
        double budget = 0, written = 0;
        unsigned long lost = 0;
        for (;;) {
                double t = now_s();
                double dt = t - last;
                last = t;
                budget += rate * (dt > 0.1 ? 0.1 : dt);
                while (budget >= (double)PAGE) {
                        unsigned char want = (unsigned char)(val - 1);
                        if ((mem[off] != want || mem[off + PAGE - 1] != want) && lost++ < 10) {
                                printf("LV-DIRTY-LOST page %zu holds %u, expected %u\n", off / PAGE,
                                       mem[off], want);
                                fflush(stdout);
                        }
                        memset(mem + off, val, PAGE);
                        off += PAGE;
                        if (off >= size) {
                                off = 0;
                                val++;
                        }
                        budget -= (double)PAGE;
                        written += (double)PAGE;
                }
                if (t - report >= 5) {
                        printf("LV-DIRTY-RATE set=%lu MiB rate=%lu MiB/s achieved=%.1f MiB/s\n",
                               set_mib, rate_mib, written / (t - report) / 1048576.0);
                        fflush(stdout);
                        written = 0;
                        report = t;
                }
                struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
                nanosleep(&tick, NULL);
        }
}
