/*
 * pfn.c - the physical page allocator (NT calls its bookkeeping the PFN
 * database).  A bitmap, one bit per 4 KiB page up to the top of usable RAM,
 * set = in use.  Pages below 1 MiB are never handed out: the AP trampoline
 * needs them, and firmware parks the APs there until they are woken.
 */
#include <arch/arch.h>
#include <irqlab/mm.h>
#include <irqlab/rtl.h>
#include <arch/rawlock.h>

#define LOW_MEMORY_LIMIT 0x100000ull

static ULONG64 *MiBitmap;
static ULONG64 MiPageLimit; /* pages covered by the bitmap */
static ULONG64 MiFreePages, MiManagedPages;
static ULONG64 MiHintWord;
static PBUGCHECK_ROUTINE MiBugCheck; /* KeBugCheckEx, handed down by the boot sequence */
static ARCH_RAW_LOCK MiLock;
static const struct irqlab_mem_range *MiRanges; /* the loader's map, kept for MmReserveLowPages */
static uint32_t MiRangeCount;
static ULONG64 MiLowNext = LOW_MEMORY_LIMIT; /* low pages handed out so far start here */

static BOOLEAN bit_test(ULONG64 pfn) { return (MiBitmap[pfn / 64] >> (pfn % 64)) & 1; }
static void bit_set(ULONG64 pfn) { MiBitmap[pfn / 64] |= 1ull << (pfn % 64); }
static void bit_clear(ULONG64 pfn) { MiBitmap[pfn / 64] &= ~(1ull << (pfn % 64)); }

static const struct irqlab_mem_range *ranges(const struct irqlab_bootinfo *bi)
{
    return (const struct irqlab_mem_range *)MmDirectMap(bi->memmap);
}

/* First usable range above 1 MiB with room for the bitmap; its base. */
static ULONG64 find_bitmap_home(const struct irqlab_bootinfo *bi, ULONG64 bytes)
{
    const struct irqlab_mem_range *r = ranges(bi);

    for (uint32_t i = 0; i < bi->memmap_count; i++) {
        if (r[i].type != IRQLAB_MEM_USABLE)
            continue;
        ULONG64 base = r[i].base < LOW_MEMORY_LIMIT ? LOW_MEMORY_LIMIT : r[i].base;
        ULONG64 end = r[i].base + r[i].pages * PAGE_SIZE;
        if (end > base && end - base >= bytes)
            return base;
    }
    MiBugCheck(INSTALL_MORE_MEMORY, (ULONG_PTR)MiPageLimit, 0, 0, bytes);
}

VOID MmInitializePfnDatabase(const struct irqlab_bootinfo *BootInfo, PBUGCHECK_ROUTINE BugCheck)
{
    MiBugCheck = BugCheck;
    const struct irqlab_mem_range *r = ranges(BootInfo);

    for (uint32_t i = 0; i < BootInfo->memmap_count; i++)
        if (r[i].type == IRQLAB_MEM_USABLE && r[i].base / PAGE_SIZE + r[i].pages > MiPageLimit)
            MiPageLimit = r[i].base / PAGE_SIZE + r[i].pages;
    ULONG64 bytes = (MiPageLimit + 63) / 64 * 8;
    ULONG64 home = find_bitmap_home(BootInfo, bytes);
    MiBitmap = MmDirectMap(home);
    memset(MiBitmap, 0xff, bytes);
    for (uint32_t i = 0; i < BootInfo->memmap_count; i++) {
        if (r[i].type != IRQLAB_MEM_USABLE)
            continue;
        for (ULONG64 p = 0; p < r[i].pages; p++) {
            ULONG64 pa = r[i].base + p * PAGE_SIZE;
            if (pa < LOW_MEMORY_LIMIT || (pa >= home && pa < home + bytes))
                continue;
            bit_clear(pa / PAGE_SIZE);
            MiFreePages++;
        }
    }
    MiManagedPages = MiFreePages;
    MiRanges = r;
    MiRangeCount = BootInfo->memmap_count;
}

