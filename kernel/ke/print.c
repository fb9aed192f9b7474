/*
 * print.c - DbgPrint and the serial print lock.
 *
 * Each DbgPrint call is formatted into a local buffer first and then written
 * with the lock held and interrupts off, so output from several CPUs (and
 * from interrupt handlers) interleaves only at call boundaries.
 */
#include <arch/arch.h>
#include <irqlab/rtl.h>
#include "ki.h"
#include "rawlock.h"

#define PRINT_BUFFER 512

static KI_RAW_LOCK KiPrintLock;

void KiPrintRaw(const char *Text, size_t Length)
{
    ULONG64 flags = KiRawLockAcquire(&KiPrintLock);
    arch_serial_write(Text, Length);
    KiRawLockRelease(&KiPrintLock, flags);
}

/* The bugcheck path may have interrupted a holder of the lock on this CPU. */
void KiPrintForceUnlock(void)
{
    __atomic_store_n(&KiPrintLock, 0, __ATOMIC_RELEASE);
}

ULONG DbgPrint(PCSTR Format, ...)
{
    char buffer[PRINT_BUFFER];
    va_list ap;

    va_start(ap, Format);
    int n = RtlFormatV(buffer, sizeof(buffer), Format, ap);
    va_end(ap);
    if (n >= (int)sizeof(buffer)) {
        memcpy(buffer + sizeof(buffer) - 5, "...\n", 4);
        n = sizeof(buffer) - 1;
    }
    KiPrintRaw(buffer, (size_t)n);
    return STATUS_SUCCESS;
}
