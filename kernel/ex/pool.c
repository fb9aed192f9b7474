/*
 * pool.c - the executive pool (include/irqlab/pool.h).
 *
 * Blocks of 32 to 4096 bytes, powers of two, are carved from physical pages
 * reached through the direct map and kept on one free list per size; a
 * larger request takes whole contiguous pages.  Each block starts with a
 * 16-byte header (tag, size class, state), so a free can check what it is
 * given, as NT's pool does, and bugcheck 0xC2 BAD_POOL_CALLER with NT's
 * first parameter for each misuse.  One spin lock guards the lists, which
 * is why the pool serves DISPATCH_LEVEL callers and none above.
 */
#include <irqlab/mm.h>
#include <irqlab/pool.h>
#include <irqlab/rtl.h>
#include <irqlab/spinlock.h>

#define CLASSES      8 /* 32 << 0 .. 32 << 7 = 4096 */
#define LARGE        0xff
#define IN_USE       0xa110
#define FREED        0xf3ee
#define HEADER       16
#define SMALL_LIMIT  (4096 - HEADER)

/* BAD_POOL_CALLER's first parameter (NT's values). */
#define ZERO_BYTES   0x00
#define DOUBLE_FREE  0x07
#define ALLOC_IRQL   0x08
#define FREE_IRQL    0x09
#define WRONG_TAG    0x0a
#define NOT_A_BLOCK  0x46
#define ZERO_TAG     0x9b
#define FREE_LIST_CORRUPT 0x03 /* BAD_POOL_HEADER's */

typedef struct _POOL_HEADER {
    ULONG Tag;
    USHORT State; /* IN_USE or FREED */
    UCHAR Class;  /* size class, or LARGE */
    UCHAR Paged;  /* allocated as PagedPool: freed at <= APC_LEVEL */
    ULONG Pages;  /* LARGE: pages taken */
    ULONG Size;   /* bytes asked for */
} POOL_HEADER;

_Static_assert(sizeof(POOL_HEADER) == HEADER, "blocks stay 16-byte aligned");

static KSPIN_LOCK ExPoolLock;
static PVOID ExFreeList[CLASSES]; /* through each free block's first 8 bytes after the header */
static SIZE_T ExBytesInUse;
static ULONG ExBlocksInUse;

static ULONG class_of(SIZE_T Bytes)
{
    ULONG c = 0;

    while ((32ull << c) < Bytes + HEADER)
        c++;
    return c;
}

/* Lock held.  A block of class C from its list, or from a fresh page cut into blocks. */
static POOL_HEADER *take_small(ULONG C)
{
    ULONG size = 32u << C;

    if (ExFreeList[C] == NULL) {
        ULONG64 page = MmAllocatePhysicalPage();
        if (page == 0)
            return NULL;
        char *base = MmDirectMap(page);
        for (ULONG at = 0; at < PAGE_SIZE; at += size) { /* pushed from the top: taken from the bottom */
            POOL_HEADER *h = (POOL_HEADER *)(base + PAGE_SIZE - size - at);
            h->State = FREED;
            h->Class = (UCHAR)C;
            *(PVOID *)(h + 1) = ExFreeList[C];
            ExFreeList[C] = h;
        }
    }
    POOL_HEADER *h = ExFreeList[C];
    PVOID next = *(PVOID *)(h + 1);
    if (h->State != FREED || h->Class != C) /* written after it was freed */
        KeBugCheckEx(BAD_POOL_HEADER, FREE_LIST_CORRUPT, (ULONG_PTR)h, (ULONG_PTR)next, 0);
    ExFreeList[C] = next;
    return h;
}

static POOL_HEADER *take_large(SIZE_T Bytes)
{
    ULONG pages = (ULONG)((Bytes + HEADER + PAGE_SIZE - 1) / PAGE_SIZE);
    ULONG64 pa = MmAllocateContiguousPhysicalPages(pages);
    POOL_HEADER *h = pa ? MmDirectMap(pa) : NULL;

    if (h) {
        h->Class = LARGE;
        h->Pages = pages;
    }
    return h;
}

