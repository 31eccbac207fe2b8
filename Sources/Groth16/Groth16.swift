import BN254
