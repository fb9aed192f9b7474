/*
 * kbdcmd.c - the console's keyboard commands: !kbd (the i8042 driver's
 * counters, ISR to DPC) and !kbddemo (the cross-IRQL deadlock
 * demonstration: broken, fixed or off).
 */
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include <irqlab/kbd.h>
#include "kd.h"

KD_COMMAND(kbd, "!kbd", "!kbd", "keyboard driver counters: ISR, DPC, keys, class reads, overruns, ISR->DPC latency")
{
    I8042_STATISTICS s;
    PCSTR source;
    ULONG64 mhz = KeQueryTscFrequency(&source) / 1000000;

    UNREFERENCED_PARAMETER(Args);
    I8042QueryStatistics(&s);
    if (!s.Present) {
        DbgPrint("no keyboard (see the i8042 line at boot)\n");
        return;
    }
    DbgPrint("i8042 keyboard: vector 0x%02x, DIRQL %u\n", s.Vector, s.Dirql);
    DbgPrint("  ISR:  %llu runs (%llu not at DIRQL), %llu bytes queued, %llu dropped (%llu keys lost)\n",
             s.IsrRuns, s.IsrOffLevel, s.Bytes, s.OverrunBytes, s.OverrunKeys);
    DbgPrint("  DPC:  %llu queued, %llu already queued, %llu runs (%llu not at DISPATCH_LEVEL)\n", s.DpcQueued,
             s.DpcAlreadyQueued, s.DpcRuns, s.DpcOffLevel);
    DbgPrint("  keys: %llu decoded, %llu to the class driver, %llu keyboard overruns, %llu LED updates, %llu "
             "console input bytes dropped\n", s.Keys, s.Chars, s.KeyboardOverruns, s.LedUpdates, KdInputDropped());
    KBDCLASS_STATISTICS c;
    KbdClassQueryStatistics(&c);
    DbgPrint("  kbdclass: %llu reads (%llu pended, %llu completed by the DPC), %u waiting now; bytes %llu "
             "buffered, %llu read, %llu lost, %u held\n", c.Reads, c.ReadsPended, c.ReadsCompletedByDpc,
             c.ReadsWaiting, c.BytesBuffered, c.BytesRead, c.BytesLost, c.Buffered);
    if (s.LatencyCount && mhz)
        DbgPrint("  ISR -> DPC: %llu samples, min %llu, avg %llu, max %llu cycles (%llu MHz TSC)\n",
                 s.LatencyCount, s.LatencyMin, s.LatencySum / s.LatencyCount, s.LatencyMax, mhz);
}

KD_COMMAND(kbddemo, "!kbddemo", "!kbddemo [off|broken|fixed]", "lab 5's cross-IRQL spin-lock deadlock, broken or fixed")
{
    static const PCSTR names[] = { "off", "broken", "fixed" };
    KBDDEMO_STATISTICS s;

    CHAR word[16];
    if (KdNextWord(&Args, word, sizeof(word))) {
        ULONG mode = 0;
        while (mode < ARRAYSIZE(names) && strcmp(word, names[mode]) != 0)
            mode++;
        if (mode == ARRAYSIZE(names) || !KdAtEnd(Args)) {
            DbgPrint("usage: !kbddemo [off|broken|fixed]\n");
            return;
        }
        if (!KbdDemoSetMode((KBDDEMO_MODE)mode)) {
            DbgPrint("kbddemo: no keyboard (see the i8042 line at boot)\n");
            return;
        }
    }
    KBDDEMO_MODE mode = KbdDemoQuery(&s);
    DbgPrint("kbddemo: %s mode; RunQueuedItems ran %llu times, %llu key bytes came while it ran; jobs "
             "%llu queued, %llu processed, %llu dropped\n", names[mode], s.Runs, s.KeysWhileRunning, s.Queued,
             s.Processed, s.Dropped);
}
