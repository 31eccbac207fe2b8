#ifndef ZKSETTLE_CGMP_SHIM_H
#define ZKSETTLE_CGMP_SHIM_H
// GMP's public names (mpn_mul_n, mpz_init, ...) are macros that expand to __gmpn_* / __gmpz_*.
// Swift cannot see function-like aliases, so Swift code calls the __gmpn_* / __gmpz_* symbols
// that gmp.h declares. Nothing else lives here: the arithmetic is written in Swift.
#include <gmp.h>
#endif
