/* Struct copies (gcc emits word copies or memcpy), arrays of structs, passing and returning by value. */
#include <stdint.h>
#include <stdio.h>

struct rec {
    char tag;
    int16_t h;
    int32_t w;
    uint8_t bytes[7];
    int64_t big;
};

static struct rec make(int i)
{
    struct rec r = {(char)('A' + i), (int16_t)(-300 * i), 100000 * i - 7, {0}, -(int64_t)i << 35};
    for (int j = 0; j < 7; j++)
        r.bytes[j] = (uint8_t)(i * 16 + j);
    return r;
}

static int64_t weigh(struct rec r) { return r.tag + r.h + r.w + r.bytes[6] + r.big; }

int main(void)
{
    struct rec table[5], copy[5];
    for (int i = 0; i < 5; i++)
        table[i] = make(i);
    for (int i = 0; i < 5; i++)
        copy[4 - i] = table[i];
    struct rec big = copy[1];
    big.bytes[3] = 0xFF;
    for (int i = 0; i < 5; i++)
        printf("%c %d %ld %u %lld %lld\n", copy[i].tag, copy[i].h, (long)copy[i].w, copy[i].bytes[3],
               (long long)copy[i].big, (long long)weigh(copy[i]));
    printf("edited %u original %u size %u\n", big.bytes[3], copy[1].bytes[3], (unsigned)sizeof(struct rec));
    return 0;
}
