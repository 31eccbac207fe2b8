/// The statement's fixed pairs (two nullifiers, two commitments) as two fields, not an array
/// whose length every reader must check. Iterates in order: first, then second.
public struct Pair<Element>: Sequence {
    public var first: Element
    public var second: Element
    public init(_ first: Element, _ second: Element) { self.first = first; self.second = second }

    public subscript(_ i: Int) -> Element {
        get {
            precondition(i == 0 || i == 1, "a pair has elements 0 and 1")
            return i == 0 ? first : second
        }
        set {
            precondition(i == 0 || i == 1, "a pair has elements 0 and 1")
            if i == 0 { first = newValue } else { second = newValue }
        }
    }

    public func map<T>(_ transform: (Element) throws -> T) rethrows -> Pair<T> {
        Pair<T>(try transform(first), try transform(second))
    }

    public func makeIterator() -> IndexingIterator<[Element]> { [first, second].makeIterator() }
}

extension Pair: Equatable where Element: Equatable {}
extension Pair: Hashable where Element: Hashable {}
extension Pair: Sendable where Element: Sendable {}