static PVOID allocate(BOOLEAN Paged, ULONG Type, SIZE_T Bytes, ULONG Tag, BOOLEAN Zero, PVOID Caller)
{
    KIRQL irql = KeGetCurrentIrql(), old;

    if (irql > (Paged ? APC_LEVEL : DISPATCH_LEVEL))
        KeBugCheckEx(BAD_POOL_CALLER, ALLOC_IRQL, irql, Type, Bytes);
    if (Bytes == 0)
        KeBugCheckEx(BAD_POOL_CALLER, ZERO_BYTES, 0, Type, Tag);
    if (Tag == 0)
        KeBugCheckEx(BAD_POOL_CALLER, ZERO_TAG, Type, Bytes, (ULONG_PTR)Caller);
    if (Bytes > 0xffffffffull)
        return NULL;
    KeAcquireSpinLock(&ExPoolLock, &old);
    POOL_HEADER *h = Bytes <= SMALL_LIMIT ? take_small(class_of(Bytes)) : take_large(Bytes);
    if (h) {
        h->Tag = Tag;
        h->State = IN_USE;
        h->Paged = (UCHAR)Paged;
        h->Size = (ULONG)Bytes;
        ExBytesInUse += Bytes;
        ExBlocksInUse++;
    }
    KeReleaseSpinLock(&ExPoolLock, old);
    if (h && Zero)
        memset(h + 1, 0, Bytes);
    return h ? h + 1 : NULL;
}

PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return allocate(PoolType == PagedPool, PoolType, NumberOfBytes, Tag, FALSE, __builtin_return_address(0));
}

PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    POOL_FLAGS kind = Flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED);

    if (kind != POOL_FLAG_NON_PAGED && kind != POOL_FLAG_NON_PAGED_EXECUTE && kind != POOL_FLAG_PAGED) {
        DbgPrint("ExAllocatePool2: flags %llx name no pool (one of NON_PAGED, NON_PAGED_EXECUTE, PAGED)\n", Flags);
        return NULL;
    }
    return allocate(kind == POOL_FLAG_PAGED, kind == POOL_FLAG_PAGED, NumberOfBytes, Tag,
                    !(Flags & POOL_FLAG_UNINITIALIZED), __builtin_return_address(0));
}

/* The header of the block at P, or a bugcheck for an address no allocation returned. */
static POOL_HEADER *header_of(PVOID P)
{
    ULONG64 at = (ULONG64)P;
    POOL_HEADER *h = (POOL_HEADER *)(at - HEADER);

    if ((at & (HEADER - 1)) || at < IRQLAB_DIRECT_MAP_BASE + HEADER ||
        at - IRQLAB_DIRECT_MAP_BASE >= MmGetPhysicalLimit() || !MmIsAddressValid(h)) /* pool is all in the direct map */
        KeBugCheckEx(BAD_POOL_CALLER, NOT_A_BLOCK, at, 0, 0);
    if (h->State == FREED)
        KeBugCheckEx(BAD_POOL_CALLER, DOUBLE_FREE, 0, *(ULONG64 *)h, at);
    if (h->State != IN_USE || (h->Class >= CLASSES && h->Class != LARGE))
        KeBugCheckEx(BAD_POOL_CALLER, NOT_A_BLOCK, at, 0, 0);
    return h;
}

static VOID release(PVOID P, BOOLEAN CheckTag, ULONG Tag)
{
    KIRQL irql = KeGetCurrentIrql(), old;
    POOL_HEADER *h = header_of(P);

    if (irql > (h->Paged ? APC_LEVEL : DISPATCH_LEVEL))
        KeBugCheckEx(BAD_POOL_CALLER, FREE_IRQL, irql, h->Paged, (ULONG_PTR)P);
    if (CheckTag && h->Tag != Tag)
        KeBugCheckEx(BAD_POOL_CALLER, WRONG_TAG, (ULONG_PTR)P, h->Tag, Tag);
    KeAcquireSpinLock(&ExPoolLock, &old);
    if (h->State != IN_USE) { /* another CPU freed it since header_of looked */
        KeReleaseSpinLock(&ExPoolLock, old);
        KeBugCheckEx(BAD_POOL_CALLER, DOUBLE_FREE, 0, *(ULONG64 *)h, (ULONG_PTR)P);
    }
    ExBytesInUse -= h->Size;
    ExBlocksInUse--;
    h->State = FREED;
    if (h->Class == LARGE) {
        ULONG pages = h->Pages;
        ULONG64 pa = (ULONG64)h - IRQLAB_DIRECT_MAP_BASE;
        for (ULONG i = 0; i < pages; i++)
            MmFreePhysicalPage(pa + (ULONG64)i * PAGE_SIZE);
    } else {
        *(PVOID *)(h + 1) = ExFreeList[h->Class];
        ExFreeList[h->Class] = h;
    }
    KeReleaseSpinLock(&ExPoolLock, old);
}

VOID ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    release(P, TRUE, Tag);
}

VOID ExFreePool(PVOID P)
{
    release(P, FALSE, 0);
}

VOID ExQueryPoolUsage(PSIZE_T BytesInUse, PULONG BlocksInUse)
{
    *BytesInUse = ExBytesInUse;
    *BlocksInUse = ExBlocksInUse;
}
