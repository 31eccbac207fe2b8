import Circuits
import Foundation
import Groth16
import Groth16Prover
import Protocol

/// The development setup of first start: a Groth16 key pair for the transfer circuit from fresh
/// toxic waste that is discarded at once. Whoever runs it could have kept the waste and forged
/// any proof, so it is for development only; real keys come from a ceremony.
///
/// It sits in its own target so that only the executables (`zksettle-server` on first start,
/// `zksettle-bench`, tests) link the prover and the circuits: no library the server is built from
/// reaches them (CI checks the graph).
public enum DevelopmentKeys {
    public struct Made: Sendable {
        /// The proving key file (`transfer.zkspk`).
        public var provingKey: [UInt8]
        public var verifyingKey: VerifyingKey
        public var circuitID: String
    }

    /// The transfer circuit's constraint count, for logs.
    public static var constraintCount: Int { TransferCircuit.constraintCount }

    /// Runs the setup; `progress(stage, fraction)` reports as it goes (about 3 s on two cores).
    public static func make(progress: ((String, Double) -> Void)? = nil) throws -> Made {
        // The build's circuit must be the one the statement names (a circuits test holds this too).
        precondition(TransferCircuit.circuitID == TransferStatement.circuitID,
                     "this build's transfer circuit is \(TransferCircuit.circuitID), TransferStatement.circuitID says \(TransferStatement.circuitID)")
        let (pk, vk) = try DevelopmentSetup.generate(r1cs: TransferCircuit.r1cs, circuitID: TransferStatement.circuitID) { stage, fraction in
            progress?("\(stage)", fraction)
        }
        return Made(provingKey: pk.serialized(), verifyingKey: vk, circuitID: TransferStatement.circuitID)
    }
}
