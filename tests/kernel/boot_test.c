/*
 * boot_test.c - what the foundation promises: descriptor tables, page
 * protections, guard pages, the allocator and the symbol table.
 */
#include <arch/arch.h>
#include <irqlab/mm.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/kequery.h>

extern const char __KernelStart[];
static const char KtReadOnly[] = "rodata";
static char KtWritable[] = "data";

static uint16_t read_cs(void)
{
    uint16_t v;
    __asm__ volatile("mov %%cs, %0" : "=r"(v));
    return v;
}

TEST(boot, nt_selectors_and_tss)
{
    uint16_t ss, tr;

    __asm__ volatile("mov %%ss, %0; str %1" : "=r"(ss), "=r"(tr));
    CHECK_EQ(read_cs(), ARCH_KERNEL_CS);
    CHECK_EQ(ss, ARCH_KERNEL_SS);
    CHECK_EQ(tr, ARCH_TSS_SEL);
}

TEST(boot, wx_text_is_read_execute)
{
    ULONG64 pte = arch_mmu_query((ULONG64)&read_cs);

    REQUIRE(pte != 0);
    CHECK_EQ(pte & ARCH_PTE_WRITE, 0);
    CHECK_EQ(pte & ARCH_PTE_NX, 0);
    CHECK(arch_read_cr0() & (1ull << 16)); /* CR0.WP: ring 0 honours read-only */
}

TEST(boot, wx_rodata_and_data)
{
    ULONG64 ro = arch_mmu_query((ULONG64)KtReadOnly);
    ULONG64 rw = arch_mmu_query((ULONG64)KtWritable);

    REQUIRE(ro != 0 && rw != 0);
    CHECK_EQ(ro & ARCH_PTE_WRITE, 0);
    CHECK_NE(rw & ARCH_PTE_WRITE, 0);
    if (arch_mmu_nx_enabled()) {
        CHECK_NE(ro & ARCH_PTE_NX, 0);
        CHECK_NE(rw & ARCH_PTE_NX, 0);
    }
}

TEST(boot, identity_map_dropped)
{
    CHECK_EQ(arch_mmu_query(0x100000), 0);
    CHECK_EQ(arch_mmu_query(0), 0);
    CHECK_NE(arch_mmu_query((ULONG64)MmDirectMap(0x100000)), 0);
}

TEST(boot, stack_has_guard_page)
{
    ULONG64 rsp = arch_frame_pointer();
    ULONG64 top = (ULONG64)MmCreateKernelStack(2);

    REQUIRE(top != 0);
    CHECK_GE(rsp, ARCH_STACK_BASE); /* we run on a guarded stack ourselves */
    CHECK_NE(arch_mmu_query(top - PAGE_SIZE), 0);
    CHECK_NE(arch_mmu_query(top - 2 * PAGE_SIZE), 0);
    CHECK_EQ(arch_mmu_query(top - 3 * PAGE_SIZE), 0);
}

TEST(boot, page_allocator_round_trip)
{
    ULONG64 before = MmGetFreePageCount();
    ULONG64 a = MmAllocatePhysicalPage(), b = MmAllocatePhysicalPage();

    REQUIRE(a != 0 && b != 0);
    CHECK_NE(a, b);
    CHECK_GE(a, 0x100000); /* low memory is kept for the AP trampoline */
    CHECK_EQ(a % PAGE_SIZE, 0);
    CHECK_EQ(*(volatile ULONG64 *)MmDirectMap(a), 0); /* handed out zeroed */
    CHECK_EQ(MmGetFreePageCount(), before - 2);
    MmFreePhysicalPage(a);
    MmFreePhysicalPage(b);
    CHECK_EQ(MmGetFreePageCount(), before);
}

TEST(boot, symbols_resolve)
{
    char text[96];
    PCSTR name;
    ULONG_PTR offset;

    REQUIRE(KiLookupSymbol((ULONG_PTR)KeBugCheckEx + 3, &name, &offset));
    CHECK_STR_EQ(name, "KeBugCheckEx");
    CHECK_EQ(offset, 3);
    KiFormatSymbol((ULONG_PTR)KtRunTests, text, sizeof(text));
    CHECK_STR_EQ(text, "irqlab!KtRunTests");
    CHECK(!KiLookupSymbol((ULONG_PTR)__KernelStart - 1, &name, &offset));
    CHECK(!KiLookupSymbol(0x1000, &name, &offset));
}

TEST(boot, command_line_selects_tests)
{
    PCSTR value = KeGetCommandLineValue("test");

    REQUIRE(value != NULL);
    CHECK_GT(strlen(value), 0);
    CHECK(KeGetCommandLineValue("no-such-option") == NULL);
}

TEST(boot, irql_is_passive_in_tests)
{
    CHECK_EQ(arch_read_cr8(), PASSIVE_LEVEL);
    CHECK_STR_EQ(KeIrqlName(DISPATCH_LEVEL), "DISPATCH_LEVEL");
    CHECK_STR_EQ(KeBugCheckName(0x1E), "KMODE_EXCEPTION_NOT_HANDLED");
}
