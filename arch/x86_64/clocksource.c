/*
 * clocksource.c - calibrating the TSC and the local APIC timer; stalls.
 *
 * The TSC frequency comes from CPUID when the CPU or hypervisor states it
 * (leaf 0x15, or leaf 0x40000010 under some hypervisors), and otherwise from
 * counting over 10 ms of PIT channel 2, the gate-controlled one that needs no
 * interrupt (the PC/AT speaker timer).  The APIC timer is counted over the
 * same window.
 */
#include <arch/apic.h>
#include <arch/arch.h>
#include <arch/clocksource.h>

#define PIT_HZ 1193182ull
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE 0x61
#define WINDOW_MS 10
#define APIC_DIVIDE_16 0x3
#define PIT_SPIN_LIMIT 100000000ull

static ULONG64 ArchTscHz; /* 0 until calibrated */

static ULONG64 tsc_from_cpuid(PCSTR *source)
{
    uint32_t r[4];

    arch_cpuid(0, 0, r);
    if (r[0] >= 0x15) {
        arch_cpuid(0x15, 0, r);
        if (r[0] && r[1] && r[2]) {
            *source = "CPUID 0x15";
            return (ULONG64)r[2] * r[1] / r[0];
        }
    }
    arch_cpuid(1, 0, r);
    if (r[2] & (1u << 31)) { /* running under a hypervisor */
        arch_cpuid(0x40000000, 0, r);
        if (r[0] >= 0x40000010) {
            arch_cpuid(0x40000010, 0, r);
            if (r[0]) {
                *source = "hypervisor leaf 0x40000010";
                return (ULONG64)r[0] * 1000;
            }
        }
    }
    return 0;
}

BOOLEAN arch_timer_calibrate(struct arch_timer_calibration *out)
{
    ULONG count = PIT_HZ * WINDOW_MS / 1000;
    ULONG64 spins = 0;

    arch_outb(PIT_GATE, (arch_inb(PIT_GATE) & ~0x03) | 0x01); /* gate high, speaker off */
    arch_outb(PIT_CMD, 0xb0);                                 /* channel 2, lo/hi, mode 0 */
    arch_outb(PIT_CH2, count & 0xff);
    arch_outb(PIT_CH2, count >> 8);
    apic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_16);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
    apic_write(APIC_TIMER_INITIAL, 0xffffffffu);
    ULONG64 tsc0 = arch_rdtsc();
    /* Mode 0 raises OUT2 (port 0x61 bit 5) when the count reaches zero. */
    while (!(arch_inb(PIT_GATE) & 0x20))
        if (++spins == PIT_SPIN_LIMIT)
            return FALSE;
    ULONG64 tsc1 = arch_rdtsc();
    ULONG apic_elapsed = 0xffffffffu - apic_read(APIC_TIMER_CURRENT);
    apic_write(APIC_TIMER_INITIAL, 0);
    out->apic_timer_hz = (ULONG64)apic_elapsed * 1000 / WINDOW_MS;
    out->tsc_hz = tsc_from_cpuid(&out->tsc_source);
    if (out->tsc_hz == 0) {
        out->tsc_hz = (tsc1 - tsc0) * 1000 / WINDOW_MS;
        out->tsc_source = "PIT";
    }
    ArchTscHz = out->tsc_hz;
    return TRUE;
}

void arch_stall_us(ULONG us)
{
    /* Before calibration, assume a fast TSC: a stall may run long, never short. */
    ULONG64 hz = ArchTscHz ? ArchTscHz : 5000000000ull;
    ULONG64 end = arch_rdtsc() + hz / 1000000 * us;

    while (arch_rdtsc() < end)
        arch_pause();
}

void arch_timer_start(ULONG vector, ULONG64 apic_timer_hz, ULONG hz)
{
    ULONG64 initial = apic_timer_hz / hz;

    apic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_16);
    apic_write(APIC_LVT_TIMER, APIC_LVT_PERIODIC | vector);
    apic_write(APIC_TIMER_INITIAL, (ULONG)(initial ? initial : 1));
}
