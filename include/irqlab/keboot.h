/*
 * keboot.h - what the boot sequence (kernel/init/) calls in Ke, in the
 * order it calls it (docs/architecture.md, "Booting").  Nothing else calls
 * these: drivers and tests find Ke already running.
 */
#ifndef IRQLAB_KEBOOT_H
#define IRQLAB_KEBOOT_H

#include <irqlab/ke.h>

/* Phase 0, interrupts off, on the loader's stack: the boot CPU's KPCR/KPRCB, GDT/IDT/TSS and GS,
 * the serial debug port (DbgPrint works from here) and the boot TSC. */
VOID KeInitializeBootProcessor(VOID);
/* Phase 0, once memory and page tables exist: the boot CPU's guarded stacks (its IST stacks
 * too); runs Continue(Context) on its kernel stack and never returns. */
DECLSPEC_NORETURN VOID KeSwitchToKernelStack(VOID (*Continue)(PVOID), PVOID Context);
/* Phase 1, after HalInitSystem gave the boot CPU's APIC ID: interrupt objects, the APIC error
 * vector, IPIs, the DPC interrupt, the clock and the per-tick run-time; enables interrupts. */
VOID KeInitializeSystem(ULONG BootApicId);
/* Phase 1, PASSIVE_LEVEL: NT's KeStartAllProcessors, at most numproc= of them. */
VOID KeStartAllProcessors(VOID);
/* Phase 1, PASSIVE_LEVEL, after KeStartAllProcessors: each processor's DPC thread (threadeddpcs=0: none). */
VOID KeStartDpcThreads(VOID);

#endif
