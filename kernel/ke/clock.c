/*
 * clock.c - the clock interrupt at CLOCK_LEVEL (vector 0xD1).
 *
 * Like NT's KeUpdateSystemTime, each tick on the boot CPU advances the tick
 * count and the interrupt time (100 ns units); every CPU runs its own APIC
 * timer and does its own per-tick work (runtime.c, NT's KeUpdateRunTime).
 * The default rate is 64 Hz, Windows' 15.625 ms; `tick=<hz>` on the command
 * line sets another (16-1000).
 */
#include <arch/arch.h>
#include <irqlab/hal.h>
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
static ULONG KiClockHz;
static KINTERRUPT KiClockInterrupt;

ULONG64 KeQueryInterruptTime(VOID) { return KiInterruptTime; }
ULONG KeQueryTimeIncrement(VOID) { return KiTimeIncrement; }

ULONG64 KeQueryTscFrequency(PCSTR *Source)
{
    return HalQueryTscFrequency(Source);
}

LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    LARGE_INTEGER now;

    if (PerformanceFrequency)
        PerformanceFrequency->QuadPart = (LONGLONG)HalQueryTscFrequency(NULL);
    now.QuadPart = (LONGLONG)arch_rdtsc();
    return now;
}

/* Every CPU takes the clock; only the clock owner advances system time (NT's KeUpdateSystemTime). */
static BOOLEAN KiClockService(PKINTERRUPT Interrupt, PVOID Context)
{
    PKPRCB prcb = KeGetCurrentPrcb();

    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(Context);
    if (prcb->ClockOwner) {
        KiInterruptTime += KiTimeIncrement;
        KeTickCount++;
        KiPollDebugger(); /* NT's KdPollBreakIn, on the clock's owner */
    }
    KiCheckTimers(prcb);
    KiUpdateRunTime(prcb, prcb->Irqlab.PreviousIrql);
    return TRUE;
}

void KiInitializeClock(void)
{
    ULONG hz = KiClockHz = KeGetCommandLineNumber("tick", MIN_HZ, MAX_HZ, DEFAULT_HZ);
    PCSTR source;

    if (!HalInitializeClock())
        KeBugCheckEx(HAL_INITIALIZATION_FAILED, 1, 0, 0, 0); /* no PIT: nothing to time against */
    KiTimeIncrement = 10000000 / hz;
    KiConnectSystemInterrupt(&KiClockInterrupt, KiClockService, CLOCK_VECTOR);
    HalStartClock(CLOCK_VECTOR, hz);
    ULONG64 tsc = HalQueryTscFrequency(&source);
    DbgPrint("clock: TSC %llu.%03llu MHz (%s), APIC timer %llu kHz, tick %u Hz (%u.%04u ms)\n",
             tsc / 1000000, tsc / 1000 % 1000, source, HalQueryApicTimerFrequency() / 1000, hz,
             KiTimeIncrement / 10000, KiTimeIncrement % 10000);
}

void KiStartClockProcessor(void)
{
    HalStartClock(CLOCK_VECTOR, KiClockHz);
}
