import BN254
import R1CS

/// Gadgets: each adds constraints to a `ConstraintSystem` and has a native twin it must agree
/// with (Poseidon ↔ `Poseidon.hash`, Merkle ↔ `MerkleTree.root(leaf:index:path:)`).
extension ConstraintSystem {
    /// a · b as a new variable (one constraint).
    public func mul(_ a: LC, _ b: LC) -> LC {
        let w = witness(a.value * b.value)
        enforce(a, b, w)
        return w
    }

    /// x⁵, the Poseidon S-box: x², x⁴, x⁵ (three constraints).
    func sbox(_ x: LC) -> LC {
        let x2 = mul(x, x)
        let x4 = mul(x2, x2)
        return mul(x4, x)
    }

    /// circomlib Poseidon of 1…6 inputs: state [0, inputs…], full/partial/full rounds, output
    /// state[0]. Constants are added and the MDS applied as linear combinations (free in R1CS),
    /// so only S-boxes cost constraints: 3·(t·8 + partial rounds).
    public func poseidon(_ inputs: [LC]) -> LC {
        scope("poseidon\(inputs.count)") {
            let p = PoseidonParameters.forArity(inputs.count)
            let t = p.t
            var state = [constant(.zero)] + inputs
            let half = p.fullRounds / 2
            for round in 0..<(p.fullRounds + p.partialRounds) {
                for i in 0..<t { state[i] = state[i] + constant(p.roundConstants[round * t + i]) }
                let full = round < half || round >= half + p.partialRounds
                if full {
                    for i in 0..<t { state[i] = sbox(state[i]) }
                } else {
                    state[0] = sbox(state[0])
                }
                var next: [LC] = []
                next.reserveCapacity(t)
                for i in 0..<t {
                    var acc = p.mds[i][0] * state[0]
                    for j in 1..<t { acc = acc + p.mds[i][j] * state[j] }
                    next.append(acc)
                }
                state = next
            }
            return state[0]
        }
    }

    /// The `n` low bits of `x`, each constrained to be 0 or 1, and Σ 2ⁱ·bᵢ = x (n + 1
    /// constraints). Unsatisfiable when x ≥ 2ⁿ: this is the range check.
    public func bits(_ x: LC, count n: Int) -> [LC] {
        scope("bits\(n)") {
            let canonical = x.value.canonical
            var out: [LC] = []
            out.reserveCapacity(n)
            var sum = constant(.zero)
            var power = Fr.one
            for i in 0..<n {
                let b = witness(canonical.bit(i) ? .one : .zero)
                enforce(b, b - one, constant(.zero))
                sum = sum + power * b
                power = power.doubled()
                out.append(b)
            }
            enforceEqual(sum, x)
            return out
        }
    }

    /// x < 2⁶⁴.
    public func rangeCheck64(_ x: LC) { _ = scope("range64") { bits(x, count: 64) } }

    /// 1 if x = 0, else 0 (two constraints: x·inv = 1 − out, x·out = 0).
    public func isZero(_ x: LC) -> LC {
        scope("isZero") {
            let inv = witness(x.value.isZero ? .zero : x.value.inverse())
            let out = witness(x.value.isZero ? .one : .zero)
            enforce(x, inv, one - out)
            enforce(x, out, constant(.zero))
            return out
        }
    }

    /// 1 if a = b, else 0.
    public func isEqual(_ a: LC, _ b: LC) -> LC { scope("isEqual") { isZero(a - b) } }

    /// a ≠ b: (a − b) has an inverse (one constraint).
    public func enforceNotEqual(_ a: LC, _ b: LC) {
        scope("notEqual") {
            let d = a.value - b.value
            let inv = witness(d.isZero ? .zero : d.inverse())
            enforce(a - b, inv, one)
        }
    }

    /// (left, right) = sel ? (r, l) : (l, r) for a bit `sel` (one constraint).
    public func switcher(_ sel: LC, _ l: LC, _ r: LC) -> (LC, LC) {
        scope("switch") {
            let t = mul(sel, r - l)
            return (l + t, r - t)
        }
    }

    /// sel ? b : a for a bit `sel` (one constraint).
    public func select(_ sel: LC, _ a: LC, _ b: LC) -> LC {
        scope("select") { a + mul(sel, b - a) }
    }

    /// The root of a depth-`path.count` Merkle tree (node = H2(left, right)) from a leaf, its
    /// index bits (bottom-up) and its path.
    public func merkleRoot(leaf: LC, indexBits: [LC], path: [LC]) -> LC {
        scope("merkle\(path.count)") {
            precondition(indexBits.count == path.count)
            var acc = leaf
            for (bit, sibling) in zip(indexBits, path) {
                let (l, r) = switcher(bit, acc, sibling)
                acc = poseidon([l, r])
            }
            return acc
        }
    }
}
