/*
 * irql.c - interrupt request levels.  IRQL is CR8 on x64 NT: there is no
 * other copy of it.
 */
#include <irqlab/rtl.h>
#include <irqlab/ke.h>

const char *KeIrqlName(KIRQL Irql)
{
    static const char *const names[16] = {
        "PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL", "DIRQL 3", "DIRQL 4", "DIRQL 5 (CMCI_LEVEL)",
        "DIRQL 6", "DIRQL 7", "DIRQL 8", "DIRQL 9", "DIRQL 10", "DIRQL 11", "SYNCH_LEVEL",
        "CLOCK_LEVEL", "IPI_LEVEL", "HIGH_LEVEL",
    };
    return Irql < 16 ? names[Irql] : "invalid IRQL";
}
