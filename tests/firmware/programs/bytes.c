/* Byte and halfword loads and stores: sign and zero extension, little-endian packing, unaligned byte runs. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static volatile int8_t s8[8] = {0, 1, -1, 127, -128, 55, -56, 99};
static volatile int16_t s16[6] = {0, 1, -1, 32767, -32768, -1234};
static volatile uint8_t u8[4];
static volatile uint16_t u16[4];
static union {
    uint32_t word;
    uint8_t bytes[4];
    uint16_t halves[2];
} u;

int main(void)
{
    int32_t sum = 0;
    for (int i = 0; i < 8; i++) {
        sum += s8[i];
        u8[i & 3] = (uint8_t)s8[i];
        printf("s8[%d]=%d u8=%u\n", i, s8[i], u8[i & 3]);
    }
    for (int i = 0; i < 6; i++) {
        sum += s16[i];
        u16[i & 3] = (uint16_t)s16[i];
        printf("s16[%d]=%d u16=%u\n", i, s16[i], u16[i & 3]);
    }
    u.word = 0x11223344u;
    printf("bytes %02x %02x %02x %02x halves %04x %04x\n", u.bytes[0], u.bytes[1], u.bytes[2], u.bytes[3],
           u.halves[0], u.halves[1]);
    u.bytes[1] = 0xAB;
    u.halves[1] = 0xCDEF;
    printf("word %08x\n", u.word);
    char buf[40];
    const char *text = "an unaligned run of bytes to copy";
    for (int off = 0; off < 4; off++) {
        memset(buf, '.', sizeof buf);
        memcpy(buf + off, text + 3 - off, 20);
        buf[off + 20] = 0;
        printf("%d:[%s] %d\n", off, buf, (int)strlen(buf));
    }
    printf("sum %d\n", sum);
    return sum & 0xff;
}
