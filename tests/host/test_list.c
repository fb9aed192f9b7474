/*
 * test_list.c - NT's list helpers in <irqlab/list.h>, including the return
 * values NT documents (RemoveEntryList reports the list became empty).
 */
#include <string.h>
#include <irqlab/list.h>
#include "ktap.h"

typedef struct {
    int Value;
    LIST_ENTRY Link;
    SINGLE_LIST_ENTRY Next;
} ITEM;

static int walk(PLIST_ENTRY head, int *out, int max)
{
    int n = 0;
    for (PLIST_ENTRY e = head->Flink; e != head && n < max; e = e->Flink)
        out[n++] = CONTAINING_RECORD(e, ITEM, Link)->Value;
    return n;
}

int main(void)
{
    ITEM items[4] = { { .Value = 0 }, { .Value = 1 }, { .Value = 2 }, { .Value = 3 } };

    CASE("list.empty_head") {
        LIST_ENTRY head;
        InitializeListHead(&head);
        EXPECT(IsListEmpty(&head));
        EXPECT(head.Flink == &head && head.Blink == &head);
    }
    CASE("list.insert_order") {
        LIST_ENTRY head;
        int got[8];
        InitializeListHead(&head);
        InsertTailList(&head, &items[1].Link);
        InsertTailList(&head, &items[2].Link);
        InsertHeadList(&head, &items[0].Link);
        EXPECT(walk(&head, got, 8) == 3);
        EXPECT(got[0] == 0 && got[1] == 1 && got[2] == 2);
        EXPECT(head.Blink == &items[2].Link);
    }
    CASE("list.remove_reports_empty") {
        LIST_ENTRY head;
        InitializeListHead(&head);
        InsertTailList(&head, &items[0].Link);
        InsertTailList(&head, &items[1].Link);
        EXPECT(RemoveEntryList(&items[0].Link) == FALSE);
        EXPECT(RemoveEntryList(&items[1].Link) == TRUE);
        EXPECT(IsListEmpty(&head));
    }
    CASE("list.remove_head_tail") {
        LIST_ENTRY head;
        InitializeListHead(&head);
        for (int i = 0; i < 4; i++)
            InsertTailList(&head, &items[i].Link);
        EXPECT(RemoveHeadList(&head) == &items[0].Link);
        EXPECT(RemoveTailList(&head) == &items[3].Link);
        int got[8];
        EXPECT(walk(&head, got, 8) == 2 && got[0] == 1 && got[1] == 2);
    }
    CASE("list.single_push_pop_lifo") {
        SINGLE_LIST_ENTRY head = { NULL };
        EXPECT(PopEntryList(&head) == NULL);
        PushEntryList(&head, &items[0].Next);
        PushEntryList(&head, &items[1].Next);
        EXPECT(PopEntryList(&head) == &items[1].Next);
        EXPECT(PopEntryList(&head) == &items[0].Next);
        EXPECT(PopEntryList(&head) == NULL);
    }
    return ktap_finish();
}
