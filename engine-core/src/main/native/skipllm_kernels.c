/*
 * skipllm's native weight kernels: out[n, rows] (+)= x[n, cols] W^T for one row range of one weight part,
 * called through JNI by io.skipllm.weights.NativeKernels (which splits rows over threads, as it does for
 * the Java kernels). x86-64 with AVX-512 (F, BW, VL, DQ, VNNI): the functions that use it are compiled
 * for it alone (target attributes) and only called after skipllm_supported() said the CPU has it, so the
 * library loads, and declines, on any x86-64 CPU.
 *
 * Float formats (F32, BF16, F16): weights widened to float32 in registers, float32 fused multiply-adds.
 * Quantized formats (Q8_0, Q4_0): the inputs are quantized to int8 once per product (llama.cpp's Q8_0,
 * a scale per 32 values), and each pair (Q8_0) or two halves of four (Q4_0) of 32-weight blocks is one VNNI dot product (vpdpbusd: unsigned
 * bytes times signed bytes, summed in int32 lanes). vpdpbusd wants its first operand unsigned: Q4_0's
 * nibbles are (w + 8), Q8_0's bytes are flipped to (w + 128); the offset times the block's input sum
 * is subtracted by starting the int32 lanes at -offset * sum (precomputed per input block).
 *
 * Every output is one accumulator over the columns in one fixed order, whatever tile it is computed in:
 * results do not depend on how many inputs share a call nor on how rows are split over threads.
 */
#include <jni.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/* The order of io.skipllm.weights.WeightFormat. */
enum { FMT_F32 = 0, FMT_BF16 = 1, FMT_F16 = 2, FMT_Q8_0 = 3, FMT_Q4_0 = 4 };

/* Inputs per register tile (at most 4), per format. */
#ifndef Q4_INPUTS
#define Q4_INPUTS 4
#endif
#ifndef Q8_INPUTS
#define Q8_INPUTS 4
#endif
#ifndef FLOAT_INPUTS
#define FLOAT_INPUTS 4
#endif

/* Rows of weights per tile: the tile is re-read from L2 for every group of four inputs. */
#define TILE_BYTES (96 * 1024)

/* ---- quantized inputs ----
 * For Q8_0 weights, one input row: pairs = ceil(blocks / 2) block pairs, laid out as three arrays of 16 lanes per pair so
 * that each is one 512-bit load: q (64 int8: block 2p then 2p+1), bias (16 int32: lane 0 of each
 * block's eight is -offset * sum(q), the rest 0), d (16 floats: each block's scale eight times).
 * Bytes per row: pairs * (64 + 64 + 64). For Q4_0 weights, see tile_q4. */
static inline int64_t qrow_bytes(int format, int cols) {
    int64_t blocks = (cols + 31) / 32;
    return format == FMT_Q4_0 ? ((blocks + 3) / 4) * 256 : ((blocks + 1) / 2) * 192;
}

/*
 * Software prefetch of the next rows while these are read: a step of a tile reads R rows at once, each
 * only a few hundred bytes long in the quantized formats, streams too short for the hardware prefetcher
 * to ramp up on (measured: Q8_0 at 14 GB/s from memory without this, 40 GB/s from cache). Each step
 * prefetches its share of the next R rows (which follow these in memory), so they arrive one tile ahead.
 */
INLINE void prefetch_ahead(const uint8_t *w, int64_t rowBytes, int R, int step, int steps) {
    int64_t stride = (rowBytes + steps - 1) / steps;
    const uint8_t *next = w + R * rowBytes + step * stride;
    for (int r = 0; r < R; r++) {
        _mm_prefetch((const char *) (next + r * rowBytes), _MM_HINT_T0);
        _mm_prefetch((const char *) (next + r * rowBytes + stride - 1), _MM_HINT_T0);
    }
}

/* ---------------------------------------------------------------- float formats */

#define LOAD_F32(p, k, m) _mm512_maskz_loadu_ps((m), (const float *) (p) + (k))
#define LOAD_BF16(p, k, m) _mm512_castsi512_ps(_mm512_slli_epi32( \
        _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16((m), (const uint16_t *) (p) + (k))), 16))
#define LOAD_F16(p, k, m) _mm512_cvtph_ps(_mm256_maskz_loadu_epi16((m), (const uint16_t *) (p) + (k)))

