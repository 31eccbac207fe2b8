import BN254

/// Placeholder module for the circuits issue: the R1CS builder and gadgets land there.
public enum CircuitsModule {
    public static let version = 0
}
