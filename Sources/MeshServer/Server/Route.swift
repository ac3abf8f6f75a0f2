/// The endpoints, parsed from a request path (docs/INFERENCE.md, "URL scheme").
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

    /// Parses `path` (without its query).
    ///
    /// - Throws: `notFound` for a path that is none of the endpoints; `modelNotFound` for a
    ///   version that is not a number.
    init(path: String) throws(InferenceError) {
        let segments = path.split(separator: "/")
        guard segments.first == "v2" else { throw Self.notFound(path) }
        switch segments.count {
        case 1:
            self = .serverMetadata
            return
        case 3 where segments[1] == "health" && segments[2] == "live":
            self = .live
            return
        case 3 where segments[1] == "health" && segments[2] == "ready":
            self = .ready
            return
        case 2 where segments[1] == "models":
            self = .models
            return
        default:
            break
        }
        guard segments.count >= 3, segments[1] == "models" else { throw Self.notFound(path) }
        let model = Self.decode(segments[2])
        var reference: ModelReference
        if let at = model.firstIndex(of: "@") {
            reference = ModelReference(name: String(model[..<at]), selector: .alias(String(model[model.index(after: at)...])))
        } else {
            reference = ModelReference(name: String(model), selector: .alias(nil))
        }
        var rest = segments[3...]
        if rest.first == "versions" {
            guard rest.count >= 2, case .alias(nil) = reference.selector else { throw Self.notFound(path) }
            let text = rest[rest.startIndex + 1]
            guard let number = Int(text), number >= 1 else {
                throw InferenceError(
                    .modelNotFound,
                    "model '\(reference.name)' has no version '\(text)'; versions are numbers from 1"
                )
            }
            reference.selector = .version(number)
            rest = rest.dropFirst(2)
        }
        switch rest.count {
        case 0: self = .metadata(reference)
        case 1 where rest.first == "ready": self = .modelReady(reference)
        case 1 where rest.first == "infer": self = .infer(reference)
        case 1 where rest.first == "stats": self = .statistics(reference)
        default: throw Self.notFound(path)
        }
    }

    /// Undoes the percent-encoding a client may apply to `@`.
    private static func decode(_ segment: Substring) -> Substring {
        guard segment.contains("%") else { return segment }
        return Substring(segment.replacing("%40", with: "@"))
    }

    private static func notFound(_ path: String) -> InferenceError {
        InferenceError(.notFound, "no endpoint at \(path); see GET /v2/models and docs/INFERENCE.md")
    }
}
