/*
 * halmp.c - starting an application processor (NT's HalStartNextProcessor):
 * the start-up code below 1 MiB and INIT-STARTUP-STARTUP, done by
 * arch/x86_64/mp.c; Ke decides which processors to start and waits for them
 * (kernel/ke/mp.c).
 */
#include <arch/arch.h>
#include <irqlab/hal.h>
#include <irqlab/mm.h>

BOOLEAN HalPrepareProcessorStart(VOID)
{
    return arch_mp_prepare(MmReserveLowPages(ARCH_TRAMPOLINE_PAGES));
}

VOID HalStartProcessor(ULONG ApicId, ULONG64 StackTop, VOID (*Entry)(PVOID), PVOID Context)
{
    arch_mp_launch(ApicId, StackTop, Entry, Context);
}

VOID HalCancelProcessorStart(ULONG ApicId)
{
    arch_mp_cancel(ApicId);
}
