/*
 * halclock.c - the time sources: the TSC and the local APIC timer, measured
 * once against the PIT (arch/x86_64/clocksource.c), then each CPU's periodic
 * APIC timer for the clock interrupt, and KeStallExecutionProcessor, which
 * NT's HAL exports too.
 */
#include <arch/arch.h>
#include <arch/clocksource.h>
#include <irqlab/hal.h>

static struct arch_timer_calibration HalpCalibration;

BOOLEAN HalInitializeClock(VOID)
{
    return arch_timer_calibrate(&HalpCalibration);
}

VOID HalStartClock(ULONG Vector, ULONG Hz)
{
    arch_timer_start(Vector, HalpCalibration.apic_timer_hz, Hz);
}

ULONG64 HalQueryTscFrequency(PCSTR *Source)
{
    if (Source)
        *Source = HalpCalibration.tsc_source;
    return HalpCalibration.tsc_hz;
}

ULONG64 HalQueryApicTimerFrequency(VOID)
{
    return HalpCalibration.apic_timer_hz;
}

VOID KeStallExecutionProcessor(ULONG MicroSeconds)
{
    arch_stall_us(MicroSeconds);
}
