/*
 * idle.c - KiIdleLoop: where a processor with nothing to do waits.
 *
 * As in NT, the idle loop runs at DISPATCH_LEVEL, so a DPC software
 * interrupt (0x2F) stays pending in the APIC while the loop itself drains
 * the DPC queue before each halt; device interrupts, the clock and IPIs still arrive and
 * wake it from `hlt`.  `sti; hlt` leaves no window in which a wake-up
 * interrupt could slip in between the check and the halt.
 */
#include <arch/arch.h>
#include "ki.h"

VOID KiIdleLoop(VOID)
{
    PKPRCB prcb = KeGetCurrentPrcb();

    ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    ASSERT(prcb->CurrentThread == prcb->IdleThread);
    for (;;) {
        if (prcb->Irqlab.HoldAtDispatch) { /* !labhold: busy at DISPATCH_LEVEL, queued DPCs wait */
            arch_enable_interrupts(); /* the clock, IPIs and the debugger's snapshot still get in */
            arch_pause();
            continue;
        }
        arch_disable_interrupts();
        if (prcb->DpcData[0].DpcQueueDepth != 0 ||
            (prcb->DpcRequestSummary & (DPC_NORMAL_TIMER_EXPIRATION | DPC_NORMAL_THREAD_SIGNAL))) {
            /* NT: KiIdleLoop -> KiRetireDpcList */
            KiRetireDpcList(prcb);
            continue;
        }
        if (KiIdleHasWork(prcb)) { /* NT: KiIdleLoop -> KiSwapContext to the standby thread */
            KiIdleSchedule(prcb);
            arch_write_cr8(DISPATCH_LEVEL); /* resumed: the idle thread runs at DISPATCH_LEVEL */
            arch_enable_interrupts();
            continue;
        }
        if (prcb->Irqlab.IdlePoll) { /* busy: poll the queue with interrupts on, never halt */
            arch_enable_interrupts();
            continue;
        }
        prcb->IdleHalt = TRUE;
        prcb->Irqlab.IdleHalts++;
        arch_enable_and_halt(); /* an interrupt ran and returned here */
        prcb->IdleHalt = FALSE;
    }
}
