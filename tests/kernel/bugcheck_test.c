/*
 * bugcheck_test.c - misuse and faults must end in the right bugcheck, with
 * the parameters NT would give.  Each is booted alone by the harness.
 */
#include <arch/arch.h>
#include <irqlab/mm.h>
#include <irqlab/test.h>

/* Labels on the faulting instructions so the tests can pin P2 (the IP). */
extern const char KtReadFaultIp[], KtWriteFaultIp[];

TEST_BUGCHECK(bugcheck, page_fault_read, KMODE_EXCEPTION_NOT_HANDLED)
{
    ULONG64 value;

    TEST_EXPECT_PARAM(1, (LONG_PTR)STATUS_ACCESS_VIOLATION);
    TEST_EXPECT_PARAM(2, KtReadFaultIp);
    TEST_EXPECT_PARAM(3, 0); /* a read */
    TEST_EXPECT_PARAM(4, 0x1000);
    __asm__ volatile(".globl KtReadFaultIp\nKtReadFaultIp: movq (%1), %0"
                     : "=r"(value) : "r"(0x1000ull) : "memory");
}

TEST_BUGCHECK(bugcheck, write_to_text_is_refused, KMODE_EXCEPTION_NOT_HANDLED)
{
    TEST_EXPECT_PARAM(1, (LONG_PTR)STATUS_ACCESS_VIOLATION);
    TEST_EXPECT_PARAM(2, KtWriteFaultIp);
    TEST_EXPECT_PARAM(3, 1); /* a write */
    TEST_EXPECT_PARAM(4, (ULONG_PTR)KeBugCheckEx);
    __asm__ volatile(".globl KtWriteFaultIp\nKtWriteFaultIp: movb $0xcc, (%0)"
                     :: "r"((ULONG64)KeBugCheckEx) : "memory");
}

TEST_BUGCHECK(bugcheck, execute_from_data_is_refused, KMODE_EXCEPTION_NOT_HANDLED)
{
    static uint8_t ret_instruction[16] = { 0xc3 };
    void (*fn)(void) = (void (*)(void))(uintptr_t)ret_instruction;

    TEST_EXPECT_PARAM(1, (LONG_PTR)STATUS_ACCESS_VIOLATION);
    TEST_EXPECT_PARAM(2, ret_instruction);
    TEST_EXPECT_PARAM(3, 8); /* an execute: DEP */
    TEST_EXPECT_PARAM(4, ret_instruction);
    fn();
}

/* Bounded only by the stack: the limit is far beyond any kernel stack. */
static ULONG recurse(ULONG depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    if (depth > 1000000)
        return 0;
    return recurse(depth + 1) + pad[0];
}

/* Running into the guard page faults, and so does pushing the #PF frame: #DF on its IST stack. */
TEST_BUGCHECK(bugcheck, stack_overflow_is_double_fault, UNEXPECTED_KERNEL_MODE_TRAP)
{
    TEST_EXPECT_PARAM(1, 8);
    recurse(0);
}

TEST_BUGCHECK(bugcheck, assert_failure, KMODE_EXCEPTION_NOT_HANDLED)
{
    volatile int one = 1;

    TEST_EXPECT_PARAM(1, (LONG_PTR)STATUS_ASSERTION_FAILURE);
    ASSERT(one == 2);
}

TEST_BUGCHECK(bugcheck, explicit_keBugCheckEx, MANUALLY_INITIATED_CRASH)
{
    TEST_EXPECT_PARAM(1, 0x11);
    TEST_EXPECT_PARAM(4, 0x44);
    KeBugCheckEx(MANUALLY_INITIATED_CRASH, 0x11, 0x22, 0x33, 0x44);
}

TEST_BUGCHECK(bugcheck, double_free_of_a_page, PFN_LIST_CORRUPT)
{
    ULONG64 page = MmAllocatePhysicalPage();

    TEST_EXPECT_PARAM(1, 0x99);
    TEST_EXPECT_PARAM(2, page / PAGE_SIZE);
    MmFreePhysicalPage(page);
    MmFreePhysicalPage(page);
}
