#ifndef ZKSETTLE_CGMP_SHIM_H
#define ZKSETTLE_CGMP_SHIM_H
// GMP's public names (mpn_mul_n, mpz_init, ...) are macros that expand to __gmpn_* / __gmpz_*.
// Swift cannot see function-like aliases, so Swift code calls the __gmpn_* / __gmpz_* symbols
// that gmp.h declares. The arithmetic is written in Swift.
#include <gmp.h>

// Montgomery reduction of a 2n-limb value by GMP's own redc_1 (the routine mpz_powm uses):
// rp = up / B^n mod mp, up clobbered, returns the carry out of the top limb; invm = -1/mp[0] mod B.
// libgmp exports it (every build since GMP 5, fat builds dispatching to the CPU's assembly
// version) but gmp.h declares it only in gmp-impl.h, so the prototype is repeated here,
// exactly as gmp-impl.h writes it.
mp_limb_t __gmpn_redc_1(mp_ptr rp, mp_ptr up, mp_srcptr mp, mp_size_t n, mp_limb_t invm);
#endif
