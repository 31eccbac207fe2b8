import ArgumentParser

/// `zksettle-admin ceremony`: production keys from a multi-party ceremony, in snarkjs's file
/// formats. Phase 1 (`powers`) is circuit-independent; phase 2 is for the transfer circuit.
struct CeremonyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceremony",
        abstract: "Run or verify a Groth16 key ceremony (snarkjs .ptau and .zkey files).",
        discussion: """
            Phase 1 (`powers …`) makes a Powers-of-Tau file any circuit can use; phase 2 (`new`, \
            `contribute`, `beacon`, `verify`, `finalize`) makes the transfer circuit's keys from it. \
            The keys are safe if one participant of each phase was honest and forgot their secret. \
            README, "Production keys", walks through it.

            EXAMPLES
              zksettle-admin ceremony powers new --power 15 --out pot15_0000.ptau
              zksettle-admin ceremony new --ptau pot15_final.ptau --out transfer_0000.zkey
              zksettle-admin ceremony finalize transfer_final.zkey --ptau pot15_final.ptau --data zksettle-data
            """,
        subcommands: [PowersCommand.self, CeremonyNew.self, CeremonyContribute.self, CeremonyBeacon.self, CeremonyVerify.self,
                      CeremonyFinalize.self])
}
