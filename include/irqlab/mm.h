/*
 * mm.h - physical pages and kernel stacks (kernel/mm/, below the HAL and Ke:
 * it takes no Ke lock and reaches the bugcheck only through the routine the
 * boot sequence hands MmInitializePfnDatabase).
 */
#ifndef IRQLAB_MM_H
#define IRQLAB_MM_H

#include <irqlab/bootinfo.h>
#include <irqlab/bugcodes.h>
#include <irqlab/memmap.h>
#include <irqlab/nt.h>

/* IRQL: <= HIGH_LEVEL.  A zeroed page's physical address, or 0 when none is left. */
ULONG64 MmAllocatePhysicalPage(VOID);
/* IRQL: <= HIGH_LEVEL.  Pages (>= 1) zeroed pages in a row (a linear search); 0 when there is no such run. */
ULONG64 MmAllocateContiguousPhysicalPages(ULONG Pages);
/* IRQL: <= HIGH_LEVEL.  Freeing a page that is not allocated bugchecks PFN_LIST_CORRUPT. */
VOID MmFreePhysicalPage(ULONG64 PhysicalAddress);
ULONG64 MmGetFreePageCount(VOID);
ULONG64 MmGetManagedPageCount(VOID); /* usable RAM the allocator was given */
ULONG64 MmGetPhysicalLimit(VOID);    /* the end of usable RAM: the allocator hands out nothing above */

/* IRQL: PASSIVE_LEVEL.  A stack of Pages pages above an unmapped guard page; returns its top (a
 * standard-size one may be a dead thread's, from the cache MmDeleteKernelStack keeps). */
PVOID MmCreateKernelStack(ULONG Pages);
#define KERNEL_STACK_PAGES 6 /* 24 KiB, as NT's KERNEL_STACK_SIZE on x64 */
/* IRQL: <= DISPATCH_LEVEL.  Gives back a stack MmCreateKernelStack made (nothing may run on it). */
VOID MmDeleteKernelStack(PVOID StackTop, ULONG Pages);

/* IRQL: PASSIVE_LEVEL.  Pages zeroed pages, virtually contiguous, above a guard page; NULL when out of memory. */
PVOID MmAllocateKernelPages(ULONG Pages);

/* IRQL: any.  The physical address VirtualAddress maps to now; 0 when it is not mapped (NT's). */
ULONG64 MmGetPhysicalAddress(PVOID VirtualAddress);

/* IRQL: any.  TRUE when a read of VirtualAddress would not fault now (canonical and mapped). */
BOOLEAN MmIsAddressValid(PVOID VirtualAddress);

typedef union _MM_COPY_ADDRESS {
    PVOID VirtualAddress;
    LARGE_INTEGER PhysicalAddress;
} MM_COPY_ADDRESS;
#define MM_COPY_MEMORY_PHYSICAL 0x1
#define MM_COPY_MEMORY_VIRTUAL  0x2

/*
 * IRQL: any.  Copies what can be read of the source into TargetAddress
 * (which must be valid); never faults on the source.  STATUS_PARTIAL_COPY
 * with *NumberOfBytesTransferred < NumberOfBytes when it stopped early.
 */
NTSTATUS MmCopyMemory(PVOID TargetAddress, MM_COPY_ADDRESS SourceAddress, SIZE_T NumberOfBytes, ULONG Flags,
                      PSIZE_T NumberOfBytesTransferred);

/* Boot: Pages contiguous usable physical pages below 1 MiB (the AP start-up code); 0 if none. */
ULONG64 MmReserveLowPages(ULONG Pages);

/* Boot: builds the allocator from the loader's memory map; BugCheck (KeBugCheckEx) stops the
 * system on a corrupt free (PFN_LIST_CORRUPT) or too little memory (INSTALL_MORE_MEMORY). */
VOID MmInitializePfnDatabase(const struct irqlab_bootinfo *BootInfo, PBUGCHECK_ROUTINE BugCheck);

#endif
