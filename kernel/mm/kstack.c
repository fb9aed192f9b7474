/*
 * kstack.c - kernel stacks: pages mapped above an unmapped guard page in
 * a region of their own, and a cache of dead stacks.
 *
 * A stack's addresses are never handed out again once it is unmapped (no
 * other CPU's TLB can then reach the freed pages), so a region that only
 * grew would cost page tables for every thread ever made.  Like the WRK's
 * MmDeleteKernelStack, which keeps dead stacks on MmDeadStackSListHead for
 * the next thread, a standard-size stack goes to a cache, still mapped, and
 * the next MmCreateKernelStack takes it: a thread storm reuses the same
 * stacks.  Only a stack the full cache cannot hold is unmapped and freed.
 */
#include <arch/arch.h>
#include <arch/rawlock.h>
#include <irqlab/mm.h>

#define DEAD_STACKS_MAX 64 /* irqlab's choice: one storm's worth; the WRK sizes it by memory */

/* The region's page tables and cursor, and the cache; a lock of their own (mapping allocates pages). */
static ARCH_RAW_LOCK MiMapLock;
static PVOID MiDeadStacks[DEAD_STACKS_MAX];
static ULONG MiDeadStackCount;

PVOID MmCreateKernelStack(ULONG Pages)
{
    ULONG64 flags = arch_raw_lock_acquire(&MiMapLock);
    PVOID top = NULL;

    if (Pages == KERNEL_STACK_PAGES && MiDeadStackCount)
        top = MiDeadStacks[--MiDeadStackCount];
    else
        top = (PVOID)arch_mmu_map_stack(Pages);
    arch_raw_lock_release(&MiMapLock, flags);
    return top;
}

VOID MmDeleteKernelStack(PVOID StackTop, ULONG Pages)
{
    ULONG64 top = (ULONG64)StackTop;
    ULONG64 flags = arch_raw_lock_acquire(&MiMapLock);

    if (Pages == KERNEL_STACK_PAGES && MiDeadStackCount < DEAD_STACKS_MAX) {
        MiDeadStacks[MiDeadStackCount++] = StackTop;
        arch_raw_lock_release(&MiMapLock, flags);
        return;
    }
    arch_raw_lock_release(&MiMapLock, flags);
    for (ULONG i = 1; i <= Pages; i++) {
        flags = arch_raw_lock_acquire(&MiMapLock);
        ULONG64 pa = arch_mmu_unmap_page(top - (ULONG64)i * PAGE_SIZE);
        arch_raw_lock_release(&MiMapLock, flags);
        if (pa)
            MmFreePhysicalPage(pa);
    }
}
