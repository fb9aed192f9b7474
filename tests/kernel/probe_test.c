/*
 * probe_test.c - reading addresses nobody vouches for: MmIsAddressValid,
 * MmCopyMemory's short copies, and the fixup that turns a fault in
 * arch_copy_safe into "not copied" instead of a bugcheck.
 */
#include <arch/arch.h>
#include <irqlab/mm.h>
#include <irqlab/test.h>

static MM_COPY_ADDRESS at(ULONG64 Address)
{
    MM_COPY_ADDRESS a;

    a.VirtualAddress = (PVOID)Address;
    return a;
}

TEST(probe, valid_and_invalid_addresses)
{
    static ULONG64 data = 0x1122334455667788ull;
    char *page = MmAllocateKernelPages(1);

    REQUIRE(page != NULL);
    CHECK(MmIsAddressValid(&data));
    CHECK(MmIsAddressValid(page));
    CHECK(!MmIsAddressValid(page - 1)); /* the guard page below */
    CHECK(!MmIsAddressValid(NULL));
    CHECK(!MmIsAddressValid((PVOID)0x8000000000000000ull)); /* not canonical */
}

TEST(probe, copy_memory_stops_where_memory_ends)
{
    static const char text[] = "irqlab";
    char buffer[32] = { 0 };
    SIZE_T copied = 99;
    char *page = MmAllocateKernelPages(1);

    REQUIRE(page != NULL);
    CHECK_EQ(MmCopyMemory(buffer, at((ULONG64)text), sizeof(text), MM_COPY_MEMORY_VIRTUAL, &copied), STATUS_SUCCESS);
    CHECK_EQ(copied, sizeof(text));
    CHECK_EQ(buffer[0], 'i');
    CHECK_EQ(MmCopyMemory(buffer, at(0), 8, MM_COPY_MEMORY_VIRTUAL, &copied), STATUS_PARTIAL_COPY);
    CHECK_EQ(copied, 0);
    CHECK_EQ(MmCopyMemory(buffer, at(0xdead000000000000ull), 8, MM_COPY_MEMORY_VIRTUAL, &copied),
             STATUS_PARTIAL_COPY);
    CHECK_EQ(MmCopyMemory(buffer, at((ULONG64)page - 8), 16, MM_COPY_MEMORY_VIRTUAL, &copied),
             STATUS_PARTIAL_COPY);
    CHECK_EQ(copied, 0);
    CHECK_EQ(MmCopyMemory(buffer, at(~0ull - 3), 16, MM_COPY_MEMORY_VIRTUAL, &copied), STATUS_PARTIAL_COPY);
    CHECK_EQ(MmCopyMemory(buffer, at((ULONG64)text), 4, 0x80, &copied), STATUS_INVALID_PARAMETER);
}

/* Without the page-table check: the fault itself must come back as "not copied". */
TEST(probe, a_fault_in_the_safe_copy_is_fixed_up)
{
    char buffer[16];
    char *page = MmAllocateKernelPages(1);

    REQUIRE(page != NULL);
    CHECK_EQ(arch_copy_safe(buffer, page - 16, 16), 16);               /* #PF: guard page */
    CHECK_EQ(arch_copy_safe(buffer, page - 8, 16), 16);                /* #PF from the first byte */
    CHECK_EQ(arch_copy_safe(buffer, (void *)0x8000000000000000ull, 8), 8); /* #GP: not canonical */
    CHECK_EQ(arch_copy_safe(buffer, page, 16), 0);
}
