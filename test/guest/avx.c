// Uses AVX2 and AVX registers directly (compiled with -mavx2), as programs built for newer CPUs do.
#include <immintrin.h>
#include <stdio.h>

int main(void) {
  __m256i a = _mm256_set1_epi32(20), b = _mm256_set1_epi32(22);
  volatile __m256i c = _mm256_add_epi32(a, b);
  int out[8];
  _mm256_storeu_si256((__m256i *)out, c);
  __m256d x = _mm256_set1_pd(1.5);
  volatile __m256d y = _mm256_mul_pd(x, x);
  double d[4];
  _mm256_storeu_pd(d, y);
  printf("%d %d %.2f\n", out[0], out[7], d[3]);
  return 0;
}
