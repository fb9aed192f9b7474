/*
 * pool.h - the executive's pool (NT's ExAllocatePoolWithTag family): small
 * blocks of kernel memory for drivers, each carrying a four-character tag.
 * All of irqlab's memory is resident, so paged and nonpaged pool are the
 * same memory; the IRQL rules are NT's anyway (kernel/mm/pool.c).
 */
#ifndef IRQLAB_POOL_H
#define IRQLAB_POOL_H

#include <irqlab/ke.h>

typedef enum _POOL_TYPE {
    NonPagedPool = 0,
    NonPagedPoolExecute = 0,
    PagedPool = 1,
    NonPagedPoolNx = 512,
} POOL_TYPE;

typedef ULONG64 POOL_FLAGS; /* ExAllocatePool2 */
#define POOL_FLAG_UNINITIALIZED     0x0000000000000002ull /* not zeroed */
#define POOL_FLAG_NON_PAGED         0x0000000000000040ull
#define POOL_FLAG_NON_PAGED_EXECUTE 0x0000000000000080ull
#define POOL_FLAG_PAGED             0x0000000000000100ull

/*
 * IRQL: <= DISPATCH_LEVEL (PagedPool: <= APC_LEVEL).  Size bytes, 16-byte
 * aligned, or NULL when memory is short.  A zero size, a zero tag or a call
 * at too high an IRQL is bugcheck 0xC2 BAD_POOL_CALLER, as in NT.
 */
PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
/* The same with NT's newer flags: one of NON_PAGED, NON_PAGED_EXECUTE or PAGED; zeroed unless UNINITIALIZED. */
PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag);
/*
 * IRQL: <= DISPATCH_LEVEL (a paged block: <= APC_LEVEL).  0xC2 for a block
 * already freed (P1 7), a wrong tag (P1 0xA) or an address that is no block (P1 0x46).
 */
VOID ExFreePoolWithTag(PVOID P, ULONG Tag);
VOID ExFreePool(PVOID P); /* no tag check */

/* Bytes of blocks in use, and their count: for tests and the debugger. */
VOID ExQueryPoolUsage(PSIZE_T BytesInUse, PULONG BlocksInUse);

#endif
