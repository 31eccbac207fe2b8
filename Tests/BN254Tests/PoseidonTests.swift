import BN254
import Testing
import TestSupport

/// circomlib Poseidon: known answers from `Tests/Vectors/poseidon.json` (circomlib's
/// `poseidon.circom` transcribed, cross-checked with circomlibpy, light-poseidon and circom
/// proofs), the constants against the published circomlibjs table, the stack-buffer permutation
/// against a plain array transcription, and the properties the protocol relies on.
@Suite struct PoseidonTests {
    let doc = try! SharedVectors.json("poseidon.json") as! [String: Any]

    private func element(_ s: Any) -> Fr { try! Fr(decimal: s as! String) }

    /// `(arity, inputs, output, label)` of every entry of `vectors`.
    private var vectors: [(arity: Int, inputs: [Fr], output: Fr, label: String)] {
        (doc["vectors"] as! [[String: Any]]).map { v in
            (v["arity"] as! Int, (v["inputs"] as! [Any]).map(element), element(v["output"]!), v["label"] as! String)
        }
    }

    // MARK: Known answers

    @Test func everySharedVectorMatches() {
        let all = vectors
        #expect(all.count == 42)
        for arity in 1...6 { #expect(all.filter { $0.arity == arity }.count == 7) }
        for v in all {
            #expect(v.inputs.count == v.arity)
            #expect(Poseidon.hash(v.inputs) == v.output, "arity \(v.arity), \(v.label)")
            #expect(Poseidon.hash(v.inputs, parameters: .forArity(v.arity)) == v.output)
        }
    }

    @Test func convenienceOverloadsMatchTheVectors() {
        for v in vectors {
            switch v.arity {
            case 1: #expect(Poseidon.hash(v.inputs[0]) == v.output, "\(v.label)")
            case 2: #expect(Poseidon.hash(v.inputs[0], v.inputs[1]) == v.output, "\(v.label)")
            case 3: #expect(Poseidon.hash(v.inputs[0], v.inputs[1], v.inputs[2]) == v.output, "\(v.label)")
            default: break
            }
        }
    }

    @Test func publishedCircomlibjsVectors() {
        let known = doc["known_vectors"] as! [[String: Any]]
        #expect(known.count == 2)
        for k in known {
            let inputs = (k["inputs"] as! [Any]).map(element)
            let source = k["source"] as! String
            #expect(Poseidon.hash(inputs) == element(k["output"]!), "\(source)")
        }
    }

    @Test func permutationOfAFullStateMatchesTheHash() {
        for v in vectors {
            var state = [Fr.zero] + v.inputs
            Poseidon.permute(&state, parameters: .forArity(v.arity))
            #expect(state[0] == v.output, "\(v.label)")
        }
    }

    // MARK: Constants

    @Test func parameterShapesAndCounts() {
        let params = doc["parameters"] as! [String: Any]
        #expect(params["full_rounds"] as! Int == 8)
        let partial = params["partial_rounds_by_t"] as! [String: Any]
        var total = 0
        for n in 1...6 {
            let p = PoseidonParameters.forArity(n)
            #expect(p.t == n + 1 && p.arity == n)
            #expect(p.fullRounds == 8)
            #expect(p.partialRounds == partial[String(n + 1)] as! Int)
            #expect(p.roundConstants.count == p.t * (p.fullRounds + p.partialRounds))
            #expect(p.mds.count == p.t && p.mds.allSatisfy { $0.count == p.t })
            total += p.roundConstants.count
        }
        // 2·64 + 3·65 + 4·64 + 5·68 + 6·68 + 7·71
        #expect(total == 1824)
    }

    /// First and last round constant and two MDS entries per arity, from circomlibjs
    /// `src/poseidon_constants.js` (iden3/circomlibjs 48b3ab37013c5ed21e9ff8a80a5b010795c97094,
    /// the unoptimized C and M of `poseidon_reference.js`). `M[t-1][0]` catches a transposed
    /// matrix (the Cauchy matrix is not symmetric). The whole tables were compared offline; the
    /// reference vectors (Tests/Vectors) check every constant end to end.
    @Test func constantsMatchThePublishedCircomlibjsTable() throws {
        let pinned: [(Int, String, String, String, String)] = [
            (1, "0x09c46e9ec68e9bd4fe1faaba294cba38a71aa177534cdd1b6c7dc0dbd0abd7a7", "0x269e4b5b7a2eb21afd567970a717ceec5bd4184571c254fdc06e03a7ff8378f0", "0x066f6f85d6f68a85ec10345351a23a3aaf07f38af8c952a7bceca70bd2af7ad5", "0x0cc57cdbb08507d62bf67a4493cc262fb6c09d557013fff1f573f431221f8ff9"),
            (2, "0x0ee9a592ba9a9518d05986d656f40c2114c4993c11bb29938d21d47304cd8e6e", "0x1da55cc900f0d21f4a3e694391918a1b3c23b2ac773c6b3ef88e2e4228325161", "0x109b7f411ba0e4c9b2b70caf5c36a7b194be7c11ad24378bfedb68592ba8118b", "0x143021ec686a3f330d5f9e654638065ce6cd79e28c5b3753326244ee65a1b1a7"),
            (3, "0x19b849f69450b06848da1d39bd5e4a4302bb86744edc26238b0878e269ed23e5", "0x163ec73251f85443687222487dda9a65467d90b22f0b38664686077c6a4486d5", "0x236d13393ef85cc48a351dd786dd7a1de5e39942296127fd87947223ae5108ad", "0x2f545e578202c9732488540e41f783b68ff0613fd79375f8ba8b3d30958e7677"),
            (4, "0x0eb544fee2815dda7f53e29ccac98ed7d889bb4ebd47c3864f3c2bd81a6da891", "0x29eb1de42a3ad381b23b4131426897a32709b29d53bb946dfd15784d1f63e572", "0x251e7fdf99591080080b0af133b9e4369f22e57ace3cd7f64fc6fdbcf38d7da1", "0x2a20e3a4a0e57d92f97c9d6186c6c3ea7c5e55c20146259be2f78c2ccc2e3595"),
            (5, "0x1448614598e00f98e7ae7dea45fbd83bd968653ef8390cde2e86b706ad40c651", "0x16d87a5183a316a1d70afc951efe2cd667c77328fcfda458cbf5fe3045f46d9e", "0x124666f80561ed5916f2f070b1bd248c6d53f44d273d956a0c87b917692a4d18", "0x24be510095436206dd0abd0b0cbb95c883ab304aa52598b1a69306ec981a688d"),
            (6, "0x2197703fceb4cbf07c6dbf46c4ad93e7d14e554db66d09102ff84824743fe4e7", "0x0e6dce1bbe6e9e465cbe14dcc615611867414676dd8a8ce9946649b1c4e81116", "0x2abd9e16b7b48289aa19cdfec726fa3fa15cc1625102ae511bca45f39d337e9d", "0x0548541724f64e20128260899abe8fbcdff184a1957a9385fb715923bf0fc79d"),
        ]
        for (n, first, last, m00, mLast0) in pinned {
            let p = PoseidonParameters.forArity(n)
            #expect(p.roundConstants.first == (try Fr(hex: first)), "arity \(n) first round constant")
            #expect(p.roundConstants.last == (try Fr(hex: last)), "arity \(n) last round constant")
            #expect(p.mds[0][0] == (try Fr(hex: m00)), "arity \(n) M[0][0]")
            #expect(p.mds[p.t - 1][0] == (try Fr(hex: mLast0)), "arity \(n) M[t-1][0]")
        }
    }

    /// The matrix is a Cauchy matrix 1/(x_i + y_j): every entry is nonzero and every 2 × 2
    /// minor is nonzero (a necessary condition for MDS that catches a corrupted entry).
    @Test func mdsMatricesHaveNonzeroEntriesAndMinors() {
        for n in 1...6 {
            let m = PoseidonParameters.forArity(n).mds
            let t = m.count
            for i in 0..<t { for j in 0..<t { #expect(!m[i][j].isZero) } }
            for i in 0..<t { for k in (i + 1)..<t {
                for j in 0..<t { for l in (j + 1)..<t {
                    #expect(!(m[i][j] * m[k][l] - m[i][l] * m[k][j]).isZero, "arity \(n) minor \(i)\(k),\(j)\(l)")
                } }
            } }
        }
    }

    // MARK: A wrong constant is caught

    /// Rebuilds the parameters with one constant changed by +1 and checks the vectors no longer
    /// match, so a corrupted table cannot pass silently (and the explicit-parameter path
    /// reproduces the vectors when nothing is changed).
    @Test func aPerturbedConstantNoLongerMatchesTheVectors() {
        for v in vectors where v.label == "sequential 1..n" {
            let p = PoseidonParameters.forArity(v.arity)
            let same = PoseidonParameters(t: p.t, fullRounds: p.fullRounds, partialRounds: p.partialRounds,
                                          roundConstants: p.roundConstants, mds: p.mds)
            #expect(Poseidon.hash(v.inputs, parameters: same) == v.output)

            let half = p.fullRounds / 2
            let positions = [
                0,                                   // first full round, capacity element
                p.t - 1,                             // first full round, last element
                (half + 1) * p.t,                    // a partial round, S-boxed element 0
                (half + 1) * p.t + 1,                // a partial round, linear element
                p.roundConstants.count - 1,          // last full round, last element
            ]
            for k in positions {
                var rc = p.roundConstants
                rc[k] = rc[k] + .one
                let wrong = PoseidonParameters(t: p.t, fullRounds: p.fullRounds, partialRounds: p.partialRounds,
                                               roundConstants: rc, mds: p.mds)
                #expect(Poseidon.hash(v.inputs, parameters: wrong) != v.output, "arity \(v.arity) constant \(k)")
            }
            var m = p.mds
            m[p.t - 1][0] = m[p.t - 1][0] + .one
            let wrongMDS = PoseidonParameters(t: p.t, fullRounds: p.fullRounds, partialRounds: p.partialRounds,
                                              roundConstants: p.roundConstants, mds: m)
            #expect(Poseidon.hash(v.inputs, parameters: wrongMDS) != v.output, "arity \(v.arity) MDS")
            let transposed = (0..<p.t).map { i in (0..<p.t).map { j in p.mds[j][i] } }
            let wrongOrientation = PoseidonParameters(t: p.t, fullRounds: p.fullRounds, partialRounds: p.partialRounds,
                                                      roundConstants: p.roundConstants, mds: transposed)
            #expect(Poseidon.hash(v.inputs, parameters: wrongOrientation) != v.output, "arity \(v.arity) transposed MDS")
        }
    }

    // MARK: Optimized versus reference

    /// The permutation written as plainly as the paper states it, on arrays.
    private func referencePermutation(_ input: [Fr], _ p: PoseidonParameters) -> [Fr] {
        var state = input
        for r in 0..<(p.fullRounds + p.partialRounds) {
            for i in 0..<p.t { state[i] = state[i] + p.roundConstants[r * p.t + i] }
            let full = r < p.fullRounds / 2 || r >= p.fullRounds / 2 + p.partialRounds
            for i in 0..<(full ? p.t : 1) { state[i] = state[i].pow([5]) }
            state = (0..<p.t).map { i in
                (0..<p.t).reduce(Fr.zero) { acc, j in acc + p.mds[i][j] * state[j] }
            }
        }
        return state
    }

    @Test func permutationMatchesThePlainTranscription() {
        var rng = SeededGenerator(label: "poseidon-reference")
        for n in 1...6 {
            let p = PoseidonParameters.forArity(n)
            for _ in 0..<8 {
                // Random full states, including a nonzero capacity element.
                let state = (0..<p.t).map { _ in rng.fr() }
                var fast = state
                Poseidon.permute(&fast, parameters: p)
                #expect(fast == referencePermutation(state, p), "arity \(n)")
            }
            let rMinus1 = Fr.zero - .one
            var edge = [Fr](repeating: rMinus1, count: p.t)
            let expected = referencePermutation(edge, p)
            Poseidon.permute(&edge, parameters: p)
            #expect(edge == expected, "arity \(n), all r-1")
        }
    }

    /// The MDS product sums each row double-width and reduces once. With t ≥ 6 and Montgomery
    /// representations near m the row sum passes m·2^256 and must be folded back before the
    /// reduction; checked against the plain transcription on such states, for every width.
    @Test func lazyMatrixProductHandlesNearMaximalLimbs() {
        var rng = SeededGenerator(label: "poseidon-lazy-mix")
        let m = FrParameters.modulus
        func nearMaximal(_ k: UInt) -> Fr { Fr(montgomery: Limbs.subWithBorrow(m, Limbs(1 + k, 0, 0, 0)).0) }
        for t in 2...PoseidonParameters.maxWidth {
            // One partial round, zero constants: only state[0] goes through the S-box, the other
            // t − 1 products of the matrix row stay close to m².
            let p = PoseidonParameters(
                t: t, fullRounds: 0, partialRounds: 1,
                roundConstants: [Fr](repeating: .zero, count: t),
                mds: (0..<t).map { i in (0..<t).map { j in nearMaximal(UInt(i * t + j)) } })
            for _ in 0..<64 {
                var state = (0..<t).map { _ in nearMaximal(UInt(rng.next() >> 32)) }
                let expected = referencePermutation(state, p)
                Poseidon.permute(&state, parameters: p)
                #expect(state == expected, "t = \(t)")
            }
        }
    }

    // MARK: Properties

    @Test func deterministic() {
        var rng = SeededGenerator(label: "poseidon-determinism")
        for n in 1...6 {
            let inputs = (0..<n).map { _ in rng.fr() }
            #expect(Poseidon.hash(inputs) == Poseidon.hash(inputs))
        }
        let a = rng.fr(), b = rng.fr(), c = rng.fr()
        #expect(Poseidon.hash(a) == Poseidon.hash([a]))
        #expect(Poseidon.hash(a, b) == Poseidon.hash([a, b]))
        #expect(Poseidon.hash(a, b, c) == Poseidon.hash([a, b, c]))
    }

    @Test func changingAnyInputChangesTheOutput() {
        var rng = SeededGenerator(label: "poseidon-sensitivity")
        for n in 1...6 {
            for _ in 0..<4 {
                let inputs = (0..<n).map { _ in rng.fr() }
                let h = Poseidon.hash(inputs)
                for i in 0..<n {
                    var changed = inputs
                    changed[i] = changed[i] + .one
                    #expect(Poseidon.hash(changed) != h, "arity \(n), input \(i) + 1")
                    changed[i] = rng.fr()
                    if changed[i] != inputs[i] { #expect(Poseidon.hash(changed) != h, "arity \(n), input \(i) random") }
                }
            }
        }
    }

    /// Appending zeros changes the width, hence the constants: H(a) ≠ H(a, 0) ≠ H(a, 0, 0).
    @Test func arityIsPartOfTheHash() {
        var rng = SeededGenerator(label: "poseidon-arity")
        for base in [[Fr.zero], [Fr.one], [rng.fr()]] {
            var outputs: [Fr] = []
            for n in 1...6 {
                outputs.append(Poseidon.hash(base + [Fr](repeating: .zero, count: n - 1)))
            }
            #expect(Set(outputs).count == 6)
        }
    }

    @Test func orderMatters() {
        var rng = SeededGenerator(label: "poseidon-order")
        for _ in 0..<16 {
            let a = rng.fr(), b = rng.fr()
            if a != b { #expect(Poseidon.hash(a, b) != Poseidon.hash(b, a)) }
        }
        #expect(Poseidon.hash(.one, .zero) != Poseidon.hash(.zero, .one))
        #expect(Poseidon.hash(Fr(1), Fr(2), Fr(3)) != Poseidon.hash(Fr(3), Fr(2), Fr(1)))
    }

    @Test func unsupportedAritiesTrap() async {
        await #expect(processExitsWith: .failure) { _ = Poseidon.hash([Fr]()) }
        await #expect(processExitsWith: .failure) { _ = Poseidon.hash([Fr](repeating: .one, count: 7)) }
        await #expect(processExitsWith: .failure) {
            _ = Poseidon.hash([Fr.one], parameters: .forArity(2))
        }
    }
}
