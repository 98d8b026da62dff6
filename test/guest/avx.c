// Uses AVX2 and AVX registers directly, as programs built for newer CPUs do (the target attribute
// keeps the rest of the file, and the build, generic). Run only where the host has AVX2.
#include <immintrin.h>
#include <stdio.h>

__attribute__((target("avx2"))) static void compute(int *out, double *d) {
  __m256i a = _mm256_set1_epi32(20), b = _mm256_set1_epi32(22);
  _mm256_storeu_si256((__m256i *)out, _mm256_add_epi32(a, b));
  __m256d x = _mm256_set1_pd(1.5);
  _mm256_storeu_pd(d, _mm256_mul_pd(x, x));
}

int main(void) {
  int out[8];
  double d[4];
  compute(out, d);
  printf("%d %d %.2f\n", out[0], out[7], d[3]);
  return 0;
}