ULONG64 MmAllocatePhysicalPage(VOID)
{
    ULONG64 words = (MiPageLimit + 63) / 64, pa = 0;
    ULONG64 flags = arch_raw_lock_acquire(&MiLock);

    for (ULONG64 n = 0; n < words && pa == 0; n++) {
        ULONG64 w = (MiHintWord + n) % words;
        if (MiBitmap[w] == ~0ull)
            continue;
        ULONG64 pfn = w * 64 + (ULONG64)__builtin_ctzll(~MiBitmap[w]);
        if (pfn >= MiPageLimit)
            continue;
        bit_set(pfn);
        MiFreePages--;
        MiHintWord = w;
        pa = pfn * PAGE_SIZE;
    }
    arch_raw_lock_release(&MiLock, flags);
    if (pa)
        memset(MmDirectMap(pa), 0, PAGE_SIZE);
    return pa;
}

ULONG64 MmAllocateContiguousPhysicalPages(ULONG Pages)
{
    ULONG64 run = 0, pa = 0;

    if (Pages == 0)
        return 0;
    ULONG64 flags = arch_raw_lock_acquire(&MiLock);
    for (ULONG64 pfn = LOW_MEMORY_LIMIT / PAGE_SIZE; pfn < MiPageLimit && pa == 0; pfn++) {
        if (pfn % 64 == 0 && MiBitmap[pfn / 64] == ~0ull) { /* a word in use: skip it whole */
            run = 0;
            pfn += 63;
            continue;
        }
        run = bit_test(pfn) ? 0 : run + 1;
        if (run < Pages)
            continue;
        pa = (pfn + 1 - Pages) * PAGE_SIZE;
        for (ULONG64 p = pfn + 1 - Pages; p <= pfn; p++)
            bit_set(p);
        MiFreePages -= Pages;
    }
    arch_raw_lock_release(&MiLock, flags);
    if (pa)
        memset(MmDirectMap(pa), 0, (ULONG64)Pages * PAGE_SIZE);
    return pa;
}

VOID MmFreePhysicalPage(ULONG64 PhysicalAddress)
{
    ULONG64 pfn = PhysicalAddress / PAGE_SIZE;
    ULONG64 flags = arch_raw_lock_acquire(&MiLock);

    if ((PhysicalAddress & (PAGE_SIZE - 1)) || pfn >= MiPageLimit || !bit_test(pfn)) {
        arch_raw_lock_release(&MiLock, flags);
        /* NT's PFN_LIST_CORRUPT 0x99: a free of a page that is not in use. */
        MiBugCheck(PFN_LIST_CORRUPT, 0x99, (ULONG_PTR)pfn, 0, (ULONG_PTR)PhysicalAddress);
    }
    bit_clear(pfn);
    MiFreePages++;
    arch_raw_lock_release(&MiLock, flags);
}

ULONG64 MmGetFreePageCount(VOID) { return MiFreePages; }
ULONG64 MmGetManagedPageCount(VOID) { return MiManagedPages; }
ULONG64 MmGetPhysicalLimit(VOID) { return MiPageLimit * PAGE_SIZE; }

PVOID MmAllocateKernelPages(ULONG Pages)
{
    ULONG64 top = (ULONG64)MmCreateKernelStack(Pages);
    return top ? (PVOID)(top - (ULONG64)Pages * PAGE_SIZE) : NULL;
}

ULONG64 MmReserveLowPages(ULONG Pages)
{
    const struct irqlab_mem_range *r = MiRanges;
    ULONG64 best = 0;

    /* The highest fit, above page 0 (the real-mode IVT and BDA live low). */
    for (uint32_t i = 0; i < MiRangeCount; i++) {
        if (r[i].type != IRQLAB_MEM_USABLE || r[i].base >= LOW_MEMORY_LIMIT)
            continue;
        ULONG64 base = r[i].base < PAGE_SIZE ? PAGE_SIZE : r[i].base;
        ULONG64 end = r[i].base + r[i].pages * PAGE_SIZE;
        if (end > MiLowNext)
            end = MiLowNext;
        if (end >= base + (ULONG64)Pages * PAGE_SIZE && end - (ULONG64)Pages * PAGE_SIZE > best)
            best = end - (ULONG64)Pages * PAGE_SIZE;
    }
    if (best)
        MiLowNext = best;
    return best;
}
