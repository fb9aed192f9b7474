/*
 * print.c - the serial debug port that DbgPrint (kernel/rtl/debug.c) writes
 * to, and the capture of one CPU's output for tests of the console.
 *
 * Each DbgPrint call arrives formatted and is written with the lock held and
 * interrupts off, so output from several CPUs (and from interrupt handlers)
 * interleaves only at call boundaries.  The exception is a trap on the
 * holder's own processor (a breakpoint in the print path, the debugger's
 * stop): its output goes straight out, mid-line, rather than wait forever.
 */
#include <arch/arch.h>
#include <irqlab/rtl.h>
#include "ki.h"

/* 0 free, else the holder's processor number + 1: "held by me" is one read, with no window
 * between taking the lock and naming its owner. */
static volatile LONG KiPrintLock;

static LONG me_plus_one(VOID)
{
    return (LONG)KeGetCurrentProcessorNumber() + 1;
}

/* The stopping processor + 1 while it prints without the lock: a processor holding it was trapped
 * (a breakpoint inside a DbgPrint) and waits for the stop to end. */
static volatile LONG KiPrintBypass;

/* Interrupts off on return; FALSE (nothing taken) when this processor holds it already. */
static BOOLEAN take(ULONG64 *Flags)
{
    LONG mine = me_plus_one(), free = 0;

    *Flags = arch_save_disable();
    if (__atomic_load_n(&KiPrintLock, __ATOMIC_ACQUIRE) == mine ||
        __atomic_load_n(&KiPrintBypass, __ATOMIC_ACQUIRE) == mine)
        return FALSE;
    while (!__atomic_compare_exchange_n(&KiPrintLock, &free, mine, FALSE, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        free = 0;
        arch_pause();
    }
    return TRUE;
}

static VOID give_back(BOOLEAN Taken, ULONG64 Flags)
{
    if (Taken)
        __atomic_store_n(&KiPrintLock, 0, __ATOMIC_RELEASE);
    arch_restore(Flags);
}

/* A capture (KiCaptureOutput): one CPU's DbgPrint output goes to a buffer instead of serial. */
static struct {
    PKPRCB Owner;
    char *Buffer;
    size_t Size, Length; /* Length may exceed Size: what did not fit is counted, not kept */
} KiCapture;

static BOOLEAN captured(const char *Text, size_t Length)
{
    if (KiCapture.Owner == NULL || KiCapture.Owner != KeGetCurrentPrcb() || KiBugCheckInProgress())
        return FALSE;
    for (size_t i = 0; i < Length; i++, KiCapture.Length++)
        if (KiCapture.Length + 1 < KiCapture.Size)
            KiCapture.Buffer[KiCapture.Length] = Text[i];
    KiCapture.Buffer[KiCapture.Length < KiCapture.Size ? KiCapture.Length : KiCapture.Size - 1] = '\0';
    return TRUE;
}

static VOID write_out(PCSTR Text, SIZE_T Length)
{
    if (!captured(Text, Length))
        arch_serial_write(Text, Length);
}

VOID KiPrintRaw(PCSTR Text, SIZE_T Length)
{
    ULONG64 flags;
    BOOLEAN taken = take(&flags);

    write_out(Text, Length);
    give_back(taken, flags);
}

BOOLEAN KiHoldPrintForStop(VOID)
{
    LONG mine = me_plus_one(), free = 0;

    ASSERT(!(arch_read_flags() & ARCH_FLAGS_IF));
    if (__atomic_load_n(&KiPrintLock, __ATOMIC_ACQUIRE) == mine)
        return FALSE; /* the stop came in the middle of this processor's own DbgPrint */
    for (ULONG spins = 0; spins < 1000000; spins++) { /* a holder that runs finishes its line */
        if (__atomic_compare_exchange_n(&KiPrintLock, &free, mine, FALSE, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return TRUE;
        free = 0;
        arch_pause();
    }
    __atomic_store_n(&KiPrintBypass, mine, __ATOMIC_RELEASE); /* a holder that does not is trapped */
    return FALSE;
}

VOID KiReleasePrintAfterStop(BOOLEAN Held)
{
    ASSERT(!Held || __atomic_load_n(&KiPrintLock, __ATOMIC_ACQUIRE) == me_plus_one());
    __atomic_store_n(&KiPrintBypass, 0, __ATOMIC_RELEASE);
    give_back(Held, 0); /* interrupts stay off: the stop restores them */
}

VOID KiCaptureOutput(char *Buffer, size_t Size)
{
    ULONG64 flags;
    BOOLEAN taken = take(&flags);

    ASSERT(Buffer == NULL || Size > 0);
    KiCapture.Owner = Buffer ? KeGetCurrentPrcb() : NULL;
    KiCapture.Buffer = Buffer;
    KiCapture.Size = Size;
    KiCapture.Length = 0;
    if (Buffer)
        Buffer[0] = '\0';
    give_back(taken, flags);
}

size_t KiCapturedLength(VOID)
{
    return KiCapture.Length;
}

/* The bugcheck path may have interrupted a holder of the lock on this CPU. */
void KiPrintForceUnlock(void)
{
    __atomic_store_n(&KiPrintLock, 0, __ATOMIC_RELEASE);
}
