import BN254
import Groth16Prover

/// Placeholder until the circuits issue: the R1CS builder and gadgets land here.
public enum CircuitsModule {
    public static let version = 0
}
