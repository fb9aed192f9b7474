/*
 * nt.h - NT's basic types and macros, as a driver author knows them
 * (ntdef.h / wdm.h names), so that NT-style code compiles against irqlab.
 */
#ifndef IRQLAB_NT_H
#define IRQLAB_NT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void VOID, *PVOID;
typedef char CHAR, CCHAR, *PCHAR;
typedef const char *PCSTR;
typedef uint8_t UCHAR, *PUCHAR, BOOLEAN, *PBOOLEAN;
typedef int16_t SHORT, *PSHORT;
typedef uint16_t USHORT, *PUSHORT;
typedef int32_t LONG, *PLONG, NTSTATUS;
typedef uint32_t ULONG, *PULONG;
/* unsigned __int64 in NT: long long, so %llx fits them on every LP64 compiler. */
typedef long long LONG64, LONGLONG, LONG_PTR;
typedef unsigned long long ULONG64, ULONGLONG, *PULONG64;
typedef unsigned long long ULONG_PTR, *PULONG_PTR, SIZE_T, *PSIZE_T;
typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;
typedef ULONG_PTR KAFFINITY, *PKAFFINITY;

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

/* A processor as group and number in the group (irqlab has one group, 0). */
typedef struct _PROCESSOR_NUMBER {
    USHORT Group;
    UCHAR Number;
    UCHAR Reserved;
} PROCESSOR_NUMBER, *PPROCESSOR_NUMBER;

#ifndef TRUE
#define TRUE  1
#define FALSE 0
#endif

#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#define STATUS_SUCCESS              ((NTSTATUS)0x00000000)
#define STATUS_WAIT_0               ((NTSTATUS)0x00000000)
#define STATUS_UNSUCCESSFUL         ((NTSTATUS)0xC0000001)
#define STATUS_TIMEOUT              ((NTSTATUS)0x00000102)
#define STATUS_KERNEL_APC           ((NTSTATUS)0x00000100) /* a wait gave way to a kernel APC */
#define STATUS_BREAKPOINT           ((NTSTATUS)0x80000003)
#define STATUS_SINGLE_STEP          ((NTSTATUS)0x80000004)
#define STATUS_INVALID_PARAMETER    ((NTSTATUS)0xC000000D)
#define STATUS_INVALID_HANDLE       ((NTSTATUS)0xC0000008)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009A)
#define STATUS_OBJECT_TYPE_MISMATCH ((NTSTATUS)0xC0000024)
#define STATUS_MUTANT_NOT_OWNED     ((NTSTATUS)0xC0000046)
#define STATUS_SEMAPHORE_LIMIT_EXCEEDED ((NTSTATUS)0xC0000047)
#define STATUS_PARTIAL_COPY         ((NTSTATUS)0x8000000D)
#define STATUS_ACCESS_VIOLATION     ((NTSTATUS)0xC0000005)
#define STATUS_ILLEGAL_INSTRUCTION  ((NTSTATUS)0xC000001D)
#define STATUS_ARRAY_BOUNDS_EXCEEDED ((NTSTATUS)0xC000008C)
#define STATUS_INTEGER_DIVIDE_BY_ZERO ((NTSTATUS)0xC0000094)
#define STATUS_INTEGER_OVERFLOW     ((NTSTATUS)0xC0000095)
#define STATUS_PRIVILEGED_INSTRUCTION ((NTSTATUS)0xC0000096)
#define STATUS_FLOAT_MULTIPLE_TRAPS ((NTSTATUS)0xC00002B5)
#define STATUS_DATATYPE_MISALIGNMENT ((NTSTATUS)0x80000002)
#define STATUS_ASSERTION_FAILURE    ((NTSTATUS)0xC0000420)

#define CONTAINING_RECORD(address, type, field) \
    ((type *)((char *)(address) - offsetof(type, field)))

#define ARRAYSIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNREFERENCED_PARAMETER(p) ((void)(p))

#define DECLSPEC_NORETURN __attribute__((noreturn))

/* IRQL: x64 NT's levels (wdm.h); CR8 holds the current one (Intel SDM vol. 3, 10.8.6). */
typedef UCHAR KIRQL, *PKIRQL;
#define PASSIVE_LEVEL  0
#define LOW_LEVEL      0
#define APC_LEVEL      1
#define DISPATCH_LEVEL 2
#define CMCI_LEVEL     5
#define SYNCH_LEVEL    12
#define CLOCK_LEVEL    13
#define IPI_LEVEL      14
#define POWER_LEVEL    14
#define PROFILE_LEVEL  15
#define HIGH_LEVEL     15

typedef enum _KINTERRUPT_MODE { LevelSensitive, Latched } KINTERRUPT_MODE;

#endif
