/*
 * pool_test.c - the executive pool as a driver uses it: blocks of every
 * size class and beyond a page, aligned, zeroed when asked, reused after a
 * free, usable at DISPATCH_LEVEL and from every CPU at once; and each
 * misuse NT names (double free, wrong tag, bad address, bad IRQL) ends in
 * BAD_POOL_CALLER with NT's first parameter.
 */
#include <irqlab/mm.h>
#include <irqlab/pool.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>

#define TAG   0x74736554 /* "Test" in memory, as NT's 'tseT' */
#define WRONG 0x676e7257 /* "Wrng" */

static BOOLEAN all_bytes(const UCHAR *P, SIZE_T Size, UCHAR Value)
{
    for (SIZE_T i = 0; i < Size; i++)
        if (P[i] != Value)
            return FALSE;
    return TRUE;
}

TEST(pool, blocks_of_every_size_are_aligned_distinct_and_usable)
{
    static const SIZE_T sizes[] = { 1, 16, 17, 100, 500, 1000, 2000, 4000, 4080, 4081, 10000, 70000 };
    PUCHAR blocks[ARRAYSIZE(sizes)];
    SIZE_T bytes_before, bytes;
    ULONG count_before, count;

    ExQueryPoolUsage(&bytes_before, &count_before);
    for (ULONG i = 0; i < ARRAYSIZE(sizes); i++) {
        blocks[i] = ExAllocatePoolWithTag(NonPagedPoolNx, sizes[i], TAG);
        REQUIRE(blocks[i] != NULL);
        CHECK_EQ((ULONG64)blocks[i] & 15, 0);
        memset(blocks[i], (int)i + 1, sizes[i]);
    }
    ExQueryPoolUsage(&bytes, &count);
    CHECK_EQ(count, count_before + ARRAYSIZE(sizes));
    for (ULONG i = 0; i < ARRAYSIZE(sizes); i++) /* no block overlapped another */
        CHECK(all_bytes(blocks[i], sizes[i], (UCHAR)(i + 1)));
    for (ULONG i = 0; i < ARRAYSIZE(sizes); i++)
        ExFreePoolWithTag(blocks[i], TAG);
    ExQueryPoolUsage(&bytes, &count);
    CHECK_EQ(count, count_before);
    CHECK_EQ(bytes, bytes_before);
}

TEST(pool, pool2_zeroes_and_a_freed_block_is_reused)
{
    PUCHAR a = ExAllocatePool2(POOL_FLAG_NON_PAGED, 200, TAG);

    REQUIRE(a != NULL);
    CHECK(all_bytes(a, 200, 0));
    memset(a, 0x5a, 200);
    ExFreePoolWithTag(a, TAG);
    PUCHAR b = ExAllocatePool2(POOL_FLAG_NON_PAGED, 200, TAG);
    CHECK(b == a); /* the same size class hands back the block just freed */
    CHECK(all_bytes(b, 200, 0));
    ExFreePool(b);
    CHECK(ExAllocatePool2(0, 16, TAG) == NULL); /* no pool named: refused, said on serial */
}

TEST(pool, nonpaged_pool_at_dispatch_level)
{
    KIRQL old;

    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PVOID p = ExAllocatePoolWithTag(NonPagedPool, 64, TAG);
    if (p)
        ExFreePoolWithTag(p, TAG);
    KeLowerIrql(old);
    CHECK(p != NULL);
}

#define PER_CPU 200
static PVOID KtBlocks[MAXIMUM_PROCESSORS][PER_CPU];
static volatile LONG KtPoolFailures;

static VOID churn(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    ULONG cpu = KeGetCurrentProcessorNumber();

    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    KeSignalCallDpcSynchronize(Arg2); /* all CPUs start together */
    for (ULONG i = 0; i < PER_CPU; i++) {
        KtBlocks[cpu][i] = ExAllocatePoolWithTag(NonPagedPoolNx, 24 + (i * 37) % 3000, TAG);
        if (KtBlocks[cpu][i] == NULL)
            __atomic_add_fetch(&KtPoolFailures, 1, __ATOMIC_RELAXED);
        else
            memset(KtBlocks[cpu][i], (int)cpu + 1, 24);
    }
    for (ULONG i = 0; i < PER_CPU; i++)
        if (KtBlocks[cpu][i] && !all_bytes(KtBlocks[cpu][i], 24, (UCHAR)(cpu + 1)))
            __atomic_add_fetch(&KtPoolFailures, 1, __ATOMIC_RELAXED);
    for (ULONG i = 0; i < PER_CPU; i++)
        if (KtBlocks[cpu][i])
            ExFreePoolWithTag(KtBlocks[cpu][i], TAG);
    KeSignalCallDpcDone(Arg1);
    UNREFERENCED_PARAMETER(Dpc);
}

TEST(pool, every_cpu_allocates_and_frees_at_once)
{
    SIZE_T bytes_before, bytes;
    ULONG count_before, count;

    ExQueryPoolUsage(&bytes_before, &count_before);
    KtPoolFailures = 0;
    KeGenericCallDpc(churn, NULL);
    CHECK_EQ(KtPoolFailures, 0);
    ExQueryPoolUsage(&bytes, &count);
    CHECK_EQ(count, count_before);
    CHECK_EQ(bytes, bytes_before);
}

static PVOID KtBlock;

TEST_BUGCHECK(pool, a_double_free, BAD_POOL_CALLER)
{
    KtBlock = ExAllocatePoolWithTag(NonPagedPool, 40, TAG);
    TEST_EXPECT_PARAM(1, 0x07);
    TEST_EXPECT_PARAM(4, KtBlock);
    ExFreePoolWithTag(KtBlock, TAG);
    ExFreePoolWithTag(KtBlock, TAG);
}

TEST_BUGCHECK(pool, a_free_with_the_wrong_tag, BAD_POOL_CALLER)
{
    KtBlock = ExAllocatePoolWithTag(NonPagedPool, 40, TAG);
    TEST_EXPECT_PARAM(1, 0x0a);
    TEST_EXPECT_PARAM(2, KtBlock);
    TEST_EXPECT_PARAM(3, TAG);
    TEST_EXPECT_PARAM(4, WRONG);
    ExFreePoolWithTag(KtBlock, WRONG);
}

TEST_BUGCHECK(pool, a_free_of_an_address_no_allocation_returned, BAD_POOL_CALLER)
{
    static ULONG64 not_pool[4];

    TEST_EXPECT_PARAM(1, 0x46);
    TEST_EXPECT_PARAM(2, &not_pool[2]);
    ExFreePool(&not_pool[2]);
}

TEST_BUGCHECK(pool, paged_pool_at_dispatch_level, BAD_POOL_CALLER)
{
    KIRQL old;

    TEST_EXPECT_PARAM(1, 0x08);
    TEST_EXPECT_PARAM(2, DISPATCH_LEVEL);
    TEST_EXPECT_PARAM(3, PagedPool);
    TEST_EXPECT_PARAM(4, 64);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExAllocatePoolWithTag(PagedPool, 64, TAG);
}
