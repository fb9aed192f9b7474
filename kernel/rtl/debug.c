/*
 * debug.c - DbgPrint and RtlAssert.  NT's DbgPrint is an Rtl routine that
 * hands its text to the kernel debugger's transport; irqlab's hands it to the
 * routine the boot sequence set (Ke's serial debug port, kernel/ke/print.c),
 * so every floor can print without calling up into Ke.
 */
#include <irqlab/rtl.h>

#define PRINT_BUFFER 512

static PRTL_DEBUG_PRINT_ROUTINE RtlpDebugPrintRoutine;

VOID RtlSetDebugPrintRoutine(PRTL_DEBUG_PRINT_ROUTINE Routine)
{
    RtlpDebugPrintRoutine = Routine;
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
    if (RtlpDebugPrintRoutine)
        RtlpDebugPrintRoutine(buffer, (SIZE_T)n);
    return STATUS_SUCCESS;
}

VOID RtlAssert(PCSTR Expression, PCSTR File, ULONG Line)
{
    DbgPrint("\n*** Assertion failed: %s\n***   Source File: %s, line %u\n", Expression, File, Line);
}

VOID DbgBreakPoint(VOID)
{
    __asm__ volatile("int3");
}
