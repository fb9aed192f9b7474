/*
 * list.h - NT's intrusive lists: LIST_ENTRY (doubly linked, circular with a
 * head) and SINGLE_LIST_ENTRY (singly linked, as KDPC_LIST uses).  The names
 * and semantics are those of wdm.h's inline routines.  Header-only so the host
 * unit tests exercise the exact code the kernel runs.
 */
#ifndef IRQLAB_LIST_H
#define IRQLAB_LIST_H

#include <irqlab/nt.h>

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

static inline void InitializeListHead(PLIST_ENTRY Head)
{
    Head->Flink = Head->Blink = Head;
}

static inline BOOLEAN IsListEmpty(const LIST_ENTRY *Head)
{
    return Head->Flink == Head;
}

/* Returns TRUE when the list became empty, like NT's RemoveEntryList. */
static inline BOOLEAN RemoveEntryList(PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = Entry->Flink, Blink = Entry->Blink;
    Blink->Flink = Flink;
    Flink->Blink = Blink;
    return Flink == Blink;
}

static inline PLIST_ENTRY RemoveHeadList(PLIST_ENTRY Head)
{
    PLIST_ENTRY Entry = Head->Flink;
    RemoveEntryList(Entry);
    return Entry;
}

static inline PLIST_ENTRY RemoveTailList(PLIST_ENTRY Head)
{
    PLIST_ENTRY Entry = Head->Blink;
    RemoveEntryList(Entry);
    return Entry;
}

static inline void InsertTailList(PLIST_ENTRY Head, PLIST_ENTRY Entry)
{
    PLIST_ENTRY Blink = Head->Blink;
    Entry->Flink = Head;
    Entry->Blink = Blink;
    Blink->Flink = Entry;
    Head->Blink = Entry;
}

static inline void InsertHeadList(PLIST_ENTRY Head, PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = Head->Flink;
    Entry->Flink = Flink;
    Entry->Blink = Head;
    Flink->Blink = Entry;
    Head->Flink = Entry;
}

static inline void PushEntryList(PSINGLE_LIST_ENTRY Head, PSINGLE_LIST_ENTRY Entry)
{
    Entry->Next = Head->Next;
    Head->Next = Entry;
}

static inline PSINGLE_LIST_ENTRY PopEntryList(PSINGLE_LIST_ENTRY Head)
{
    PSINGLE_LIST_ENTRY First = Head->Next;
    if (First != NULL)
        Head->Next = First->Next;
    return First;
}

#endif
