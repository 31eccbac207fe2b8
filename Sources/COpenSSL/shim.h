#ifndef ZKSETTLE_COPENSSL_SHIM_H
#define ZKSETTLE_COPENSSL_SHIM_H
// libcrypto only: randomness, SHA-256, X25519, HKDF, ChaCha20-Poly1305, Ed25519.
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/kdf.h>
#include <openssl/err.h>
#endif
