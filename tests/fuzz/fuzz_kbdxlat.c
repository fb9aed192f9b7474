/*
 * fuzz_kbdxlat.c - libFuzzer on the scan code decoder (kernel/io/kbdxlat.c):
 * any byte stream from a keyboard gives at most one of a character, a key
 * or an LED change per byte, LEDs within their three bits, and terminal
 * bytes that fit the buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include "kbdxlat.h"

int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size)
{
    KBD_DECODER decoder;
    KBD_EVENT event;
    CHAR out[16];

    KbdDecoderInitialize(&decoder);
    for (size_t i = 0; i < Size; i++) {
        BOOLEAN produced = KbdDecode(&decoder, Data[i], &event);
        int kinds = (event.Char != 0) + (event.Key != KBD_KEY_NONE) + (event.LedsChanged != 0);
        if (kinds > 1 || produced != (kinds == 1) || event.Key > KBD_KEY_F12)
            __builtin_trap();
        if (decoder.Leds & ~(KBD_LED_SCROLL | KBD_LED_NUM | KBD_LED_CAPS))
            __builtin_trap();
        if (KbdEventToTerminal(&event, out, (ULONG)(Data[i] % sizeof(out))) > Data[i] % sizeof(out))
            __builtin_trap();
    }
    return 0;
}
