/*
 * clock.c - the clock interrupt at CLOCK_LEVEL (vector 0xD1).
 *
 * Like NT's KeUpdateSystemTime, each tick advances the tick count and the
 * interrupt time (100 ns units).  The default rate is 64 Hz, Windows'
 * 15.625 ms; `tick=<hz>` on the command line sets another (16-1000).
 */
#include <arch/arch.h>
#include <arch/timer.h>
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include <irqlab/vectors.h>
#include "ki.h"

#define DEFAULT_HZ 64
#define MIN_HZ 16
#define MAX_HZ 1000

volatile ULONG64 KeTickCount;
static volatile ULONG64 KiInterruptTime;
static ULONG KiTimeIncrement;
static struct arch_timer_calibration KiCalibration;
static KINTERRUPT KiClockInterrupt;

ULONG64 KeQueryInterruptTime(VOID) { return KiInterruptTime; }
ULONG KeQueryTimeIncrement(VOID) { return KiTimeIncrement; }

ULONG64 KeQueryTscFrequency(PCSTR *Source)
{
    if (Source)
        *Source = KiCalibration.tsc_source;
    return KiCalibration.tsc_hz;
}

static BOOLEAN KiClockService(PKINTERRUPT Interrupt, PVOID Context)
{
    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(Context);
    KiInterruptTime += KiTimeIncrement;
    KeTickCount++;
    return TRUE;
}

static ULONG tick_rate(void)
{
    PCSTR value = KeGetCommandLineValue("tick");
    ULONG hz = 0;

    if (value == NULL)
        return DEFAULT_HZ;
    for (PCSTR p = value; *p >= '0' && *p <= '9' && hz <= MAX_HZ; p++)
        hz = hz * 10 + (ULONG)(*p - '0');
    if (hz < MIN_HZ || hz > MAX_HZ) {
        DbgPrint("clock: tick=%s is not a rate from %u to %u Hz; using %u\n", value, MIN_HZ, MAX_HZ,
                 DEFAULT_HZ);
        return DEFAULT_HZ;
    }
    return hz;
}

void KiInitializeClock(void)
{
    ULONG hz = tick_rate();

    if (!arch_timer_calibrate(&KiCalibration))
        KeBugCheckEx(HAL_INITIALIZATION_FAILED, 1, 0, 0, 0); /* no PIT: nothing to time against */
    KiTimeIncrement = 10000000 / hz;
    KeInitializeInterrupt(&KiClockInterrupt, KiClockService, NULL, NULL, CLOCK_VECTOR, CLOCK_LEVEL,
                          CLOCK_LEVEL, Latched, FALSE);
    if (!KeConnectInterrupt(&KiClockInterrupt))
        KeBugCheckEx(HAL_INITIALIZATION_FAILED, 2, CLOCK_VECTOR, 0, 0);
    arch_timer_start(CLOCK_VECTOR, KiCalibration.apic_timer_hz, hz);
    DbgPrint("clock: TSC %llu.%03llu MHz (%s), APIC timer %llu kHz, tick %u Hz (%u.%04u ms)\n",
             KiCalibration.tsc_hz / 1000000, KiCalibration.tsc_hz / 1000 % 1000, KiCalibration.tsc_source,
             KiCalibration.apic_timer_hz / 1000, hz, KiTimeIncrement / 10000, KiTimeIncrement % 10000);
}
