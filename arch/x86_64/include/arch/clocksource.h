/*
 * clocksource.h - time sources: the TSC, the PIT (for calibration only) and the
 * local APIC timer that drives the clock interrupt.
 */
#ifndef ARCH_CLOCKSOURCE_H
#define ARCH_CLOCKSOURCE_H

#include <irqlab/nt.h>

struct arch_timer_calibration {
    ULONG64 tsc_hz;
    PCSTR tsc_source;   /* "CPUID 0x15", "hypervisor leaf 0x40000010", "PIT" */
    ULONG64 apic_timer_hz; /* after the divide-by-16 */
};

/* Measures against PIT channel 2 (10 ms); FALSE when the PIT never answered. */
BOOLEAN arch_timer_calibrate(struct arch_timer_calibration *out);
/* Periodic APIC timer at hz on vector. */
void arch_timer_start(ULONG vector, ULONG64 apic_timer_hz, ULONG hz);
/* Busy-waits at least us microseconds on the TSC (assumed 5 GHz before calibration). */
void arch_stall_us(ULONG us);

#endif
