/// The endpoints, parsed from a request target (docs/INFERENCE.md, "URL scheme").
///
/// `{model}` is `NAME` (the version under the registry's default alias, `production`) or
/// `NAME@ALIAS`; `/versions/{v}` names a version by number instead.
enum Route: Hashable, Sendable {
    /// `GET /v2`
    case serverMetadata
    /// `GET /v2/health/live`
    case live
    /// `GET /v2/health/ready`
    case ready
    /// `GET /v2/models`
    case models
    /// `GET /v2/models/{model}[/versions/{v}]`
    case metadata(ModelReference)
    /// `GET /v2/models/{model}[/versions/{v}]/ready`
    case modelReady(ModelReference)
    /// `POST /v2/models/{model}[/versions/{v}]/infer`
    case infer(ModelReference)
    /// `GET /v2/models/{model}[/versions/{v}]/stats`
    case statistics(ModelReference)

    /// The most path segments a route has (`v2/models/M/versions/N/infer`); a longer path is
    /// none of the endpoints.
    static let maximumSegments = 6

    /// Parses a request target on its bytes: the path up to the first `?` (the query is ignored),
    /// split at `/` with empty segments skipped (`/v2//models` is `/v2/models`). Only the model
    /// name, its alias and a version number become strings; the path itself becomes one only
    /// for an error message.
    ///
    /// - Throws: `notFound` for a path that is none of the endpoints; `modelNotFound` for a
    ///   version that is not a number from 1.
    init(uri: String) throws(InferenceError) {
        var uri = uri
        let parsed: Result<Route, InferenceError> = uri.withUTF8 { bytes in
            do throws(InferenceError) {
                return .success(try Route(target: bytes))
            } catch {
                return .failure(error)
            }
        }
        self = try parsed.get()
    }

    /// The path of `uri`: everything before the first `?`.
    static func path(of uri: String) -> Substring {
        uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? uri[...]
    }

    /// ``init(uri:)`` on the target's bytes.
    init(target: UnsafeBufferPointer<UInt8>) throws(InferenceError) {
        let end = target.firstIndex(of: UInt8(ascii: "?")) ?? target.count
        let path = UnsafeBufferPointer(rebasing: target[..<end])
        // The non-empty segments, as ranges of `path`; one more than a route can have is enough to
        // know the path is too long.
        var segments = SegmentList()
        var start = 0
        for index in 0...path.count where index == path.count || path[index] == UInt8(ascii: "/") {
            if index > start {
                guard segments.count <= Self.maximumSegments else { break }
                segments.append(start..<index)
            }
            start = index + 1
        }
        func segment(_ number: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: path[segments[number]])
        }
        func notFound() -> InferenceError { Self.notFound(String(decoding: path, as: UTF8.self)) }

        guard segments.count >= 1, segment(0).equals("v2") else { throw notFound() }
        switch segments.count {
        case 1:
            self = .serverMetadata
            return
        case 2 where segment(1).equals("models"):
            self = .models
            return
        case 3 where segment(1).equals("health"):
            if segment(2).equals("live") {
                self = .live
                return
            }
            if segment(2).equals("ready") {
                self = .ready
                return
            }
        default:
            break
        }
        guard segments.count >= 3, segment(1).equals("models") else { throw notFound() }
        var reference = Self.reference(segment(2))
        var next = 3
        if segments.count > 3, segment(3).equals("versions") {
            guard segments.count >= 5, case .alias(nil) = reference.selector else { throw notFound() }
            let text = String(decoding: segment(4), as: UTF8.self)
            guard let number = Int(text), number >= 1 else {
                throw InferenceError(
                    .modelNotFound,
                    "model '\(reference.name)' has no version '\(text)'; versions are numbers from 1"
                )
            }
            reference.selector = .version(number)
            next = 5
        }
        switch segments.count - next {
        case 0: self = .metadata(reference)
        case 1 where segment(next).equals("ready"): self = .modelReady(reference)
        case 1 where segment(next).equals("infer"): self = .infer(reference)
        case 1 where segment(next).equals("stats"): self = .statistics(reference)
        default: throw notFound()
        }
    }

    /// `NAME` or `NAME@ALIAS` (the `@` possibly percent-encoded as `%40`, the only escape undone).
    private static func reference(_ segment: UnsafeBufferPointer<UInt8>) -> ModelReference {
        var text = String(decoding: segment, as: UTF8.self)
        if segment.contains(UInt8(ascii: "%")) { text = text.replacing("%40", with: "@") }
        guard let at = text.utf8.firstIndex(of: UInt8(ascii: "@")) else {
            return ModelReference(name: text, selector: .alias(nil))
        }
        return ModelReference(
            name: String(text[..<at]),
            selector: .alias(String(text[text.utf8.index(after: at)...]))
        )
    }

    static func notFound(_ path: String) -> InferenceError {
        InferenceError(.notFound, "no endpoint at \(path); see GET /v2/models and docs/INFERENCE.md")
    }
}

/// Up to ``Route/maximumSegments`` + 1 ranges, kept inline (no allocation per request).
private struct SegmentList {
    private var storage: (Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>) =
        (0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0)
    private(set) var count = 0

    mutating func append(_ range: Range<Int>) {
        precondition(self.count < 7, "a route has at most \(Route.maximumSegments) segments")
        withUnsafeMutableBytes(of: &self.storage) { raw in
            raw.bindMemory(to: Range<Int>.self)[self.count] = range
        }
        self.count += 1
    }

    subscript(index: Int) -> Range<Int> {
        precondition(index < self.count)
        return withUnsafeBytes(of: self.storage) { raw in raw.bindMemory(to: Range<Int>.self)[index] }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether these bytes are exactly `literal`'s.
    fileprivate func equals(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard self.count == count else { return false }
        for index in 0..<count where self[index] != literal.utf8Start[index] { return false }
        return true
    }
}
