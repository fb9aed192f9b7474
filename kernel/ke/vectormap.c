/*
 * vectormap.c - the vector map, in one place (the ReactOS amd64 HAL and real
 * `!idt` dumps agree on these numbers).  Every entry satisfies
 * vector >> 4 == the IRQL it runs at; the asserts keep it so.
 */
#include <irqlab/vectors.h>

_Static_assert(VECTOR_IRQL(APC_VECTOR) == APC_LEVEL, "APC software interrupt");
_Static_assert(VECTOR_IRQL(DISPATCH_VECTOR) == DISPATCH_LEVEL, "DPC software interrupt");
_Static_assert(VECTOR_IRQL(CLOCK_VECTOR) == CLOCK_LEVEL, "clock");
_Static_assert(VECTOR_IRQL(CLOCK_IPI_VECTOR) == CLOCK_LEVEL, "clock IPI");
_Static_assert(VECTOR_IRQL(SPURIOUS_VECTOR) == CLOCK_LEVEL, "spurious: never EOI'd");
_Static_assert(VECTOR_IRQL(IPI_VECTOR) == IPI_LEVEL, "IPI");
_Static_assert(VECTOR_IRQL(APIC_ERROR_VECTOR) == IPI_LEVEL, "APIC error");
_Static_assert(VECTOR_IRQL(PROFILE_VECTOR) == PROFILE_LEVEL, "profile");

const KVECTOR_INFO KeVectorMap[] = {
    { APC_VECTOR, "APC software interrupt" },
    { ASSERTION_VECTOR, "assertion (int 0x2c, a trap)" },
    { DISPATCH_VECTOR, "DISPATCH (DPC) software interrupt" },
    { CLOCK_VECTOR, "clock" },
    { CLOCK_IPI_VECTOR, "clock IPI" },
    { SPURIOUS_VECTOR, "APIC spurious" },
    { IPI_VECTOR, "IPI" },
    { APIC_ERROR_VECTOR, "APIC error" },
    { PROFILE_VECTOR, "profile" },
};
const ULONG KeVectorMapCount = ARRAYSIZE(KeVectorMap);
