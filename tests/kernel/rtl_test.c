/*
 * rtl_test.c - the run-time library as the kernel itself builds it
 * (freestanding flags, kernel code model), complementing tests/host.
 */
#include <irqlab/list.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>

TEST(rtl, format_in_kernel)
{
    char buf[64];

    CHECK_EQ(RtlFormat(buf, sizeof(buf), "%s %d 0x%x %p", "irq", -2, 0x2f, (void *)0x30c0), 28);
    CHECK_STR_EQ(buf, "irq -2 0x2f 00000000000030c0");
    CHECK_EQ(RtlFormat(buf, 4, "%llu", 123456ull), 6);
    CHECK_STR_EQ(buf, "123");
}

TEST(rtl, memory_primitives)
{
    char a[16], b[16];

    memset(a, 'x', sizeof(a));
    CHECK_EQ(a[0], 'x');
    CHECK_EQ(a[15], 'x');
    memcpy(b, "0123456789", 11);
    memmove(b + 2, b, 8);
    CHECK_STR_EQ(b, "0101234567");
    CHECK_LT(memcmp("abc", "abd", 3), 0);
    CHECK_EQ(strlen("DISPATCH_LEVEL"), 14);
    CHECK_EQ(strncmp("KeInsertQueueDpc", "KeInsertQueueApc", 13), 0);
    CHECK(strchr("a=b", '=') != NULL);
}

TEST(rtl, case_insensitive_compare)
{
    CHECK_EQ(_stricmp("!IRQL", "!irql"), 0);
    CHECK_EQ(_strnicmp("DT _KPRCB", "dt _kprcb", 9), 0);
    CHECK_EQ(_strnicmp("Help", "helpx", 4), 0);
    CHECK_LT(_stricmp("help", "Helpx"), 0);
    CHECK_GT(_stricmp("x", "W"), 0);
    CHECK_NE(_stricmp("[", "{"), 0); /* only letters fold: '[' is not '{' */
}

TEST(rtl, list_in_kernel)
{
    LIST_ENTRY head, a, b;

    InitializeListHead(&head);
    InsertTailList(&head, &a);
    InsertHeadList(&head, &b);
    CHECK(head.Flink == &b);
    CHECK(head.Blink == &a);
    CHECK(!RemoveEntryList(&b));
    CHECK(RemoveEntryList(&a));
    CHECK(IsListEmpty(&head));
}
