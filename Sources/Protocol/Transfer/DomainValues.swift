import BN254

/// A spent note's nullifier (public input 3 or 4): unique per note, so a second spend of the
/// same note shows the same value and is refused. Not a commitment, not a root: the type says
/// which field element this is, where a bare `Fr` could be any of them.
public struct Nullifier: Hashable, Sendable, CustomStringConvertible {
    public let value: Fr
    public init(_ value: Fr) { self.value = value }
    public var description: String { value.description }
}

/// A new note's commitment (public input 5 or 6): the leaf the tree appends.
public struct NoteCommitment: Hashable, Sendable, CustomStringConvertible {
    public let value: Fr
    public init(_ value: Fr) { self.value = value }
    public var description: String { value.description }
}

/// A root of a commitment tree (public input 0): the anchor a transfer proves membership under.
public struct MerkleRoot: Hashable, Sendable, CustomStringConvertible {
    public let value: Fr
    public init(_ value: Fr) { self.value = value }
    public var description: String { value.description }
}

/// The statement's fixed pairs (two nullifiers, two commitments) as two fields, not an array
/// whose length every reader must check. Iterates in order: first, then second.
public struct Pair<Element>: Sequence {
    public var first: Element
    public var second: Element
    public init(_ first: Element, _ second: Element) { self.first = first; self.second = second }

    public subscript(_ i: Int) -> Element {
        precondition(i == 0 || i == 1, "a pair has elements 0 and 1")
        return i == 0 ? first : second
    }

    public func map<T>(_ transform: (Element) throws -> T) rethrows -> Pair<T> {
        Pair<T>(try transform(first), try transform(second))
    }

    public func makeIterator() -> IndexingIterator<[Element]> { [first, second].makeIterator() }
}

extension Pair: Equatable where Element: Equatable {}
extension Pair: Hashable where Element: Hashable {}
extension Pair: Sendable where Element: Sendable {}