/*
 * R weight rows (at w, rowBytes apart) times C inputs (x, cols floats apart), R in {1, 4}, C in 1..4: the
 * C x R outputs into sums. The sixteen accumulators are named variables, not an array: GCC kept an array
 * of them in memory (a store per fused multiply-add, a third of the speed).
 */
#define FMA_ROW(r, W)                                                                                       \
    a##r##0 = _mm512_fmadd_ps(W, x0, a##r##0);                                                              \
    if (C > 1) a##r##1 = _mm512_fmadd_ps(W, x1, a##r##1);                                                   \
    if (C > 2) a##r##2 = _mm512_fmadd_ps(W, x2, a##r##2);                                                   \
    if (C > 3) a##r##3 = _mm512_fmadd_ps(W, x3, a##r##3);
#define SUM_ROW(r)                                                                                          \
    sums[r][0] = _mm512_reduce_add_ps(a##r##0);                                                             \
    if (C > 1) sums[r][1] = _mm512_reduce_add_ps(a##r##1);                                                  \
    if (C > 2) sums[r][2] = _mm512_reduce_add_ps(a##r##2);                                                  \
    if (C > 3) sums[r][3] = _mm512_reduce_add_ps(a##r##3);
#define FLOAT_TILE(NAME, LOAD)                                                                              \
AVX512 INLINE void NAME(const uint8_t *w, int64_t rowBytes, const float *x, int cols, int R, int C,         \
                        float sums[4][4]) {                                                                 \
    __m512 z = _mm512_setzero_ps();                                                                         \
    __m512 a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;                          \
    __m512 a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;                          \
    const float *xr0 = x, *xr1 = x + cols, *xr2 = x + 2 * (int64_t) cols, *xr3 = x + 3 * (int64_t) cols;   \
    int steps = (cols + 15) / 16;                                                                           \
    for (int k = 0; k < cols; k += 16) {                                                                    \
        prefetch_ahead(w, rowBytes, R, k / 16, steps);                                                      \
        __mmask16 m = cols - k >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (cols - k)) - 1);           \
        __m512 x0 = _mm512_maskz_loadu_ps(m, xr0 + k), x1 = z, x2 = z, x3 = z;                              \
        if (C > 1) x1 = _mm512_maskz_loadu_ps(m, xr1 + k);                                                  \
        if (C > 2) x2 = _mm512_maskz_loadu_ps(m, xr2 + k);                                                  \
        if (C > 3) x3 = _mm512_maskz_loadu_ps(m, xr3 + k);                                                  \
        __m512 w0 = LOAD(w, k, m);                                                                          \
        FMA_ROW(0, w0)                                                                                      \
        if (R > 1) {                                                                                        \
            __m512 w1 = LOAD(w + rowBytes, k, m);                                                           \
            FMA_ROW(1, w1)                                                                                  \
            __m512 w2 = LOAD(w + 2 * rowBytes, k, m);                                                       \
            FMA_ROW(2, w2)                                                                                  \
            __m512 w3 = LOAD(w + 3 * rowBytes, k, m);                                                       \
            FMA_ROW(3, w3)                                                                                  \
        }                                                                                                   \
    }                                                                                                       \
    SUM_ROW(0)                                                                                              \
    if (R > 1) { SUM_ROW(1) SUM_ROW(2) SUM_ROW(3) }                                                         \
}

FLOAT_TILE(tile_f32, LOAD_F32)
FLOAT_TILE(tile_bf16, LOAD_BF16)
FLOAT_TILE(tile_f16, LOAD_F16)

/* ---------------------------------------------------------------- quantized formats */

/* Block pair p of a Q8_0 row (36-byte blocks: float scale, 32 int8), bytes flipped to unsigned. */
AVX512 INLINE void load_q8(const uint8_t *row, int p, int blocks, __m512i *q, __m512 *d) {
    const uint8_t *b0 = row + (int64_t) (2 * p) * 36;
    __m256i lo = _mm256_loadu_si256((const __m256i *) (b0 + 4));
    float d0, d1 = 0;
    memcpy(&d0, b0, 4);
    __m256i hi = _mm256_setzero_si256();
    if (2 * p + 1 < blocks) {
        hi = _mm256_loadu_si256((const __m256i *) (b0 + 36 + 4));
        memcpy(&d1, b0 + 36, 4);
    }
    __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    *q = _mm512_xor_si512(v, _mm512_set1_epi8((char) 0x80));
    *d = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(d0)), _mm256_set1_ps(d1), 1);
}

/* Named accumulators again (see FLOAT_TILE): one (row, input) product of a quantized step. */
#define Q8_DOT(r, c, A) {                                                                                   \
        __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(ab##c, wq##r, aq##c));                          \
        A = _mm512_fmadd_ps(_mm512_mul_ps(dot, ad##c), wd##r, A); }
#define Q8_ROW(r)                                                                                           \
    Q8_DOT(r, 0, a##r##0) if (C > 1) Q8_DOT(r, 1, a##r##1) if (C > 2) Q8_DOT(r, 2, a##r##2)                 \
    if (C > 3) Q8_DOT(r, 3, a##r##3)
#define Q8_INPUT(c)                                                                                         \
    const uint8_t *in##c = xq + c * qBytes + (int64_t) p * 192;                                             \
    __m512i aq##c = _mm512_loadu_si512(in##c), ab##c = _mm512_loadu_si512(in##c + 64);                     \
    __m512 ad##c = _mm512_loadu_ps((const float *) (in##c + 128));
#define ZERO_ACCUMULATORS                                                                                   \
    __m512 z = _mm512_setzero_ps();                                                                         \
    __m512 a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;                          \
    __m512 a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;

AVX512 INLINE void tile_q8(const uint8_t *w, int64_t rowBytes, const uint8_t *xq, int64_t qBytes, int blocks,
                           int R, int C, float sums[4][4]) {
    int pairs = (blocks + 1) / 2;
    ZERO_ACCUMULATORS
    for (int p = 0; p < pairs; p++) {
        prefetch_ahead(w, rowBytes, R, p, pairs);
        __m512i wq0, wq1, wq2, wq3;
        __m512 wd0, wd1, wd2, wd3;
        load_q8(w, p, blocks, &wq0, &wd0);
        if (R > 1) {
            load_q8(w + rowBytes, p, blocks, &wq1, &wd1);
            load_q8(w + 2 * rowBytes, p, blocks, &wq2, &wd2);
            load_q8(w + 3 * rowBytes, p, blocks, &wq3, &wd3);
        }
        Q8_INPUT(0)
        __m512i aq1 = aq0, ab1 = ab0, aq2 = aq0, ab2 = ab0, aq3 = aq0, ab3 = ab0;
        __m512 ad1 = ad0, ad2 = ad0, ad3 = ad0;
        if (C > 1) { const uint8_t *in1 = xq + qBytes + (int64_t) p * 192;
            aq1 = _mm512_loadu_si512(in1); ab1 = _mm512_loadu_si512(in1 + 64); ad1 = _mm512_loadu_ps((const float *) (in1 + 128)); }
        if (C > 2) { const uint8_t *in2 = xq + 2 * qBytes + (int64_t) p * 192;
            aq2 = _mm512_loadu_si512(in2); ab2 = _mm512_loadu_si512(in2 + 64); ad2 = _mm512_loadu_ps((const float *) (in2 + 128)); }
        if (C > 3) { const uint8_t *in3 = xq + 3 * qBytes + (int64_t) p * 192;
            aq3 = _mm512_loadu_si512(in3); ab3 = _mm512_loadu_si512(in3 + 64); ad3 = _mm512_loadu_ps((const float *) (in3 + 128)); }
        Q8_ROW(0)
        if (R > 1) { Q8_ROW(1) Q8_ROW(2) Q8_ROW(3) }
    }
    SUM_ROW(0)
    if (R > 1) { SUM_ROW(1) SUM_ROW(2) SUM_ROW(3) }
}


/*
 * Q4_0 rows (the engine's row layout: the row's F16 scales first, then its 16-byte nibble blocks), four
 * blocks a step: one 64-byte load holds four blocks' nibbles, whose low halves are weights 0..15 and high
 * halves 16..31 of each; the inputs are laid out to match (per group of four blocks: 64 bytes of the
 * blocks' first halves, 64 of their second halves, 16 int32 biases, 16 floats of scales, 256 bytes), so
 * that each 128-bit lane of a dot product holds one block and its scale is one lane of a vector.
 */
/* Four blocks of one Q4_0 row: nibbles (low and high halves) and the scales spread over each block's lanes. */
AVX512 INLINE void load_q4(const uint8_t *row, int blocks, int g, __m512i *lo, __m512i *hi, __m512 *d) {
    const __m512i idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    const __m512i low = _mm512_set1_epi8(0x0F);
    int inGroup = blocks - 4 * g < 4 ? blocks - 4 * g : 4;
    __mmask64 bytes = inGroup == 4 ? ~(__mmask64) 0 : (((__mmask64) 1 << (16 * inGroup)) - 1);
    __m512i q = _mm512_maskz_loadu_epi8(bytes, row + 2 * blocks + 64 * g);
    *lo = _mm512_and_si512(q, low);
    *hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), low);
    __m128 s = _mm_cvtph_ps(_mm_maskz_loadu_epi16((__mmask8) ((1u << inGroup) - 1), row + 8 * g));
    *d = _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(s));
}

#define Q4_DOT(r, c, A) {                                                                                   \
        __m512i dp = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(ab##c, lo##r, xl##c), hi##r, xh##c);           \
        A = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(dp), ad##c), wd##r, A); }
#define Q4_ROW(r)                                                                                           \
    Q4_DOT(r, 0, a##r##0) if (C > 1) Q4_DOT(r, 1, a##r##1) if (C > 2) Q4_DOT(r, 2, a##r##2)                 \
    if (C > 3) Q4_DOT(r, 3, a##r##3)
#define Q4_INPUT(c)                                                                                         \
    if (C > c) { const uint8_t *in = xq + c * qBytes + (int64_t) g * 256;                                   \
        xl##c = _mm512_loadu_si512(in); xh##c = _mm512_loadu_si512(in + 64);                                \
        ab##c = _mm512_loadu_si512(in + 128); ad##c = _mm512_loadu_ps((const float *) (in + 192)); }

/*
 * Q4_0 rows (the engine's row layout: the row's F16 scales first, then its 16-byte nibble blocks), four
 * blocks a step: one 64-byte load holds four blocks' nibbles, whose low halves are weights 0..15 and high
 * halves 16..31 of each; the inputs are laid out to match (per group of four blocks: 64 bytes of the
 * blocks' first halves, 64 of their second halves, 16 int32 biases, 16 floats of scales, 256 bytes), so
 * that each 128-bit lane of a dot product holds one block and its scale is one lane of a vector.
 */
AVX512 INLINE void tile_q4(const uint8_t *w, int64_t rowBytes, const uint8_t *xq, int64_t qBytes, int blocks,
                           int R, int C, float sums[4][4]) {
    int groups = (blocks + 3) / 4;
    ZERO_ACCUMULATORS
    for (int g = 0; g < groups; g++) {
        prefetch_ahead(w, rowBytes, R, g, groups);
        __m512i lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3;
        __m512 wd0, wd1, wd2, wd3;
        load_q4(w, blocks, g, &lo0, &hi0, &wd0);
        if (R > 1) {
            load_q4(w + rowBytes, blocks, g, &lo1, &hi1, &wd1);
            load_q4(w + 2 * rowBytes, blocks, g, &lo2, &hi2, &wd2);
            load_q4(w + 3 * rowBytes, blocks, g, &lo3, &hi3, &wd3);
        }
        __m512i xl0 = _mm512_setzero_si512(), xh0 = xl0, ab0 = xl0, xl1 = xl0, xh1 = xl0, ab1 = xl0;
        __m512i xl2 = xl0, xh2 = xl0, ab2 = xl0, xl3 = xl0, xh3 = xl0, ab3 = xl0;
        __m512 ad0 = z, ad1 = z, ad2 = z, ad3 = z;
        Q4_INPUT(0) Q4_INPUT(1) Q4_INPUT(2) Q4_INPUT(3)
        Q4_ROW(0)
        if (R > 1) { Q4_ROW(1) Q4_ROW(2) Q4_ROW(3) }
    }
    SUM_ROW(0)
    if (R > 1) { SUM_ROW(1) SUM_ROW(2) SUM_ROW(3) }
}

/* ---------------------------------------------------------------- the product over a row range */

INLINE void store(float *out, int64_t outStride, int outRow, int i0, int r0, int R, int C, float sums[4][4],
                  int accumulate) {
    for (int c = 0; c < C; c++)
        for (int r = 0; r < R; r++) {
            float *o = out + (int64_t) (i0 + c) * outStride + outRow + r0 + r;
            *o = accumulate ? *o + sums[r][c] : sums[r][c];
        }
}

/* One R x C tile of any format (R, C constants after inlining into the switch below). */
AVX512 INLINE void tile(int format, const uint8_t *w, int64_t rowBytes, const float *x, const uint8_t *xq,
                        int cols, int R, int C, float sums[4][4]) {
    int blocks = (cols + 31) / 32;
    int64_t qBytes = qrow_bytes(format, cols);
    switch (format) {
        case FMT_F32: tile_f32(w, rowBytes, x, cols, R, C, sums); break;
        case FMT_BF16: tile_bf16(w, rowBytes, x, cols, R, C, sums); break;
        case FMT_F16: tile_f16(w, rowBytes, x, cols, R, C, sums); break;
        case FMT_Q8_0: tile_q8(w, rowBytes, xq, qBytes, blocks, R, C, sums); break;
        default: tile_q4(w, rowBytes, xq, qBytes, blocks, R, C, sums); break;
    }
}

/* Dispatches to a tile specialised for its shape (the accumulators stay in registers). */
#define SHAPE(RR, CC) if (R == RR && C == CC) { tile(format, w, rowBytes, x, xq, cols, RR, CC, sums); return; }
AVX512 static void tile_any(int format, const uint8_t *w, int64_t rowBytes, const float *x, const uint8_t *xq,
                            int cols, int R, int C, float sums[4][4]) {
    SHAPE(4, 4) SHAPE(4, 1) SHAPE(4, 2) SHAPE(4, 3)
    SHAPE(1, 4) SHAPE(1, 1) SHAPE(1, 2) SHAPE(1, 3)
}

static int64_t row_bytes(int format, int cols) {
    switch (format) {
        case FMT_F32: return 4LL * cols;
        case FMT_BF16: case FMT_F16: return 2LL * cols;
        case FMT_Q8_0: return 36LL * ((cols + 31) / 32);
        default: return 18LL * ((cols + 31) / 32);
    }
}

AVX512 static void multiply(int format, const uint8_t *weights, int count, int cols, const float *x,
                            const uint8_t *xq, int n, float *out, int outStride, int outRow, int accumulate) {
    int64_t rowBytes = row_bytes(format, cols);
    int64_t inBytes = format >= FMT_Q8_0 ? qrow_bytes(format, cols) : 4LL * cols;
    int maxC = format == FMT_Q4_0 ? Q4_INPUTS : format == FMT_Q8_0 ? Q8_INPUTS : FLOAT_INPUTS;
    int tileRows = (int) (TILE_BYTES / rowBytes);
    tileRows = tileRows < 4 ? 4 : tileRows & ~3;
    float sums[4][4];
    for (int t = 0; t < count; t += tileRows) {
        int tileEnd = t + tileRows < count ? t + tileRows : count;
        for (int i = 0; i < n; i += maxC) {
            int C = n - i < maxC ? n - i : maxC;
            const float *xi = x + (int64_t) i * cols;
            const uint8_t *qi = xq == NULL ? NULL : xq + i * inBytes;
            for (int r = t; r < tileEnd; r += 4) {
                int R = tileEnd - r >= 4 ? 4 : 1;
                if (R == 1) {
                    for (; r < tileEnd; r++) {
                        tile_any(format, weights + r * rowBytes, rowBytes, xi, qi, cols, 1, C, sums);
                        store(out, outStride, outRow, i, r, 1, C, sums, accumulate);
                    }
                    break;
                }
                tile_any(format, weights + r * rowBytes, rowBytes, xi, qi, cols, 4, C, sums);
                store(out, outStride, outRow, i, r, 4, C, sums, accumulate);
            }
        }
    }
}

/* Quantizes n rows of cols floats into the layout the weights' format wants (Q8_0 or Q4_0, see above). */
AVX512 static void quantize(const float *x, int n, int cols, uint8_t *dst, int format) {
    int blocks = (cols + 31) / 32;
    int64_t qBytes = qrow_bytes(format, cols);
    int offset = format == FMT_Q8_0 ? 128 : 8;
    for (int i = 0; i < n; i++) {
        uint8_t *row = dst + i * qBytes;
        memset(row, 0, qBytes);
        for (int b = 0; b < blocks; b++) {
            const float *v = x + (int64_t) i * cols + b * 32;
            int len = cols - b * 32 < 32 ? cols - b * 32 : 32;
            __mmask16 m0 = len >= 16 ? 0xFFFF : (__mmask16) ((1u << len) - 1);
            __mmask16 m1 = len >= 32 ? 0xFFFF : len <= 16 ? 0 : (__mmask16) ((1u << (len - 16)) - 1);
            __m512 a = _mm512_maskz_loadu_ps(m0, v);
            __m512 c = _mm512_maskz_loadu_ps(m1, v + 16);
            float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(c)));
            float d = amax / 127.0f;
            float id = d == 0.0f ? 0.0f : 1.0f / d;
            __m512 s = _mm512_set1_ps(id);
            __m512i qa = _mm512_cvt_roundps_epi32(_mm512_mul_ps(a, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            __m512i qc = _mm512_cvt_roundps_epi32(_mm512_mul_ps(c, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            int32_t bias = -offset * _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qc));
            uint8_t *first, *second, *biasAt;
            float *scales;
            int lanes;
            if (format == FMT_Q8_0) {
                uint8_t *pair = row + (int64_t) (b / 2) * 192;
                int half = b % 2;
                first = pair + half * 32;
                second = first + 16;
                biasAt = pair + 64 + half * 32;
                scales = (float *) (pair + 128 + half * 32);
                lanes = 8;
            } else {
                uint8_t *group = row + (int64_t) (b / 4) * 256;
                int k = b % 4;
                first = group + k * 16;
                second = group + 64 + k * 16;
                biasAt = group + 128 + k * 16;
                scales = (float *) (group + 192 + k * 16);
                lanes = 4;
            }
            _mm_storeu_si128((__m128i *) first, _mm512_cvtsepi32_epi8(qa));
            _mm_storeu_si128((__m128i *) second, _mm512_cvtsepi32_epi8(qc));
            memcpy(biasAt, &bias, 4);
            for (int l = 0; l < lanes; l++) scales[l] = d;
        }
    }
}

/* ---------------------------------------------------------------- JNI */

JNIEXPORT jboolean JNICALL Java_io_skipllm_weights_NativeKernels_supported(JNIEnv *env, jclass cls) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma")
            && __builtin_cpu_supports("f16c");
}

JNIEXPORT jlong JNICALL Java_io_skipllm_weights_NativeKernels_quantizedRowBytes(JNIEnv *env, jclass cls,
        jint format, jint cols) {
    return qrow_bytes(format, cols);
}

JNIEXPORT void JNICALL Java_io_skipllm_weights_NativeKernels_quantize(JNIEnv *env, jclass cls, jfloatArray x,
        jint n, jint cols, jobject dst, jint format) {
    uint8_t *d = (*env)->GetDirectBufferAddress(env, dst);
    float *xs = (*env)->GetPrimitiveArrayCritical(env, x, NULL);
    if (xs == NULL || d == NULL) {
        if (xs != NULL) (*env)->ReleasePrimitiveArrayCritical(env, x, xs, JNI_ABORT);
        return;
    }
    quantize(xs, n, cols, d, format);
    (*env)->ReleasePrimitiveArrayCritical(env, x, xs, JNI_ABORT);
}

JNIEXPORT void JNICALL Java_io_skipllm_weights_NativeKernels_multiply(JNIEnv *env, jclass cls, jint format,
        jobject weights, jlong byteOffset, jint count, jint cols, jfloatArray x, jobject quantized, jint n,
        jfloatArray out, jint outStride, jint outRow, jboolean accumulate) {
    const uint8_t *w = (*env)->GetDirectBufferAddress(env, weights);
    const uint8_t *xq = quantized == NULL ? NULL : (*env)->GetDirectBufferAddress(env, quantized);
    if (w == NULL) return;
    float *xs = (*env)->GetPrimitiveArrayCritical(env, x, NULL);
    if (xs == NULL) return;
    float *os = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
    if (os == NULL) {
        (*env)->ReleasePrimitiveArrayCritical(env, x, xs, JNI_ABORT);
        return;
    }
    multiply(format, w + byteOffset, count, cols, xs, xq, n, os, outStride, outRow, accumulate);
    (*env)->ReleasePrimitiveArrayCritical(env, out, os, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, x, xs, JNI_ABORT);
}
